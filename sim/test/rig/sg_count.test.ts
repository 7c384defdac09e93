// Rig case sg-count (C-U6, C-S6, C-L1): tools/kernel-rig-cases/sg-count, ported.
import { describe, expect, test } from 'vitest';
import { diagnostics } from '../../testing/index.ts';
import { expect_kernel_lines, kernel_codes } from './rig.ts';
import { edu_sgcount_driver } from '../drivers/rig/sg_count.ts';

describe('rig sg-count: sg lists unmapped and synced with other entry counts', () => {
  test('x86: one C-S6 / C-U6 line per processed segment, the leftovers leak at unbind', () => {
    const r = expect_kernel_lines('sg-count/sg-count.txt', edu_sgcount_driver, 'x86');
    expect(kernel_codes()).toEqual(['DMA_SYNC_SG_WRONG_COUNT', 'DMA_UNMAP_SG_WRONG_COUNT', 'DMA_LEAK_AT_UNBIND']);
    expect(diagnostics().filter((d) => d.code === 'DMA_SYNC_SG_WRONG_COUNT')).toHaveLength(2);
    // D: a sync of a list that was never mapped is silent in 6.1.
    const d = r.lines.findIndex((l) => l.includes('CASE D'));
    expect(r.lines[d + 1]).toContain('CASE done');
  });

  test('x86-iommu: the IOMMU merged the four pages, so unmapping with the returned count is C-U6', () => {
    expect_kernel_lines('sg-count/sg-count-iommu.txt', edu_sgcount_driver, 'x86-iommu');
    expect(kernel_codes()).toEqual(['DMA_UNMAP_SG_WRONG_COUNT', 'DMA_SYNC_SG_WRONG_COUNT']);
  });
});
