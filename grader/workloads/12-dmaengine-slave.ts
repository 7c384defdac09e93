// The playground run of exercise 12 (npm run try -- 12 [--shape arm64]): the bundled DMA
// controller and its provider, the UART wired to two of its request lines, duart bound (probe
// takes the "rx" and "tx" channels), a line sent by DMA, a short message received (the receive
// timeout ends it mid-buffer: residue, then the FIFO drained), and unbind.
import type { Playground } from '../try.ts';
import type * as Solution from '../../solutions/12-dmaengine-slave/driver.ts';
import { kmalloc, kfree, GFP_KERNEL } from '#sim';
import { fill, read, plug_uart, plug_dmac, load_platform, unbind_platform, call, run_for_ms } from '#sim/testing';
import { dmac_driver } from '../../sim/drivers/dma/dmac.ts';

export default function workload(t: Playground, drv: typeof Solution): void {
  load_platform(dmac_driver);
  const ctrl = plug_dmac();
  load_platform(drv.duart_driver);
  const { pdev, uart } = plug_uart(ctrl, { rx: 3, tx: 4 });
  if (!pdev.dev.driver) {
    t.log('duart did not bind (see its probe in dmesg)');
    return;
  }
  const u = pdev.dev.driver_data as Solution.duart;
  t.log(`channels: tx ${u.tx?.name ?? 'none (PIO)'}, rx ${u.rx?.name ?? 'none (PIO)'}`);
  const text = new TextEncoder().encode('hello from duart, by DMA\r\n');
  const buf = kmalloc(4096, GFP_KERNEL);
  fill(buf, text);
  const w = call(pdev, () => drv.duart_write(u, buf, text.length));
  run_for_ms(text.length * uart.char_ns() / 1e6 + 1);
  t.log(`duart_write(u, buf, ${text.length}) = ${w.ok ? w.value : w.halt}; the far end heard "${new TextDecoder().decode(Uint8Array.from(uart.remote.heard)).trim()}"`);
  uart.remote.send(new TextEncoder().encode('a reply of 37 characters, then quiet.'), 1e6);
  const r = call(pdev, () => drv.duart_read(u, buf, 4096, 100));
  const n = r.ok ? r.value : 0;
  t.log(`duart_read(u, buf, 4096, 100) = ${r.ok ? r.value : r.halt}${n > 0 ? `: "${new TextDecoder().decode(read(buf, n))}"` : ''}`);
  unbind_platform(pdev);
  kfree(buf);
  unbind_platform(ctrl.pdev);
}
