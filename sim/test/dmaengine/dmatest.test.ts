// The dmatest-like suite (sim/testing/drivers/dmatest.ts) on the bundled provider: memcpy
// threads on many channels on every shape, summaries in dmatest's format from virtual time
// (the same for a seed every run), dmatest's checks catching providers that copy short or not
// at all, timeouts, polled mode; a cyclic transfer's period callbacks and residue across pause
// and resume; -EPROBE_DEFER then a late controller; the PIO fallback without a channel.
import { describe, expect, test } from 'vitest';
import { machine, plug_dmac, plug_i2s, plug_node, load_platform, unbind_platform, run, run_for_ms, dmesg, codes,
  fill, read, pattern, compare, all_shapes, type ShapeName, type platform_device } from '../../testing/index.ts';
import { M } from '../../kernel/machine.ts';
import { ioremap, writel } from '../../include/linux/io.ts';
import { kmalloc, kfree, GFP_KERNEL } from '../../include/linux/slab.ts';
import { dma_alloc_coherent, dma_free_coherent } from '../../include/linux/dma-mapping.ts';
import { out } from '../../include/dmalab/ref.ts';
import { IS_ERR, PTR_ERR } from '../../include/linux/err.ts';
import { ENOSYS, EPROBE_DEFER } from '../../include/linux/errno.ts';
import { dma_request_chan, dma_request_channel, dma_release_channel, dma_cap_mask, dma_cap_set, DMA_MEMCPY,
  DMA_MEM_TO_DEV, DMA_SLAVE_BUSWIDTH_4_BYTES, DMA_IN_PROGRESS, DMA_PAUSED, type dma_chan } from '../../include/linux/dmaengine.ts';
import type { DmacOptions } from '../../hw/dmac.ts';
import { I2S_CTRL, I2S_FIFOCTL, I2S_TXDATA, I2S_CTRL_EN, I2S_CTRL_TXE, I2S_CTRL_TXDMAE } from '../../hw/i2s.ts';
import { dmac_driver } from '../../drivers/dma/dmac.ts';
import { dmatest_run, dmatest_channels, dmatest_cyclic, dmatest_client_driver, dmatest_client_copy,
  type dmatest_client } from '../../testing/drivers/dmatest.ts';

const SUMMARY = /^dmatest: (dma\dchan\d-copy\d): summary (\d+) tests, (\d+) failures \d+\.\d\d iops \d+ KB\/s \(0\)$/;

function controller(shape: ShapeName, o: DmacOptions = {}, seed?: number): platform_device {
  machine({ shape, seed });
  load_platform(dmac_driver);
  return plug_dmac(o).pdev;
}

/** Wrap the provider's memcpy prep (a provider bug, for dmatest to find). */
function break_prep(ctrl: platform_device, f: (len: number) => number): void {
  const chan0 = run(ctrl, () => dma_request_channel(memcpy_mask(), null, null))!;
  const dd = chan0.device, prep = dd.device_prep_dma_memcpy!;
  run(ctrl, () => dma_release_channel(chan0));
  dd.device_prep_dma_memcpy = (c, d, s, len, flags) => prep(c, d, s, f(len), flags);
}
function memcpy_mask() {
  const m = dma_cap_mask();
  dma_cap_set(DMA_MEMCPY, m);
  return m;
}

describe('memcpy threads', () => {
  test.each(all_shapes())('%s: two threads on each of four channels, 25 tests each: every one passes', (shape) => {
    const ctrl = controller(shape);
    const r = run(ctrl, () => dmatest_run({ max_channels: 4, threads_per_chan: 2, iterations: 25, seed: M.seed }));
    expect(r.channels.map((c) => c.chan_id)).toEqual([0, 1, 2, 3]);
    expect(r.threads.map((t) => t.name)).toEqual(['dma0chan0-copy0', 'dma0chan0-copy1', 'dma0chan1-copy0',
      'dma0chan1-copy1', 'dma0chan2-copy0', 'dma0chan2-copy1', 'dma0chan3-copy0', 'dma0chan3-copy1']);
    for (const t of r.threads) {
      expect(t.results.concat(t.mismatches)).toEqual([]);
      expect(t.summary.match(SUMMARY)!.slice(1)).toEqual([t.name, '25', '0']);
    }
    const lines = dmesg();
    expect(lines).toContain('dmatest: Added 2 threads using dma0chan3');
    expect(lines).toContain('dmatest: Started 2 threads using dma0chan0');
    expect(lines.filter((l) => SUMMARY.test(l))).toHaveLength(8);
    // The channels went back: all four can be had again.
    expect(run(ctrl, () => dmatest_run({ max_channels: 4, iterations: 1 })).channels).toHaveLength(4);
    expect(codes()).toEqual([]);
  });

  test('the threads overlap on the controller: eight channels take little more virtual time than one', () => {
    const ctrl = controller('x86');
    const t0 = M.clock.now;
    run(ctrl, () => dmatest_run({ max_channels: 1, iterations: 20, norandom: true }));
    const one = M.clock.now - t0;
    const t1 = M.clock.now;
    const r = run(ctrl, () => dmatest_run({ iterations: 20, norandom: true }));
    expect(r.threads).toHaveLength(8);
    expect(M.clock.now - t1).toBeLessThan(2 * one);
  });

  test('rates in virtual time: a seed gives the same summaries every run; another seed, other lengths', () => {
    const once = (seed: number) => {
      const ctrl = controller('arm64', {}, seed);
      return run(ctrl, () => dmatest_run({ max_channels: 2, iterations: 30, seed })).threads.map((t) => t.summary);
    };
    const a = once(5);
    expect(once(5)).toEqual(a);
    expect(once(6)).not.toEqual(a);
    expect(a[0]).toMatch(SUMMARY);
  });

  test('polled (no callback, dma_sync_wait): passes too', () => {
    const ctrl = controller('x86-iommu');
    const r = run(ctrl, () => dmatest_run({ max_channels: 1, iterations: 10, polled: true }));
    expect(r.threads[0]!.summary).toMatch(/summary 10 tests, 0 failures/);
    expect(codes()).toEqual([]);
  });
});

describe('what dmatest catches', () => {
  test('a provider that copies 8 bytes short: "not copied!" for each, a data error per test, the channel terminated', () => {
    const ctrl = controller('x86');
    break_prep(ctrl, (len) => (len > 8 ? len - 8 : len));
    const r = run(ctrl, () => dmatest_run({ max_channels: 1, iterations: 5, transfer_size: 1024, test_buf_size: 4096 }));
    const t = r.threads[0]!;
    expect(t.summary).toMatch(/summary 5 tests, 5 failures/);
    expect(t.results).toHaveLength(5);
    expect(t.results[0]).toMatch(/^dmatest: dma0chan0-copy0: result #1: 'data error' with src_off=0x[0-9a-f]+ dst_off=0x[0-9a-f]+ len=0x400 \(8\)$/);
    expect(t.mismatches).toHaveLength(40);
    expect(t.mismatches[0]).toMatch(/^dmatest: dma0chan0-copy0: dstbuf\[0x[0-9a-f]+\] not copied! Expected [cd][0-9a-f], got [23][0-9a-f]$/);
    expect(dmesg().filter((l) => l.includes('not copied!'))).toHaveLength(40);
  });

  test('one that completes without moving a byte: 32 mismatches shown per region, the rest "errors suppressed"', () => {
    const ctrl = controller('arm64');
    break_prep(ctrl, () => 0);
    const r = run(ctrl, () => dmatest_run({ max_channels: 1, iterations: 2, transfer_size: 100, test_buf_size: 4096 }));
    const t = r.threads[0]!;
    // A zero-length prep is refused: "prep error", as dmatest says it.
    expect(t.results[0]).toMatch(/'prep error' with .* len=0x64 \(0\)$/);
    expect(t.summary).toMatch(/summary 2 tests, 2 failures/);
  });

  test('a controller that never runs: "test timed out" for each test, then terminate_sync; switched on, all pass', () => {
    const ctrl = controller('x86-swiotlb');
    const base = ioremap(ctrl.resource[0]!.start, 0x1000);
    run(ctrl, () => writel(0, base + 0x030));
    const r = run(ctrl, () => dmatest_run({ max_channels: 1, iterations: 3, timeout: 20, test_buf_size: 4096 }));
    const t = r.threads[0]!;
    expect(t.results.map((l) => l.replace(/ with .*/, ''))).toEqual([1, 2, 3].map((n) =>
      `dmatest: dma0chan0-copy0: result #${n}: 'test timed out'`));
    expect(t.results[0]).toMatch(/\(0\)$/);
    // dmatest unmaps a timed-out test's buffers without terminating it ("leave it dangling",
    // dmatest.c says); the channel is terminated at the end, so the controller never reaches them.
    expect(t.summary).toMatch(/summary 3 tests, 3 failures/);
    run(ctrl, () => writel(1, base + 0x030));
    const again = run(ctrl, () => dmatest_run({ max_channels: 1, iterations: 5, test_buf_size: 4096 }));
    expect(again.threads[0]!.summary).toMatch(/summary 5 tests, 0 failures/);
  });
});

// ---- cyclic --------------------------------------------------------------------------------------

interface Ring { pdev: platform_device; chan: dma_chan; base: number; ring: number; h: number; len: number }
function i2s_ring(ctrl: { pdev: platform_device; hw: import('../../hw/dmac.ts').Dmac }): Ring {
  const { pdev } = plug_i2s(ctrl);
  const base = ioremap(pdev.resource[0]!.start, 0x1000);
  const chan = run(pdev, () => dma_request_chan(pdev.dev, 'tx'));
  expect(IS_ERR(chan)).toBe(false);
  const len = 4096, h = out(0);
  const ring = run(pdev, () => dma_alloc_coherent(chan.device.dev!, len, h, GFP_KERNEL));
  return { pdev, chan, base, ring, h: h.value, len };
}
function cyclic(r: Ring) {
  return run(r.pdev, () => dmatest_cyclic(r.chan, {
    buf: r.h, buf_len: r.len, period_len: 1024, direction: DMA_MEM_TO_DEV,
    config: { dst_addr: r.pdev.resource[0]!.start + I2S_TXDATA, dst_addr_width: DMA_SLAVE_BUSWIDTH_4_BYTES, dst_maxburst: 8 },
    run_ms: 24, pause_ms: 12,
    started: () => {
      writel(8, r.base + I2S_FIFOCTL);
      writel(I2S_CTRL_EN | I2S_CTRL_TXE | I2S_CTRL_TXDMAE, r.base + I2S_CTRL);
    },
  }))!;
}

describe('cyclic', () => {
  test.each(all_shapes())('%s: a callback per period; the residue moves round the ring, holds while paused (DMA_PAUSED), moves again', (shape) => {
    machine({ shape });
    load_platform(dmac_driver);
    const r = i2s_ring(plug_dmac());
    const c = cyclic(r);
    // 1024-byte periods of 256 frames at 48 kHz: 5.33 ms each, so about 4.5 periods in 24 ms.
    expect(c.pause_ret).toBe(0);
    expect(c.periods[0]).toBeGreaterThanOrEqual(4);
    expect(c.periods[0]).toBeLessThanOrEqual(5);
    expect(c.running.every((s) => s.status === DMA_IN_PROGRESS && s.residue > 0 && s.residue <= r.len)).toBe(true);
    expect(new Set(c.running.map((s) => s.residue)).size).toBe(4);
    expect(c.paused.map((s) => s.status)).toEqual([DMA_PAUSED, DMA_PAUSED]);
    expect(c.paused[1]!.residue).toBe(c.paused[0]!.residue);
    expect(c.periods[1]).toBe(c.periods[0]);
    expect(c.resumed.every((s) => s.status === DMA_IN_PROGRESS)).toBe(true);
    expect(c.resumed[0]!.residue).not.toBe(c.paused[1]!.residue);
    expect(c.periods[2] - c.periods[1]).toBeGreaterThanOrEqual(4);
    expect(c.after_terminate).toBe(0);
    run(r.pdev, () => {
      writel(0, r.base + I2S_CTRL);
      dma_free_coherent(r.chan.device.dev!, r.len, r.ring, r.h);
    });
    // The FIFO starves while the DMA is paused under a running frame clock, and after the
    // terminate: the serializer says so (dmalab lines, no diagnostic).
    expect(codes()).toEqual([]);
  });

  test('a controller that cannot pause: -ENOSYS, and the periods keep coming', () => {
    machine({ shape: 'arm64' });
    load_platform(dmac_driver);
    const r = i2s_ring(plug_dmac({ pause: false }));
    const c = cyclic(r);
    expect(c.pause_ret).toBe(-ENOSYS);
    expect(c.paused.map((s) => s.status)).toEqual([DMA_IN_PROGRESS, DMA_IN_PROGRESS]);
    expect(c.periods[1] - c.periods[0]).toBeGreaterThanOrEqual(2);
    expect(c.after_terminate).toBe(0);
  });
});

// ---- -EPROBE_DEFER, a late controller, PIO ------------------------------------------------------

function copies(pdev: platform_device): void {
  const c = pdev.dev.driver_data as dmatest_client;
  for (const len of [1, 100, 4096, 20000]) {
    const src = run(pdev, () => kmalloc(len, GFP_KERNEL)), dst = run(pdev, () => kmalloc(len, GFP_KERNEL));
    fill(src, pattern(len, len));
    fill(dst, new Uint8Array(len));
    expect(run(pdev, () => dmatest_client_copy(c, dst, src, len))).toBe(0);
    expect(compare(read(dst, len), pattern(len, len))).toBe(null);
    run(pdev, () => { kfree(src); kfree(dst); });
  }
}

describe('deferral and fallback', () => {
  test.each(all_shapes())('%s: no controller yet: the client defers; the controller probes late, the client binds and copies by DMA', (shape) => {
    machine({ shape });
    load_platform(dmatest_client_driver);
    const pdev = plug_node();
    expect(pdev.dev.driver).toBeFalsy();
    load_platform(dmac_driver);
    plug_dmac();
    expect(pdev.dev.driver?.name).toBe('dmatest-client');
    expect(dmesg()).toContain('dmatest-client dma-copy: using dma0chan0');
    copies(pdev);
    unbind_platform(pdev);
    expect(codes()).toEqual([]);
  });

  test('a slave channel whose controller is described but not probed: -EPROBE_DEFER, then the channel once it is', () => {
    machine({ shape: 'arm64-smmu' });
    const ctrl = plug_dmac();
    const { pdev } = plug_i2s(ctrl);
    expect(PTR_ERR(run(pdev, () => dma_request_chan(pdev.dev, 'tx')))).toBe(-EPROBE_DEFER);
    load_platform(dmac_driver);
    const chan = run(pdev, () => dma_request_chan(pdev.dev, 'tx'));
    expect(IS_ERR(chan)).toBe(false);
    run(pdev, () => dma_release_channel(chan));
  });

  test('every memcpy channel taken: -ENODEV, and the client copies by PIO', () => {
    const ctrl = controller('x86-iommu');
    const held = run(ctrl, () => {
      const all: dma_chan[] = [];
      for (let c; (c = dma_request_channel(memcpy_mask(), null, null));) all.push(c);
      return all;
    });
    expect(held).toHaveLength(8);
    load_platform(dmatest_client_driver);
    const pdev = plug_node();
    expect(pdev.dev.driver?.name).toBe('dmatest-client');
    expect(dmesg()).toContain('dmatest-client dma-copy: no DMA channel, copying by PIO');
    copies(pdev);
    // Nothing went through the controller: no DMA declared by it since.
    expect(M.trace.tail(200).some((l) => /device_dma_(read|write)/.test(l))).toBe(false);
    unbind_platform(pdev);
    run(ctrl, () => held.forEach((c) => dma_release_channel(c)));
    run_for_ms(1);
    expect(codes()).toEqual([]);
  });
});

void dmatest_channels;
