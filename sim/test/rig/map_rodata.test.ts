// Rig case map-rodata (C-M5 cannot fire on x86-64): tools/kernel-rig-cases/map-rodata, ported.
import { describe, expect, test } from 'vitest';
import { codes } from '../../testing/index.ts';
import { expect_kernel_lines, kernel_codes } from './rig.ts';
import { edu_rodata_driver } from '../drivers/rig/map_rodata.ts';

describe('rig map-rodata', () => {
  test('x86: dma-debug prints nothing (error_count 0); dmalab still names the rodata mapping', () => {
    const r = expect_kernel_lines('map-rodata/map-rodata.txt', edu_rodata_driver, 'x86');
    expect(r.m.diag.dma_error_count).toBe(0);
    // The kernel's C-M5 compares a linear-map address with image addresses and never fires;
    // dmalab's own rule reports the image-address mapping (case A) instead.
    expect(kernel_codes()).toEqual([]);
    expect(codes()).toEqual(['DMA_MAP_STATIC']);
  });
});
