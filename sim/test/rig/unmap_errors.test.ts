// Rig case unmap-errors (C-U1, C-U2): tools/kernel-rig-cases/unmap-errors, ported.
import { describe, expect, test } from 'vitest';
import { expect_kernel_lines, kernel_codes } from './rig.ts';
import { edu_unmap_err_driver } from '../drivers/rig/unmap_errors.ts';

describe('rig unmap-errors: unmaps of addresses dma-debug does not know', () => {
  test('x86: C-U1 then C-U2 twice, as Linux 6.1 printed them', () => {
    const r = expect_kernel_lines('unmap-errors/unmap-errors.txt', edu_unmap_err_driver, 'x86');
    expect(r.ret).toBe(0);
    expect(kernel_codes()).toEqual(['DMA_UNMAP_INVALID', 'DMA_UNMAP_NOT_MAPPED']);
  });

  test('x86-iommu: each unmap first hits dma-iommu\'s bare WARN_ON, then the same dma-debug line', () => {
    const r = expect_kernel_lines('unmap-errors/unmap-errors-iommu.txt', edu_unmap_err_driver, 'x86-iommu');
    expect(r.ret).toBe(0);
    // The WARN_ON has no message line: the cut-here line is followed by the WARNING line.
    const i = r.lines.findIndex((l) => l.includes('drivers/iommu/dma-iommu.c:1041'));
    expect(r.lines[i - 1]).toBe('------------[ cut here ]------------');
    expect(r.lines.filter((l) => l.includes('iommu_dma_unmap_page+0x2e/0x7c'))).toHaveLength(3);
  });
});
