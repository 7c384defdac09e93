// Rig case unmap-wrong-dir (C-U7): tools/kernel-rig-cases/unmap-wrong-dir, ported.
import { describe, expect, test } from 'vitest';
import { expect_kernel_lines, kernel_codes } from './rig.ts';
import { edu_unmapdir_driver } from '../drivers/rig/unmap_wrong_dir.ts';

describe('rig unmap-wrong-dir', () => {
  test('x86: two C-U7 lines with the 6.1 direction names', () => {
    expect_kernel_lines('unmap-wrong-dir/unmap-wrong-dir.txt', edu_unmapdir_driver, 'x86');
    expect(kernel_codes()).toEqual(['DMA_UNMAP_WRONG_DIRECTION']);
  });
});
