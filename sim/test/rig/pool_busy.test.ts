// Rig case pool-busy (POOL_BUSY, pool bad dma, then C-L1): tools/kernel-rig-cases/pool-busy.
import { describe, expect, test } from 'vitest';
import { diagnostics } from '../../testing/index.ts';
import { expect_kernel_lines, kernel_codes } from './rig.ts';
import { edu_poolbusy_driver } from '../drivers/rig/pool_busy.ts';

describe('rig pool-busy', () => {
  test('x86: "(bad dma)" and "busy" are plain dev_err lines; the busy page leaks and dma-debug reports it at unbind', () => {
    const r = expect_kernel_lines('pool-busy/pool-busy.txt', edu_poolbusy_driver, 'x86');
    expect(kernel_codes()).toEqual(['DMA_POOL_BAD_DMA', 'DMA_POOL_BUSY', 'DMA_LEAK_AT_UNBIND']);
    // Neither pool message is a WARN nor a dma-debug error (error_count 1 = the leak).
    expect(r.m.diag.dma_error_count).toBe(1);
    const leak = diagnostics().find((d) => d.code === 'DMA_LEAK_AT_UNBIND')!;
    expect(leak.lines[1]).toContain('[size=4096 bytes] [mapped with DMA_BIDIRECTIONAL] [mapped as coherent]');
    // The pointer is %p (hashed, never the block's raw address), the handle the one passed in.
    const v = /v=([0-9a-f]{16}) dma=(0x[0-9a-f]{16})/.exec(r.all.find((l) => l.includes('pool block v='))!)!;
    const bad = r.all.find((l) => l.endsWith('(bad dma)'))!;
    expect(bad).toMatch(new RegExp(`^edu_poolbusy 0000:00:03\\.0: dma_pool_free edu_pool, [0-9a-f]{16}/0x${(Number(v[2]) + 0x100000).toString(16).padStart(16, '0')} \\(bad dma\\)$`));
    expect(bad).not.toContain(v[1]);
  });
});
