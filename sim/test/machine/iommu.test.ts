// The IOMMU path (DESIGN.md §7, reference/dma-mapping.md §6) on x86-iommu (VT-d) and arm64-smmu:
// IOVAs allocated top-down below the mask, read/write permission by direction, faults in the real
// drivers' log formats, and scatter-gather merging.
import { describe, expect, test } from 'vitest';
import { pattern, compare, codes, unbind, type ShapeName } from '../../testing/index.ts';
import { setup, drv, ram_bytes, count_equal, caught, clean, with_code } from '../rules/lab.ts';
import * as L from '../drivers/lab.ts';
import { DMA_MAPPING_ERROR } from '../../index.ts';

const IOMMU: ShapeName[] = ['x86-iommu', 'arm64-smmu'];

/** The fault line each IOMMU prints for edu (00:03.0) at 0xffff000. */
function fault_line(shape: ShapeName, write: boolean, present: boolean): RegExp {
  if (shape === 'x86-iommu') {
    return write
      ? /^DMAR: \[DMA Write NO_PASID\] Request device \[00:03\.0\] fault addr 0xffff000 \[fault reason 0x05\] PTE Write access is not set$/m
      : /^DMAR: \[DMA Read NO_PASID\] Request device \[00:03\.0\] fault addr 0xffff000 \[fault reason 0x06\] PTE Read access is not set$/m;
  }
  return new RegExp(`^arm-smmu 9000000\\.iommu: Unhandled context fault: fsr=0x${present ? '408' : '402'}, iova=0x0ffff000, fsynr=0x${write ? '10' : '0'}, cbfrsynra=0x18, cb=0$`, 'm');
}

describe.each(IOMMU)('%s', (shape) => {
  test('IOVAs come top-down below the 28-bit mask, keeping the offset in the page', () => {
    const x = setup(shape);
    const a = drv(x, () => L.lab_alloc(4096)), b = drv(x, () => L.lab_alloc(4096)), c = drv(x, () => L.lab_alloc(256));
    const ha = drv(x, (l) => L.lab_map(l, a, 4096, L.DMA_TO_DEVICE));
    const hb = drv(x, (l) => L.lab_map(l, b, 4096, L.DMA_FROM_DEVICE));
    const hc = drv(x, (l) => L.lab_map(l, c + 64, 64, L.DMA_TO_DEVICE));
    expect([ha, hb, hc]).toEqual([0xffff000, 0xfffe000, 0xfffd000 + ((c + 64) % 4096)]);
    // Not the physical addresses: the IOMMU translates.
    expect(ha).not.toBe(x.m.mmu.lm_to_phys(a) + x.m.shape.bus_offset);
    expect(x.m.iommu!.lookup(x.pdev.dev, ha)!.phys).toBe(x.m.mmu.lm_to_phys(a));
    drv(x, (l) => { L.lab_unmap(l, ha, 4096, L.DMA_TO_DEVICE); L.lab_unmap(l, hb, 4096, L.DMA_FROM_DEVICE); L.lab_unmap(l, hc, 64, L.DMA_TO_DEVICE); });
    drv(x, () => [a, b, c].forEach((p) => L.lab_free(p)));
    unbind(x.pdev);
    clean();
  });

  test('a device write into a TO_DEVICE mapping faults (read-only PTE) and writes nothing', () => {
    const x = setup(shape);
    x.edu.dma_buf.set(pattern(4096, 1));
    const buf = drv(x, () => L.lab_alloc(4096));
    drv(x, () => L.lab_fill(buf, 0x11, 4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_TO_DEVICE));
    expect(h).toBe(0xffff000);
    drv(x, (l) => L.lab_xfer(l, h, 4096, true));
    expect(x.m.iommu!.faults).toBe(1);
    caught('IOMMU_FAULT', fault_line(shape, true, true), ['Transfer started at']);
    caught('DEVICE_ACCESS_WRONG_DIRECTION', /device wrote a buffer mapped DMA_TO_DEVICE/, ['Transfer started at', 'Mapped at']);
    drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_TO_DEVICE));
    expect(count_equal(drv(x, () => L.lab_read(buf, 4096)), 0x11)).toBe(4096);
    expect(count_equal(ram_bytes(x.m, x.m.mmu.lm_to_phys(buf), 4096), 0x11)).toBe(4096);
  });

  test('a device read of a FROM_DEVICE mapping faults (write-only PTE); the device gets all ones', () => {
    const x = setup(shape);
    const buf = drv(x, () => L.lab_alloc(4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_FROM_DEVICE));
    drv(x, (l) => L.lab_xfer(l, h, 4096, false));
    caught('IOMMU_FAULT', fault_line(shape, false, true), ['Transfer started at']);
    caught('DEVICE_ACCESS_WRONG_DIRECTION', /device read a buffer mapped DMA_FROM_DEVICE/, ['Transfer started at', 'Mapped at']);
    expect(count_equal(x.edu.dma_buf, 0xff)).toBe(4096);
  });

  test('a device access after unmap faults (no PTE); with the right direction and order nothing does', () => {
    const x = setup(shape);
    const buf = drv(x, () => L.lab_alloc(4096));
    const want = pattern(4096, 2);
    drv(x, () => L.lab_write(buf, want));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_TO_DEVICE));
    expect(drv(x, (l) => L.lab_xfer(l, h, 4096, false))).toBe(0);
    expect(compare(x.edu.dma_buf, want)).toBeNull();
    expect(codes()).toEqual([]);
    drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_TO_DEVICE));
    drv(x, (l) => L.lab_xfer(l, h, 4096, false));
    caught('IOMMU_FAULT', fault_line(shape, false, false), ['Transfer started at']);
    caught('DEVICE_ACCESS_FREED', /device read memory that was unmapped/, ['Transfer started at', 'Unmapped at', 'Mapped at']);
  });

  test('dma_map_sg merges 4 scattered page-aligned pages into 1 segment; the device reaches each page through it', () => {
    const x = setup(shape);
    // Every other page of eight: physically scattered.
    const pages = drv(x, () => Array.from({ length: 8 }, () => L.lab_alloc(4096))).filter((_, i) => i % 2 === 0);
    const phys = pages.map((p) => x.m.mmu.lm_to_phys(p));
    expect(phys[1]! - phys[0]!).toBeGreaterThan(4096);
    const { sgl, count } = drv(x, (l) => L.lab_map_sg(l, pages, 4096, L.DMA_FROM_DEVICE));
    expect(count).toBe(1);
    // Entries after the returned count: DMA_MAPPING_ERROR, length 0 (__finalise_sg).
    const none = { dma: DMA_MAPPING_ERROR, len: 0 };
    expect(L.lab_sg_segs(sgl, 4)).toEqual([{ dma: 0xfffc000, len: 16384 }, none, none, none]);
    // One 4 KiB transfer straddling pages 1 and 2 of the segment lands in two scattered pages.
    const want = pattern(4096, 3);
    x.edu.dma_buf.set(want);
    expect(drv(x, (l) => L.lab_xfer(l, 0xfffc000 + 4096 + 2048, 4096, true))).toBe(0);
    // Unmap with the original nents (dma-debug and the API contract want it), then read.
    drv(x, (l) => L.lab_unmap_sg(l, sgl, 4, L.DMA_FROM_DEVICE));
    expect(compare(drv(x, () => L.lab_read(pages[1]! + 2048, 2048)), want.subarray(0, 2048))).toBeNull();
    expect(compare(drv(x, () => L.lab_read(pages[2]!, 2048)), want.subarray(2048))).toBeNull();
    drv(x, () => pages.forEach((p) => L.lab_free(p)));
    clean();
  });

  test('unmapping a merged list with the count dma_map_sg returned is caught by dma-debug', () => {
    const x = setup(shape);
    const pages = drv(x, () => Array.from({ length: 4 }, () => L.lab_alloc(4096)));
    const { sgl, count } = drv(x, (l) => L.lab_map_sg(l, pages, 4096, L.DMA_TO_DEVICE));
    expect(count).toBe(1);
    drv(x, (l) => L.lab_unmap_sg(l, sgl, count, L.DMA_TO_DEVICE));
    caught('DMA_UNMAP_SG_WRONG_COUNT', /different entry count \[map count=4\] \[unmap count=1\]/);
  });
});

test.each(['x86', 'x86-swiotlb', 'arm64'] as const)('%s (no IOMMU): dma_map_sg never merges: 4 entries, 4 segments', (shape) => {
  const x = setup(shape);
  const pages = drv(x, () => Array.from({ length: 4 }, () => L.lab_alloc(4096)));
  const { sgl, count } = drv(x, (l) => L.lab_map_sg(l, pages, 4096, L.DMA_TO_DEVICE));
  expect(count).toBe(4);
  expect(L.lab_sg_segs(sgl, 4).map((s) => s.len)).toEqual([4096, 4096, 4096, 4096]);
  drv(x, (l) => L.lab_unmap_sg(l, sgl, 4, L.DMA_TO_DEVICE));
  drv(x, () => pages.forEach((p) => L.lab_free(p)));
  unbind(x.pdev);
  expect(with_code('DMA_UNMAP_SG_WRONG_COUNT')).toEqual([]);
  clean();
});
