// Rig case sync-errors (C-S1, C-S3, C-S4): tools/kernel-rig-cases/sync-errors, ported.
import { describe, expect, test } from 'vitest';
import { expect_kernel_lines, kernel_codes } from './rig.ts';
import { edu_syncerr_driver } from '../drivers/rig/sync_errors.ts';

describe('rig sync-errors', () => {
  test('x86: a sync past the end is C-S1, never C-S2; a wrong direction for the CPU is C-S3 + C-S4', () => {
    expect_kernel_lines('sync-errors/sync-errors.txt', edu_syncerr_driver, 'x86');
    expect(kernel_codes()).toEqual(['DMA_SYNC_NOT_MAPPED', 'DMA_SYNC_WRONG_DIRECTION', 'DMA_SYNC_READONLY_FOR_CPU']);
  });

  test('x86-iommu: the same six errors, with IOVAs', () => {
    expect_kernel_lines('sync-errors/sync-errors-iommu.txt', edu_syncerr_driver, 'x86-iommu');
  });

  test('x86-swiotlb (256 MiB, swiotlb=force): swiotlb\'s own overflow WARN_ONCE comes before the dma-debug line', () => {
    const r = expect_kernel_lines('sync-errors/sync-errors-m256-swiotlb_force.txt', edu_syncerr_driver, 'x86-swiotlb',
      { ram_size: 256 << 20 }, { dma: 'keep' });
    expect(r.lines.filter((l) => l.includes('Buffer overflow detected'))).toHaveLength(1);
    expect(kernel_codes()).toContain('SWIOTLB_BOUNCE_OVERFLOW');
  });
});
