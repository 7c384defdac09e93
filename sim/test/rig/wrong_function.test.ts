// Rig case wrong-function (C-U4 with C-U6/C-U7): tools/kernel-rig-cases/wrong-function, ported.
import { describe, expect, test } from 'vitest';
import { diagnostics } from '../../testing/index.ts';
import { expect_kernel_lines, kernel_codes } from './rig.ts';
import { edu_wrongfn_driver } from '../drivers/rig/wrong_function.ts';

describe('rig wrong-function: a mapping released with another type\'s call', () => {
  test('x86: six errors, type names of 6.1 (scather-gather), [map count=0] for a single mapping', () => {
    const r = expect_kernel_lines('wrong-function/wrong-function.txt', edu_wrongfn_driver, 'x86');
    expect(r.ret).toBe(0);
    expect(kernel_codes()).toEqual(['DMA_UNMAP_WRONG_FUNCTION', 'DMA_UNMAP_WRONG_DIRECTION', 'DMA_UNMAP_SG_WRONG_COUNT']);
    // Every one of them points back at the mapping it found.
    for (const d of diagnostics().filter((x) => x.origin === 'dma-debug')) expect(d.sites.map((s) => s.label)).toContain('Mapped at');
  });

  test('x86-iommu: the same six errors, with the IOVAs a real VT-d hands out', () => {
    expect_kernel_lines('wrong-function/wrong-function-iommu.txt', edu_wrongfn_driver, 'x86-iommu');
  });
});
