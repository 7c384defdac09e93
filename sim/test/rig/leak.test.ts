// Rig cases leak-coherent and leak-sg (C-L1): tools/kernel-rig-cases/leak-*, ported.
import { describe, expect, test } from 'vitest';
import { diagnostics } from '../../testing/index.ts';
import { expect_kernel_lines, kernel_codes } from './rig.ts';
import { edu_leakcoh_driver } from '../drivers/rig/leak_coherent.ts';
import { edu_leaksg_driver } from '../drivers/rig/leak_sg.ts';

describe('rig leak-coherent / leak-sg: pending DMA allocations at unbind', () => {
  test('coherent, x86 and x86-iommu: [mapped with DMA_BIDIRECTIONAL] [mapped as coherent]', () => {
    expect_kernel_lines('leak-coherent/leak-coherent.txt', edu_leakcoh_driver, 'x86');
    expect(kernel_codes()).toContain('DMA_LEAK_AT_UNBIND');
    expect_kernel_lines('leak-coherent/leak-coherent-iommu.txt', edu_leakcoh_driver, 'x86-iommu');
  });

  test('sg, x86: counted in mapped segments ([count=2])', () => {
    expect_kernel_lines('leak-sg/leak-sg.txt', edu_leaksg_driver, 'x86');
    const d = diagnostics().find((x) => x.code === 'DMA_LEAK_AT_UNBIND')!;
    expect(d.sites.filter((s) => s.label.startsWith('Leaked'))).toHaveLength(2);
  });

  test('sg, x86-iommu: one merged segment of 8192 bytes ([count=1])', () => {
    expect_kernel_lines('leak-sg/leak-sg-iommu.txt', edu_leaksg_driver, 'x86-iommu');
  });
});
