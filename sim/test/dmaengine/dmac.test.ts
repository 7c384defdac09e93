// The DMA controller model (sim/hw/dmac.ts) with its provider (sim/drivers/dma/dmac.ts): a
// dmatest-like memcpy run on every shape, LLI chains the controller fetches itself, residue at
// each granularity, a controller without pause, bus errors, slave and cyclic flows to a FIFO.
import { describe, expect, test } from 'vitest';
import { machine, plug_platform, plug_dmac, load_platform, run, run_for_ms, dmesg, codes, has, all_shapes,
  type ShapeName, type platform_device } from '../../testing/index.ts';
import { M } from '../../kernel/machine.ts';
import { dma_request_chan_by_mask, dma_request_chan, dma_cap_mask, dma_cap_set, dma_get_slave_caps, dma_slave_caps_zero,
  dmaengine_prep_dma_memcpy, dmaengine_prep_slave_single, dmaengine_prep_dma_cyclic, dmaengine_submit,
  dma_async_issue_pending, dmaengine_tx_status, dma_tx_state_zero, dmaengine_pause, dmaengine_resume,
  dmaengine_slave_config, dmaengine_terminate_sync, DMA_MEMCPY, DMA_MEM_TO_DEV, DMA_DEV_TO_MEM, DMA_PREP_INTERRUPT,
  DMA_CTRL_ACK, DMA_COMPLETE, DMA_IN_PROGRESS, DMA_PAUSED, DMA_TRANS_NOERROR, DMA_TRANS_WRITE_FAILED,
  DMA_TRANS_READ_FAILED, DMA_RESIDUE_GRANULARITY_BURST, DMA_RESIDUE_GRANULARITY_SEGMENT,
  DMA_RESIDUE_GRANULARITY_DESCRIPTOR, DMA_SLAVE_BUSWIDTH_4_BYTES, type dma_chan, type dmaengine_result } from '../../include/linux/dmaengine.ts';
import { dma_map_single, dma_unmap_single, dma_mapping_error, DMA_TO_DEVICE, DMA_FROM_DEVICE } from '../../include/linux/dma-mapping.ts';
import type { device } from '../../include/linux/device.ts';
import { kmalloc, kfree, GFP_KERNEL } from '../../include/linux/slab.ts';
import { virt_to_phys } from '../../include/linux/io.ts';
import { ENOSYS } from '../../include/linux/errno.ts';
import { IS_ERR } from '../../include/linux/err.ts';
import { fill, read, pattern, compare } from '../../testing/index.ts';
import type { Dmac, DmacOptions } from '../../hw/dmac.ts';
import { dmac_driver } from '../../drivers/dma/dmac.ts';
import { dmatest_memcpy } from '../../testing/drivers/dmatest.ts';
import { Sink } from '../hw/sink.ts';

function rig(shape: ShapeName, o: DmacOptions = {}): { ctrl: platform_device; hw: Dmac; chan: dma_chan } {
  machine({ shape });
  load_platform(dmac_driver);
  const { pdev: ctrl, hw } = plug_dmac(o);
  expect(ctrl.dev.driver?.name).toBe('dmalab-dmac');
  const mask = dma_cap_mask();
  dma_cap_set(DMA_MEMCPY, mask);
  const chan = run(ctrl, () => dma_request_chan_by_mask(mask));
  expect(IS_ERR(chan)).toBe(false);
  return { ctrl, hw, chan };
}

const FLAGS = DMA_PREP_INTERRUPT | DMA_CTRL_ACK;

/** dma_map_single() and its dma_mapping_error() check, as a client does them. */
function map(dev: device, buf: number, len: number, dir: number): number {
  const h = dma_map_single(dev, buf, len, dir);
  expect(dma_mapping_error(dev, h)).toBe(0);
  return h;
}

describe('memcpy', () => {
  test.each(all_shapes())('%s: a dmatest-like run passes: every copy lands, nothing else is touched', (shape) => {
    const x = rig(shape);
    const r = run(x.ctrl, () => dmatest_memcpy(x.chan, 40, 16384, M.seed));
    expect(r.errors).toEqual([]);
    expect(r.failures).toBe(0);
    expect(dmesg().some((l) => /^dmatest: dma0chan0-copy0: summary 40 tests, 0 failures \d+\.\d\d iops \d+ KB\/s \(0\)$/.test(l))).toBe(true);
    expect(codes()).toEqual([]);
  });

  test('a 64 KiB copy runs as a chain of LLIs the controller fetches from memory itself', () => {
    const x = rig('arm64');
    const len = 4 * 16380 + 100;
    const src = run(x.ctrl, () => kmalloc(len, GFP_KERNEL)), dst = run(x.ctrl, () => kmalloc(len, GFP_KERNEL));
    fill(src, pattern(len, 3));
    const dev = x.ctrl.dev;
    let result: dmaengine_result | null = null;
    run(x.ctrl, () => {
      const s = map(dev, src, len, DMA_TO_DEVICE), d = map(dev, dst, len, DMA_FROM_DEVICE);
      const tx = dmaengine_prep_dma_memcpy(x.chan, d, s, len, FLAGS)!;
      tx.callback_result = (_p, r) => { result = r; };
      dmaengine_submit(tx);
      dma_async_issue_pending(x.chan);
      run_for_ms(1);
      dma_unmap_single(dev, d, len, DMA_FROM_DEVICE);
      dma_unmap_single(dev, s, len, DMA_TO_DEVICE);
    });
    expect(result).toEqual({ result: DMA_TRANS_NOERROR, residue: 0 });
    expect(compare(read(dst, len), pattern(len, 3))).toBe(null);
    // 16380 bytes per LLI at most (4095 words): five LLIs, the first loaded by the driver, four
    // fetched by the controller (16 bytes each).
    const fetches = M.trace.tail(400).filter((l) => /device_dma_read: .* size=16 /.test(l));
    expect(fetches).toHaveLength(4);
    run(x.ctrl, () => { kfree(src); kfree(dst); });
  });
});

describe('residue and pause', () => {
  const running = (o: DmacOptions) => {
    const x = rig('x86', o);
    const len = 65536;
    const src = run(x.ctrl, () => kmalloc(len, GFP_KERNEL)), dst = run(x.ctrl, () => kmalloc(len, GFP_KERNEL));
    const dev = x.ctrl.dev;
    const cookie = run(x.ctrl, () => {
      const s = map(dev, src, len, DMA_TO_DEVICE), d = map(dev, dst, len, DMA_FROM_DEVICE);
      const c = dmaengine_submit(dmaengine_prep_dma_memcpy(x.chan, d, s, len, FLAGS)!);
      dma_async_issue_pending(x.chan);
      return c;
    });
    return { ...x, cookie, len };
  };
  const residue_at = (x: ReturnType<typeof running>, ns: number) => {
    M.clock.advance_to(M.clock.now + ns);
    const st = dma_tx_state_zero();
    const s = run(x.ctrl, () => dmaengine_tx_status(x.chan, x.cookie, st));
    return { s, residue: st.residue };
  };

  test('burst granularity: the residue counts down within an LLI', () => {
    const x = running({ residue: 'burst' });
    const caps = dma_slave_caps_zero();
    expect(dma_get_slave_caps(x.chan, caps)).toBe(0);
    expect(caps.residue_granularity).toBe(DMA_RESIDUE_GRANULARITY_BURST);
    const a = residue_at(x, 5000), b = residue_at(x, 5000);
    expect(a.s).toBe(DMA_IN_PROGRESS);
    expect(a.residue).toBeLessThan(x.len);
    expect(b.residue).toBeLessThan(a.residue);
    expect((a.residue - b.residue) % 64).toBe(0);
  });

  test('segment granularity: it only changes when an LLI completes', () => {
    const x = running({ residue: 'segment' });
    const caps = dma_slave_caps_zero();
    dma_get_slave_caps(x.chan, caps);
    expect(caps.residue_granularity).toBe(DMA_RESIDUE_GRANULARITY_SEGMENT);
    const a = residue_at(x, 1000), b = residue_at(x, 1000);
    expect(a.residue).toBe(x.len);
    expect(b.residue).toBe(x.len);
    const c = residue_at(x, 16000);
    expect(c.residue).toBe(x.len - 16380);
  });

  test('descriptor granularity: no residue at all, only whether it is done', () => {
    const x = running({ residue: 'descriptor' });
    const caps = dma_slave_caps_zero();
    dma_get_slave_caps(x.chan, caps);
    expect(caps.residue_granularity).toBe(DMA_RESIDUE_GRANULARITY_DESCRIPTOR);
    expect(residue_at(x, 5000)).toEqual({ s: DMA_IN_PROGRESS, residue: 0 });
    expect(residue_at(x, 1e6).s).toBe(DMA_COMPLETE);
  });

  test('pause holds the residue (DMA_PAUSED); resume finishes; a controller that cannot halt has no pause', () => {
    const x = running({});
    residue_at(x, 5000);
    expect(run(x.ctrl, () => dmaengine_pause(x.chan))).toBe(0);
    const a = residue_at(x, 0), b = residue_at(x, 1e6);
    expect(a.s).toBe(DMA_PAUSED);
    expect(b.residue).toBe(a.residue);
    expect(run(x.ctrl, () => dmaengine_resume(x.chan))).toBe(0);
    expect(residue_at(x, 1e6).s).toBe(DMA_COMPLETE);
    const y = rig('x86', { pause: false });
    const caps = dma_slave_caps_zero();
    dma_get_slave_caps(y.chan, caps);
    expect([caps.cmd_pause, caps.cmd_resume, caps.cmd_terminate]).toEqual([false, false, true]);
    expect(run(y.ctrl, () => dmaengine_pause(y.chan))).toBe(-ENOSYS);
  });
});

describe('terminate', () => {
  test('terminate_sync mid-copy: what was moved stays, the rest is untouched, no callback; the channel runs again', () => {
    const x = rig('arm64');
    const len = 16380 * 2;
    const src = run(x.ctrl, () => kmalloc(len, GFP_KERNEL)), dst = run(x.ctrl, () => kmalloc(len, GFP_KERNEL));
    fill(src, pattern(len, 5));
    fill(dst, new Uint8Array(len));
    const dev = x.ctrl.dev;
    let called = 0;
    run(x.ctrl, () => {
      const s = map(dev, src, len, DMA_TO_DEVICE), d = map(dev, dst, len, DMA_FROM_DEVICE);
      const tx = dmaengine_prep_dma_memcpy(x.chan, d, s, len, FLAGS)!;
      tx.callback = () => called++;
      dmaengine_submit(tx);
      dma_async_issue_pending(x.chan);
      M.clock.advance_to(M.clock.now + 8000);
      dmaengine_terminate_sync(x.chan);
      run_for_ms(1);
      dma_unmap_single(dev, d, len, DMA_FROM_DEVICE);
      dma_unmap_single(dev, s, len, DMA_TO_DEVICE);
    });
    expect(called).toBe(0);
    const got = read(dst, len), want = pattern(len, 5);
    const moved = got.findIndex((b, i) => b !== want[i]);
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(16380);
    expect(got.subarray(moved + 64).every((b) => b === 0)).toBe(true);
    const again = run(x.ctrl, () => dmatest_memcpy(x.chan, 3, 4096, 7));
    expect(again.failures).toBe(0);
    expect(codes()).toEqual([]);
  });
});

describe('bus errors', () => {
  test.each(['x86-iommu', 'arm64-smmu'] as ShapeName[])('%s: a copy to an address not mapped for the controller faults; the channel stops, the result says so', (shape) => {
    const x = rig(shape);
    const len = 4096;
    const src = run(x.ctrl, () => kmalloc(len, GFP_KERNEL));
    let result: dmaengine_result | null = null;
    run(x.ctrl, () => {
      const s = map(x.ctrl.dev, src, len, DMA_TO_DEVICE);
      const tx = dmaengine_prep_dma_memcpy(x.chan, 0x10000000, s, len, FLAGS)!;
      tx.callback_result = (_p, r) => { result = r; };
      dmaengine_submit(tx);
      dma_async_issue_pending(x.chan);
      run_for_ms(1);
      dma_unmap_single(x.ctrl.dev, s, len, DMA_TO_DEVICE);
    });
    expect(has('IOMMU_FAULT')).toBe(true);
    expect(result!.result).toBe(DMA_TRANS_WRITE_FAILED);
    expect(dmesg().some((l) => l.endsWith('channel 0: bus error, transfer stopped'))).toBe(true);
  });

  test('without an IOMMU the access happens and dmalab reports it: memory not mapped for the controller', () => {
    const x = rig('arm64');
    const len = 256;
    const buf = run(x.ctrl, () => kmalloc(len, GFP_KERNEL)), other = run(x.ctrl, () => kmalloc(len, GFP_KERNEL));
    run(x.ctrl, () => {
      const s = map(x.ctrl.dev, buf, len, DMA_TO_DEVICE);
      // The destination is the bus address of memory nobody mapped (as a driver that skipped
      // map() for it would pass): the controller reaches it, dmalab says so.
      const tx = dmaengine_prep_dma_memcpy(x.chan, virt_to_phys(other) + M.shape.bus_offset, s, len, FLAGS)!;
      dmaengine_submit(tx);
      dma_async_issue_pending(x.chan);
      run_for_ms(1);
      dma_unmap_single(x.ctrl.dev, s, len, DMA_TO_DEVICE);
    });
    expect(has('DEVICE_ACCESS_UNMAPPED')).toBe(true);
  });
});

describe('slave and cyclic flows', () => {
  test('to a FIFO: each word written at the one register, as the request line asks', () => {
    const x = rig('x86');
    const sink = new Sink(x.hw, 3);
    const client = plug_platform(sink, { dmas: [[x.ctrl, 3]], 'dma-names': ['tx'] });
    const len = 1024;
    const buf = run(x.ctrl, () => kmalloc(len, GFP_KERNEL));
    fill(buf, pattern(len, 9));
    let done = 0;
    run(client, () => {
      const tx = dma_request_chan(client.dev, 'tx');
      expect(IS_ERR(tx)).toBe(false);
      expect(dmaengine_slave_config(tx, { dst_addr: client.resource[0]!.start, dst_addr_width: DMA_SLAVE_BUSWIDTH_4_BYTES, dst_maxburst: 8 })).toBe(0);
      const h = map(tx.device.dev!, buf, len, DMA_TO_DEVICE);
      const d = dmaengine_prep_slave_single(tx, h, len, DMA_MEM_TO_DEV, FLAGS)!;
      d.callback = () => done++;
      dmaengine_submit(d);
      dma_async_issue_pending(tx);
      run_for_ms(1);
      dma_unmap_single(tx.device.dev!, h, len, DMA_TO_DEVICE);
    });
    expect(done).toBe(1);
    expect(compare(Uint8Array.from(sink.got), pattern(len, 9))).toBe(null);
  });

  test('cyclic from a FIFO: a callback per period until terminate_sync', () => {
    const x = rig('arm64-smmu');
    const sink = new Sink(x.hw, 5);
    const client = plug_platform(sink, { dmas: [[x.ctrl, 5]], 'dma-names': ['rx'] });
    const len = 4096;
    const buf = run(x.ctrl, () => kmalloc(len, GFP_KERNEL));
    let periods = 0;
    run(client, () => {
      const rx = dma_request_chan(client.dev, 'rx');
      dmaengine_slave_config(rx, { src_addr: client.resource[0]!.start, src_addr_width: DMA_SLAVE_BUSWIDTH_4_BYTES, src_maxburst: 4 });
      const h = map(rx.device.dev!, buf, len, DMA_FROM_DEVICE);
      const d = dmaengine_prep_dma_cyclic(rx, h, len, 1024, DMA_DEV_TO_MEM, FLAGS)!;
      d.callback = () => periods++;
      dmaengine_submit(d);
      dma_async_issue_pending(rx);
      run_for_ms(1);
      dmaengine_terminate_sync(rx);
      const at = periods;
      run_for_ms(1);
      expect(periods).toBe(at);
      dma_unmap_single(rx.device.dev!, h, len, DMA_FROM_DEVICE);
    });
    expect(periods).toBeGreaterThan(4);
    void DMA_TRANS_READ_FAILED;
  });
});
