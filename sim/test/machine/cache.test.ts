// The cache model (DESIGN.md §6, reference/dma-mapping.md §7): on the non-coherent arm64 shapes
// stale data comes out of real cache lines, the syncs fix it, a DMA buffer sharing a line with a
// CPU-written field is corrupted by the partial-line clean+invalidate (§7.4); on x86 (coherent)
// nothing is stale; coherent allocations are never stale anywhere.
import { describe, expect, test } from 'vitest';
import { pattern, compare, codes, unbind } from '../../testing/index.ts';
import { setup, drv, ram_bytes, count_equal, caught, clean, type Lab } from '../rules/lab.ts';
import * as L from '../drivers/lab.ts';

const NONCOHERENT = ['arm64', 'arm64-smmu'] as const;
const COHERENT = ['x86', 'x86-iommu'] as const;

/** Receive 4 KiB into a buffer the CPU filled with 0xaa, reading it with or without
 *  dma_sync_single_for_cpu() first. Returns what the CPU read and what RAM holds. */
function rx(x: Lab, sync: boolean): { cpu: Uint8Array; ram: Uint8Array; want: Uint8Array } {
  const want = pattern(4096, 7);
  x.edu.dma_buf.set(want);
  const buf = drv(x, () => L.lab_alloc(4096));
  drv(x, () => L.lab_fill(buf, 0xaa, 4096));
  const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_FROM_DEVICE));
  expect(h).not.toBe(0);
  expect(drv(x, (l) => L.lab_xfer(l, h, 4096, true))).toBe(0);
  if (sync) drv(x, (l) => L.lab_sync_cpu(l, h, 4096, L.DMA_FROM_DEVICE));
  const cpu = drv(x, () => L.lab_read(buf, 4096));
  const ram = ram_bytes(x.m, x.m.mmu.lm_to_phys(buf), 4096);
  drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_FROM_DEVICE));
  drv(x, () => L.lab_free(buf));
  return { cpu, ram, want };
}

describe('a missing dma_sync_single_for_cpu()', () => {
  test.each(NONCOHERENT)('%s: the CPU reads the old bytes out of its cache while RAM has the device\'s', (shape) => {
    const x = setup(shape);
    const r = rx(x, false);
    // Every byte the CPU saw is the 0xaa it wrote before mapping: the lines it still held.
    expect(count_equal(r.cpu, 0xaa)).toBe(4096);
    expect(compare(r.ram, r.want)).toBeNull();
    expect(x.m.cache!.stats.hits).toBeGreaterThan(0);
    caught('CPU_ACCESS_DEVICE_OWNED', /CPU read 4096 bytes .* of a buffer the device owns/, ['CPU read at', 'Mapped at']);
  });

  test.each(NONCOHERENT)('%s: with the sync the CPU reads what the device wrote, and nothing is reported', (shape) => {
    const x = setup(shape);
    const r = rx(x, true);
    expect(compare(r.cpu, r.want)).toBeNull();
    unbind(x.pdev);
    clean();
  });

  test.each(COHERENT)('%s (coherent): no stale data even without the sync (the rule still reports the access)', (shape) => {
    const x = setup(shape);
    expect(x.m.cache).toBeNull();
    const r = rx(x, false);
    expect(compare(r.cpu, r.want)).toBeNull();
    expect(codes()).toEqual(['CPU_ACCESS_DEVICE_OWNED']);
  });
});

/** Reuse one TO_DEVICE mapping for two sends; the second time the CPU rewrites the buffer with
 *  or without handing it back and forth with the syncs. Returns what the device received. */
function tx_twice(x: Lab, sync: boolean): { first: Uint8Array; second: Uint8Array; a: Uint8Array; b: Uint8Array } {
  const a = pattern(4096, 1), b = pattern(4096, 2);
  const buf = drv(x, () => L.lab_alloc(4096));
  drv(x, () => L.lab_write(buf, a));
  const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_TO_DEVICE));
  expect(drv(x, (l) => L.lab_xfer(l, h, 4096, false))).toBe(0);
  const first = x.edu.dma_buf.slice();
  if (sync) drv(x, (l) => L.lab_sync_cpu(l, h, 4096, L.DMA_TO_DEVICE));
  drv(x, () => L.lab_write(buf, b));
  if (sync) drv(x, (l) => L.lab_sync_dev(l, h, 4096, L.DMA_TO_DEVICE));
  expect(drv(x, (l) => L.lab_xfer(l, h, 4096, false))).toBe(0);
  const second = x.edu.dma_buf.slice();
  drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_TO_DEVICE));
  drv(x, () => L.lab_free(buf));
  return { first, second, a, b };
}

describe('a missing dma_sync_single_for_device() after the CPU rewrote a TO_DEVICE buffer', () => {
  test.each(NONCOHERENT)('%s: the new data sits dirty in the cache; the device reads the old data from RAM', (shape) => {
    const x = setup(shape);
    const r = tx_twice(x, false);
    expect(compare(r.first, r.a)).toBeNull();
    expect(compare(r.second, r.a)).toBeNull();
    caught('CPU_ACCESS_DEVICE_OWNED', /CPU wrote 4096 bytes .* \[mapped with DMA_TO_DEVICE\]/, ['CPU wrote at', 'Mapped at']);
  });

  test.each(NONCOHERENT)('%s: sync_for_cpu, write, sync_for_device: the device reads the new data', (shape) => {
    const x = setup(shape);
    const r = tx_twice(x, true);
    expect(compare(r.second, r.b)).toBeNull();
    unbind(x.pdev);
    clean();
  });

  test.each(COHERENT)('%s (coherent): the device snoops the new data', (shape) => {
    const x = setup(shape);
    const r = tx_twice(x, false);
    expect(compare(r.second, r.b)).toBeNull();
  });
});

/** A 32-byte FROM_DEVICE buffer at the start of a 256-byte allocation and a u32 counter the CPU
 *  updates while the device owns the buffer: 32 bytes on (same line) or 128 bytes on. */
function shared_line(x: Lab, counter_off: number): { got: Uint8Array; want: Uint8Array; counter: Uint8Array } {
  const want = pattern(32, 9);
  x.edu.dma_buf.set(want);
  const p = drv(x, () => L.lab_alloc(256));
  drv(x, () => L.lab_fill(p, 0, 256));
  const h = drv(x, (l) => L.lab_map(l, p, 32, L.DMA_FROM_DEVICE));
  drv(x, () => L.lab_put32(p + counter_off, 0xc0ffee));
  expect(drv(x, (l) => L.lab_xfer(l, h, 32, true))).toBe(0);
  drv(x, (l) => L.lab_unmap(l, h, 32, L.DMA_FROM_DEVICE));
  const got = drv(x, () => L.lab_read(p, 32));
  const counter = drv(x, () => L.lab_read(p + counter_off, 4));
  drv(x, () => L.lab_free(p));
  return { got, want, counter };
}

describe('a DMA buffer sharing a cache line with a CPU-written field (§7.4)', () => {
  test.each(NONCOHERENT)('%s: unmap cleans the dirty partial line back over the device\'s data', (shape) => {
    const x = setup(shape);
    const r = shared_line(x, 32);
    // The device wrote its 32 bytes into RAM; the dirty line (zeros + the counter) was written
    // back over them by dcache_inval_poc's clean+invalidate of the partial line.
    expect(count_equal(r.got, 0)).toBe(32);
    expect(Array.from(r.counter)).toEqual([0xee, 0xff, 0xc0, 0]);
    caught('CACHELINE_SHARED', /CPU wrote .* in a cache line shared with a buffer the device owns .*\n.*ARCH_DMA_MINALIGN = 128/, ['CPU wrote at', 'Mapped at']);
  });

  test.each(NONCOHERENT)('%s: with the field ARCH_DMA_MINALIGN (128) bytes away, the data survives and nothing is reported', (shape) => {
    const x = setup(shape);
    const r = shared_line(x, 128);
    expect(compare(r.got, r.want)).toBeNull();
    expect(Array.from(r.counter)).toEqual([0xee, 0xff, 0xc0, 0]);
    unbind(x.pdev);
    clean();
  });

  test.each(NONCOHERENT)('%s: an eviction alone, long before unmap, writes the dirty shared line over the device\'s data in RAM', (shape) => {
    for (const off of [32, 128]) {
      const x = setup(shape);
      const want = pattern(32, 9);
      x.edu.dma_buf.set(want);
      const p = drv(x, () => L.lab_alloc(256));
      const other = drv(x, () => L.lab_alloc(512 * 1024));
      drv(x, () => L.lab_fill(p, 0, 256));
      const h = drv(x, (l) => L.lab_map(l, p, 32, L.DMA_FROM_DEVICE));
      drv(x, () => L.lab_put32(p + off, 0xc0ffee));
      expect(drv(x, (l) => L.lab_xfer(l, h, 32, true))).toBe(0);
      const phys = x.m.mmu.lm_to_phys(p);
      expect(compare(ram_bytes(x.m, phys, 32), want)).toBeNull();
      // The CPU streams through 512 KiB of other memory (4 x the cache): every line is evicted.
      drv(x, () => L.lab_read(other, 512 * 1024));
      expect(x.m.cache!.holds(phys)).toBe(false);
      if (off === 32) expect(count_equal(ram_bytes(x.m, phys, 32), 0)).toBe(32);
      else expect(compare(ram_bytes(x.m, phys, 32), want)).toBeNull();
    }
  });

  test.each([...COHERENT, 'x86-swiotlb'] as const)('%s (coherent): sharing a line is harmless and not reported', (shape) => {
    const x = setup(shape);
    const r = shared_line(x, 32);
    expect(compare(r.got, r.want)).toBeNull();
    unbind(x.pdev);
    clean();
  });
});

describe('coherent memory (dma_alloc_coherent)', () => {
  test.each(['x86', 'x86-iommu', 'x86-swiotlb', 'arm64', 'arm64-smmu'] as const)('%s: never stale, either way, with no sync at all', (shape) => {
    const x = setup(shape);
    const c = drv(x, (l) => L.lab_alloc_coherent(l, 4096));
    expect(c.cpu).not.toBe(0);
    // CPU -> device: the CPU's writes reach RAM at once (uncached on arm64).
    const out = pattern(4096, 3);
    drv(x, () => L.lab_write(c.cpu, out));
    expect(drv(x, (l) => L.lab_xfer(l, c.dma, 4096, false))).toBe(0);
    expect(compare(x.edu.dma_buf, out)).toBeNull();
    // Device -> CPU, read back with nothing in between, after the CPU had read the old data.
    const inn = pattern(4096, 4);
    x.edu.dma_buf.set(inn);
    expect(compare(drv(x, () => L.lab_read(c.cpu, 4096)), out)).toBeNull();
    expect(drv(x, (l) => L.lab_xfer(l, c.dma, 4096, true))).toBe(0);
    expect(compare(drv(x, () => L.lab_read(c.cpu, 4096)), inn)).toBeNull();
    if (x.m.cache) expect(x.m.cache.holds(x.m.mmu.translate(c.cpu))).toBe(false);
    drv(x, (l) => L.lab_free_coherent(l, 4096, c));
    unbind(x.pdev);
    clean();
  });
});

describe('scatter-gather: dma_sync_sg_for_cpu()', () => {
  /** Map 4 scattered pages (filled with 0xaa) FROM_DEVICE, let edu write the third one, read it
   *  with or without syncing the list first. */
  function sg_rx(shape: (typeof ALL_SHAPES)[number], sync: boolean) {
    const x = setup(shape);
    const all = drv(x, () => Array.from({ length: 8 }, () => L.lab_alloc(4096)));
    const pages = all.filter((_, i) => i % 2 === 0);
    drv(x, () => pages.forEach((p) => L.lab_fill(p, 0xaa, 4096)));
    const { sgl, count } = drv(x, (l) => L.lab_map_sg(l, pages, 4096, L.DMA_FROM_DEVICE));
    const segs = L.lab_sg_segs(sgl, count);
    const want = pattern(4096, 3);
    x.edu.dma_buf.set(want);
    const bus = count === 1 ? segs[0]!.dma + 2 * 4096 : segs[2]!.dma;
    expect(drv(x, (l) => L.lab_xfer(l, bus, 4096, true))).toBe(0);
    if (sync) drv(x, (l) => L.lab_sync_sg_cpu(l, sgl, 4, L.DMA_FROM_DEVICE));
    const got = drv(x, () => L.lab_read(pages[2]!, 4096));
    if (sync) drv(x, (l) => L.lab_sync_sg_dev(l, sgl, 4, L.DMA_FROM_DEVICE));
    drv(x, (l) => L.lab_unmap_sg(l, sgl, 4, L.DMA_FROM_DEVICE));
    // After unmap the CPU sees the device's data on every shape.
    expect(compare(drv(x, () => L.lab_read(pages[2]!, 4096)), want)).toBeNull();
    drv(x, () => all.forEach((p) => L.lab_free(p)));
    return { x, got, want };
  }
  const ALL_SHAPES = ['x86', 'x86-iommu', 'x86-swiotlb', 'arm64', 'arm64-smmu'] as const;

  test.each(ALL_SHAPES)('%s: without it the read is caught, and stale where the data sits elsewhere (cache or bounce slot)', (shape) => {
    const { x, got, want } = sg_rx(shape, false);
    const stale = shape === 'x86-swiotlb' || shape.startsWith('arm64');
    if (stale) expect(count_equal(got, 0xaa)).toBe(4096);
    else expect(compare(got, want)).toBeNull();
    caught('CPU_ACCESS_DEVICE_OWNED', /CPU read 4096 bytes/, ['CPU read at', 'Mapped at']);
    void x;
  });

  test.each(ALL_SHAPES)('%s: with it the CPU reads the device\'s data; syncing back and unmapping are clean', (shape) => {
    const { x, got, want } = sg_rx(shape, true);
    expect(compare(got, want)).toBeNull();
    unbind(x.pdev);
    clean();
  });
});
