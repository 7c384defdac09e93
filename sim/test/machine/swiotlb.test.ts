// swiotlb (DESIGN.md §7, reference/dma-mapping.md §5): bounce copies by direction at map, sync
// and unmap; a missing sync breaks even on coherent x86 when every mapping bounces; a full pool
// gives "swiotlb buffer is full" and a mapping error, which a careful driver survives. Shapes:
// x86-swiotlb (swiotlb=force) and arm64 when the buffer is beyond edu's 28-bit reach.
import { describe, expect, test } from 'vitest';
import { pattern, compare, codes, unbind, type MachineOptions, type ShapeName } from '../../testing/index.ts';
import { setup, drv, ram_bytes, count_equal, caught, clean, type Lab } from '../rules/lab.ts';
import * as L from '../drivers/lab.ts';
import { DMA_MAPPING_ERROR } from '../../index.ts';

/** Machines where edu's streaming mappings bounce. */
const BOUNCING: [ShapeName, MachineOptions][] = [['x86-swiotlb', {}], ['arm64', { placement: 'high' }]];

function in_pool(x: Lab, bus: number): boolean {
  const sw = x.m.swiotlb!;
  const phys = bus - x.m.shape.bus_offset;
  return phys >= sw.base && phys < sw.base + sw.size;
}

describe.each(BOUNCING)('%s %o: bounce copies by direction', (shape, opts) => {
  test('map copies the buffer into its slot whatever the direction; the device\'s write stays there until sync_for_cpu', () => {
    const x = setup(shape, {}, opts);
    const want = pattern(4096, 5);
    x.edu.dma_buf.set(want);
    const buf = drv(x, () => L.lab_alloc(4096));
    const orig = x.m.mmu.lm_to_phys(buf);
    drv(x, () => L.lab_fill(buf, 0xaa, 4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_FROM_DEVICE));
    expect(in_pool(x, h)).toBe(true);
    const tlb = h - x.m.shape.bus_offset;
    expect(tlb).not.toBe(orig);
    expect(count_equal(ram_bytes(x.m, tlb, 4096), 0xaa)).toBe(4096);
    const before = ram_bytes(x.m, orig, 4096);
    expect(drv(x, (l) => L.lab_xfer(l, h, 4096, true))).toBe(0);
    // The device wrote the slot; the buffer itself is untouched.
    expect(compare(ram_bytes(x.m, tlb, 4096), want)).toBeNull();
    expect(compare(ram_bytes(x.m, orig, 4096), before)).toBeNull();
    drv(x, (l) => L.lab_sync_cpu(l, h, 4096, L.DMA_FROM_DEVICE));
    expect(compare(drv(x, () => L.lab_read(buf, 4096)), want)).toBeNull();
    drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_FROM_DEVICE));
    expect(x.m.swiotlb!.used).toBe(0);
    drv(x, () => L.lab_free(buf));
    unbind(x.pdev);
    clean();
  });

  test('a missing sync_for_cpu: the CPU reads its own old bytes (the slot was never copied back)', () => {
    const x = setup(shape, {}, opts);
    x.edu.dma_buf.set(pattern(4096, 5));
    const buf = drv(x, () => L.lab_alloc(4096));
    drv(x, () => L.lab_fill(buf, 0xaa, 4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_FROM_DEVICE));
    expect(drv(x, (l) => L.lab_xfer(l, h, 4096, true))).toBe(0);
    expect(count_equal(drv(x, () => L.lab_read(buf, 4096)), 0xaa)).toBe(4096);
    caught('CPU_ACCESS_DEVICE_OWNED', /CPU read 4096 bytes/, ['CPU read at', 'Mapped at']);
  });

  test('unmap of a FROM_DEVICE mapping copies the slot back (no sync needed before unmap)', () => {
    const x = setup(shape, {}, opts);
    const want = pattern(4096, 6);
    x.edu.dma_buf.set(want);
    const buf = drv(x, () => L.lab_alloc(4096));
    expect(drv(x, (l) => L.lab_rx(l, buf, 4096))).toBe(0);
    expect(compare(drv(x, () => L.lab_read(buf, 4096)), want)).toBeNull();
    drv(x, () => L.lab_free(buf));
    unbind(x.pdev);
    clean();
  });

  test('TO_DEVICE: the CPU\'s write after map reaches the device only through sync_for_device', () => {
    const x = setup(shape, {}, opts);
    const a = pattern(4096, 1), b = pattern(4096, 2);
    const buf = drv(x, () => L.lab_alloc(4096));
    drv(x, () => L.lab_write(buf, a));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_TO_DEVICE));
    expect(in_pool(x, h)).toBe(true);
    // Without the syncs the slot keeps the old data.
    drv(x, () => L.lab_write(buf, b));
    expect(drv(x, (l) => L.lab_xfer(l, h, 4096, false))).toBe(0);
    expect(compare(x.edu.dma_buf, a)).toBeNull();
    expect(codes()).toEqual(['CPU_ACCESS_DEVICE_OWNED']);
    // sync_for_cpu(TO_DEVICE) copies nothing back; sync_for_device copies the buffer in.
    drv(x, (l) => L.lab_sync_cpu(l, h, 4096, L.DMA_TO_DEVICE));
    drv(x, () => L.lab_write(buf, b));
    drv(x, (l) => L.lab_sync_dev(l, h, 4096, L.DMA_TO_DEVICE));
    expect(drv(x, (l) => L.lab_xfer(l, h, 4096, false))).toBe(0);
    expect(compare(x.edu.dma_buf, b)).toBeNull();
    drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_TO_DEVICE));
    expect(compare(drv(x, () => L.lab_read(buf, 4096)), b)).toBeNull();
  });
});

test('arm64 with the buffer within 28 bits: no bounce, the bus address is the physical one plus the bridge offset', () => {
  const x = setup('arm64');
  const buf = drv(x, () => L.lab_alloc(4096));
  const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_TO_DEVICE));
  expect(in_pool(x, h)).toBe(false);
  expect(h).toBe(x.m.mmu.lm_to_phys(buf) + x.m.shape.bus_offset);
  expect(x.m.shape.bus_offset).not.toBe(0);
  drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_TO_DEVICE));
  expect(x.m.swiotlb!.used).toBe(0);
});

describe.each(BOUNCING)('%s %o: a full pool', (shape, opts) => {
  // 128 slots of 2 KiB: 64 page-sized mappings.
  const small = { ...opts, swiotlb_slots: 128 };

  test('"swiotlb buffer is full" and a mapping error; the driver that checks unwinds and goes on', () => {
    const x = setup(shape, {}, small);
    expect(x.m.swiotlb!.nslabs).toBe(128);
    const bufs = drv(x, () => Array.from({ length: 70 }, () => L.lab_alloc(4096)));
    const r = drv(x, (l) => L.lab_map_until_full(l, bufs, 4096, L.DMA_TO_DEVICE));
    expect(r).toEqual({ mapped: 64, failed: true });
    const d = caught('SWIOTLB_FULL', /^edu_lab 0000:00:03\.0: swiotlb buffer is full \(sz: 4096 bytes\), total 128 \(slots\), used 128 \(slots\)$/);
    expect(d.origin).toBe('kernel');
    expect(d.sites.map((s) => [s.label, s.site.file])).toEqual([['Mapped at', 'sim/test/drivers/lab.ts']]);
    expect(x.m.swiotlb!.used).toBe(0);
    // The pool is free again: the next transfer works.
    const want = pattern(4096, 8);
    x.edu.dma_buf.set(want);
    expect(drv(x, (l) => L.lab_rx(l, bufs[0]!, 4096))).toBe(0);
    expect(compare(drv(x, () => L.lab_read(bufs[0]!, 4096)), want)).toBeNull();
    drv(x, () => bufs.forEach((b) => L.lab_free(b)));
    unbind(x.pdev);
    expect(codes()).toEqual(['SWIOTLB_FULL']);
  });

  test('a driver that ignores the error hands the device DMA_MAPPING_ERROR', () => {
    const x = setup(shape, {}, small);
    const bufs = drv(x, () => Array.from({ length: 65 }, () => L.lab_alloc(4096)));
    drv(x, (l) => bufs.slice(0, 64).forEach((b) => L.lab_map(l, b, 4096, L.DMA_TO_DEVICE)));
    const h = drv(x, (l) => L.lab_map_unchecked(l, bufs[64]!, 4096, L.DMA_TO_DEVICE));
    expect(h).toBe(DMA_MAPPING_ERROR);
    drv(x, (l) => L.lab_xfer(l, h, 4096, false));
    caught('DEVICE_ADDRESS_CLAMPED', /EDU: clamping DMA 0xffffffffffffffff to 0x000000000fffffff!/, ['Transfer started at']);
    caught('DEVICE_ACCESS_UNMAPPED', /device read memory that is not mapped for it \[bus address=0x000000000fffffff\]/, ['Transfer started at']);
  });
});
