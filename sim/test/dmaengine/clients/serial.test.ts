// Exercise 12's client sketch (clients/serial.ts) on the bundled provider and the UART model:
// RX by DMA with the receive timeout and a partial residue, full buffers by callback, TX by
// slave_sg, on every shape and with the controller coherent or not, behind the IOMMU or not;
// -EPROBE_DEFER until the controller probes; PIO when there is no channel; RX by PIO when the
// controller cannot give a residue; remove in the middle of both transfers, clean.
import { describe, expect, test } from 'vitest';
import { machine, plug_uart, plug_dmac, load_platform, unbind_platform, run, run_for_ms, dmesg, codes, explain, pattern,
  all_shapes, type ShapeName, type DmacOptions, type DtNode, type Uart, type platform_device } from '../../../testing/index.ts';
import { M } from '../../../kernel/machine.ts';
import { dmac_driver } from '../../../drivers/dma/dmac.ts';
import { dserial_driver, dserial_write, dserial_tx_empty, DSERIAL_BAUD, type dserial } from './serial.ts';

function rig(shape: ShapeName, o: { dma?: boolean; dmac?: DmacOptions; ctrl_node?: DtNode; seed?: number } = {}) {
  machine({ shape, seed: o.seed });
  let ctrl: platform_device | null = null;
  let uart: Uart, pdev: platform_device;
  load_platform(dserial_driver);
  if (o.dma ?? true) {
    load_platform(dmac_driver);
    const d = plug_dmac(o.dmac, o.ctrl_node);
    ctrl = d.pdev;
    ({ pdev, uart } = plug_uart(d));
  } else {
    ({ pdev, uart } = plug_uart());
  }
  expect(pdev.dev.driver?.name).toBe('dserial');
  return { ctrl, pdev, uart, d: pdev.dev.driver_data as dserial };
}

/** Let the line run until the far end's queue is sent, then one more receive timeout. */
function settle(uart: Uart): void {
  run_for_ms(uart.remote.pending * uart.char_ns() / 1e6 + 1);
}

describe('exercise 12 sketch: a UART driver with DMA', { timeout: 60_000 }, () => {
  test.each(all_shapes())('%s: RX by DMA (timeout with a partial residue, full buffers by callback), TX by slave_sg, clean remove', (shape) => {
    const { pdev, uart, d } = rig(shape, { seed: 3 });
    const name = pdev.dev.init_name;
    expect(dmesg()).toEqual(expect.arrayContaining([`dserial ${name}: DMA channel TX dma0chan0`, `dserial ${name}: DMA channel RX dma0chan1`]));
    expect(uart.char_ns()).toBe(Math.round(1e9 * 10 * 16 * (104 / 64) / 24e6));
    expect(Math.abs(24e6 / (16 * 104 / 64) - DSERIAL_BAUD) / DSERIAL_BAUD).toBeLessThan(0.01);
    // 100 characters: bursts of 8 take 88 into buffer A; the timeout finds the residue, takes
    // those 88 and the 12 in the FIFO, and starts buffer B.
    uart.remote.send(pattern(100, 1));
    settle(uart);
    expect(d.port.rx).toEqual([...pattern(100, 1)]);
    expect(d.rx.use_b).toBe(true);
    expect(d.rx.running).toBe(true);
    // 5000 more: buffer B fills (a callback), then A takes the rest and the timeout finds it.
    uart.remote.send(pattern(5000, 2));
    settle(uart);
    expect(d.port.rx.length).toBe(5100);
    expect(d.port.rx.slice(100)).toEqual([...pattern(5000, 2)]);
    expect(d.port.icount.overrun).toBe(0);
    expect(uart.overruns).toBe(0);
    // TX: 4500 characters, a 4096-byte DMA buffer then the rest from the callback's refill.
    run(pdev, () => dserial_write(d, pattern(4500, 3)));
    run_for_ms(4500 * uart.char_ns() / 1e6 + 1);
    expect(run(pdev, () => dserial_tx_empty(d))).toBe(true);
    expect(uart.remote.heard).toEqual([...pattern(4500, 3)]);
    unbind_platform(pdev);
    expect(codes(), explain()).toEqual([]);
  });

  test.each([[true, true], [true, false], [false, true], [false, false]])(
    'arm64-smmu, controller dma-coherent=%s iommus=%s: the same traffic, clean', (coherent, iommu) => {
      const { pdev, uart, d } = rig('arm64-smmu', { ctrl_node: { 'dma-coherent': coherent, iommus: iommu } });
      uart.remote.echo = true;
      run(pdev, () => dserial_write(d, pattern(5000, 4)));
      run_for_ms(2 * 5000 * uart.char_ns() / 1e6 + 2);
      expect(uart.remote.heard).toEqual([...pattern(5000, 4)]);
      expect(d.port.rx).toEqual([...pattern(5000, 4)]);
      unbind_platform(pdev);
      expect(codes(), explain()).toEqual([]);
    });

  test('the controller described but not yet probed: -EPROBE_DEFER, and the driver core probes again when it is', () => {
    machine({ shape: 'arm64' });
    load_platform(dserial_driver);
    const ctrl = plug_dmac();
    const { pdev, uart } = plug_uart(ctrl);
    expect(pdev.dev.driver).toBeFalsy();
    load_platform(dmac_driver);
    expect(pdev.dev.driver?.name).toBe('dserial');
    const d = pdev.dev.driver_data as dserial;
    expect(d.rx.chan).not.toBe(null);
    uart.remote.send(pattern(50, 5));
    settle(uart);
    expect(d.port.rx).toEqual([...pattern(50, 5)]);
    expect(codes()).toEqual([]);
  });

  test('no "dmas": PIO both ways, by the RX, RX-timeout and TX interrupts', () => {
    const { pdev, uart, d } = rig('x86', { dma: false });
    expect(dmesg()).toContain(`dserial ${pdev.dev.init_name}: no DMA channel, using PIO`);
    expect(d.tx.chan).toBe(null);
    uart.remote.send(pattern(1000, 6));
    run(pdev, () => dserial_write(d, pattern(1000, 7)));
    run_for_ms(1000 * uart.char_ns() / 1e6 + 1);
    expect(d.port.rx).toEqual([...pattern(1000, 6)]);
    expect(uart.remote.heard).toEqual([...pattern(1000, 7)]);
    expect(uart.overruns).toBe(0);
    unbind_platform(pdev);
    expect(codes()).toEqual([]);
  });

  test('a controller without residue: RX DMA given back (RX by PIO), TX still by DMA', () => {
    const { pdev, uart, d } = rig('arm64', { dmac: { residue: 'descriptor' } });
    expect(dmesg()).toContain(`dserial ${pdev.dev.init_name}: RX DMA disabled - no residue processing`);
    expect(d.rx.chan).toBe(null);
    expect(d.tx.chan).not.toBe(null);
    uart.remote.echo = true;
    run(pdev, () => dserial_write(d, pattern(700, 8)));
    run_for_ms(2 * 700 * uart.char_ns() / 1e6 + 2);
    expect(d.port.rx).toEqual([...pattern(700, 8)]);
    unbind_platform(pdev);
    expect(codes()).toEqual([]);
  });

  test('remove in the middle of an RX buffer and a TX transfer: both stopped before the buffers go, nothing after', () => {
    const { pdev, uart, d } = rig('arm64-smmu');
    uart.remote.send(pattern(3000, 9));
    run(pdev, () => dserial_write(d, pattern(3000, 10)));
    run_for_ms(10);
    expect(d.tx.queued).toBe(true);
    unbind_platform(pdev);
    const at = M.trace.tail(5000).filter((l) => l.includes('device_dma_')).length;
    run_for_ms(20);
    expect(M.trace.tail(5000).filter((l) => l.includes('device_dma_')).length).toBe(at);
    expect(codes(), explain()).toEqual([]);
  });
});
