// The playground run of exercise 13 (npm run try -- 13 [--shape arm64]): the bundled DMA
// controller and its provider, the serializer wired to two of its request lines, dsai bound,
// 50 ms of playback of a ramp (refilled every half period, the pointer printed beside the real
// position), a pause and a resume, then stop, close and unbind.
import type { Playground } from '../try.ts';
import type * as Solution from '../../solutions/13-dmaengine-cyclic/driver.ts';
import { plug_i2s, plug_dmac, load_platform, unbind_platform, call, run_for_ms } from '#sim/testing';
import { spin_lock_irqsave, spin_unlock_irqrestore } from '#linux/spinlock';
import { dmac_driver } from '../../sim/drivers/dma/dmac.ts';

export default function workload(t: Playground, drv: typeof Solution): void {
  load_platform(dmac_driver);
  const ctrl = plug_dmac();
  load_platform(drv.dsai_driver);
  const { pdev, i2s } = plug_i2s(ctrl, { tx: 6, rx: 7 });
  if (!pdev.dev.driver) {
    t.log('dsai did not bind (see its probe in dmesg)');
    return;
  }
  const d = pdev.dev.driver_data as Solution.dsai;
  const s = d.streams[0]!;
  const ramp = new Uint8Array(1 << 16).map((_, i) => i & 0xff);
  let sent = 0;
  const v = (f: () => unknown) => { const o = call(pdev, f); return o.ok ? o.value : `crashed (${o.halt})`; };
  t.log(`pcm_open(s, 4096, 1024) = ${v(() => drv.pcm_open(s, 4096, 1024))}`);
  const feed = () => { const n = v(() => drv.pcm_write(s, ramp.subarray(sent, sent + 4096))); if (typeof n === 'number' && n > 0) sent += n; return n; };
  feed();
  t.log(`pcm_start(s) = ${v(() => drv.pcm_start(s))}`);
  for (let i = 0; i < 10; i++) {
    run_for_ms(2.67);
    const real = ((i2s.codec.played.length + i2s.tx_count) * 4) % 4096;
    t.log(`t=${(t.machine.clock.now / 1e6).toFixed(2)} ms  pointer ${v(() => drv.pcm_pointer(s))}  DMA at ${real}  wrote ${feed()}`);
  }
  t.log(`pcm_pause(s, true) = ${v(() => drv.pcm_pause(s, true))}; 10 ms later pcm_pause(s, false) = ${(run_for_ms(10), v(() => drv.pcm_pause(s, false)))}`);
  run_for_ms(5);
  call(pdev, () => { const f = spin_lock_irqsave(s.lock); drv.pcm_stop(s); spin_unlock_irqrestore(s.lock, f); });
  call(pdev, () => drv.pcm_close(s));
  t.log(`played ${i2s.codec.played.length} frames, ${i2s.underruns} underruns`);
  unbind_platform(pdev);
  unbind_platform(ctrl.pdev);
}
