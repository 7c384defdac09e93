// Rig case sg-segment (C-M6, C-M7): tools/kernel-rig-cases/sg-segment, ported.
import { describe, expect, test } from 'vitest';
import { expect_kernel_lines, kernel_codes } from './rig.ts';
import { edu_sgseg_driver } from '../drivers/rig/sg_segment.ts';

describe('rig sg-segment: the PCI core\'s segment limits', () => {
  test('x86: max 65536 and boundary 0xffffffff by default; both checks fire inside dma_map_sg', () => {
    expect_kernel_lines('sg-segment/sg-segment.txt', edu_sgseg_driver, 'x86');
    expect(kernel_codes()).toEqual(['DMA_SG_SEGMENT_TOO_LONG', 'DMA_SG_SEGMENT_BOUNDARY']);
  });

  test('x86-iommu: only C-M6; the size-aligned IOVA does not cross the boundary', () => {
    expect_kernel_lines('sg-segment/sg-segment-iommu.txt', edu_sgseg_driver, 'x86-iommu');
    expect(kernel_codes()).toEqual(['DMA_SG_SEGMENT_TOO_LONG']);
  });
});
