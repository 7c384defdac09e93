// Rig case pool-free-handle: dma_pool_free with a wrong handle inside the pool's page, as 6.1
// does it without DMAPOOL_DEBUG (tools/kernel-rig-cases/pool-free-handle).
import { describe, expect, test } from 'vitest';
import { diagnostics, all_shapes } from '../../testing/index.ts';
import { expect_kernel_lines, kernel_codes, run_rig } from './rig.ts';
import { edu_poolfree_driver } from '../drivers/rig/pool_free_handle.ts';

describe('rig pool-free-handle', () => {
  test('x86: the kernel lines as measured: a bad handle alone and swapped handles are silent; a bad handle then the right free leaves the page busy', () => {
    const r = expect_kernel_lines('pool-free-handle/pool-free-handle.txt', edu_poolfree_driver, 'x86');
    expect(kernel_codes()).toEqual(['DMA_POOL_BUSY', 'DMA_LEAK_AT_UNBIND']);
    // pool_b and pool_d are busy: each page leaked, both pending at unbind.
    expect(r.all.filter((l) => l.endsWith(' busy'))).toEqual([
      expect.stringMatching(/^edu_poolfree 0000:00:03\.0: dma_pool_destroy pool_b, [0-9a-f]{16} busy$/),
      expect.stringMatching(/^edu_poolfree 0000:00:03\.0: dma_pool_destroy pool_d, [0-9a-f]{16} busy$/),
    ]);
    // %p is hashed, as 6.1 prints it once it has entropy: never the raw pointer.
    const b = /b=([0-9a-f]{16})/.exec(r.all.find((l) => l.includes('CASE B: b='))!)![1]!;
    expect(r.all.join('\n')).not.toContain(`pool_b, ${b} busy`);
  });

  test.each(all_shapes())('%s: dmalab names each wrong free in its own lines; the right frees are clean', (shape) => {
    run_rig(edu_poolfree_driver, shape);
    const bad = diagnostics().filter((d) => d.code === 'DMA_POOL_BAD_FREE');
    const what = bad.map((d) => d.lines[0]!.replace(/[0-9a-f]{16}/g, 'X'));
    expect(what).toEqual([
      'dmalab: edu_poolfree 0000:00:03.0: dma_pool_free pool_a, X/0xX: dma_pool_alloc gave this block the handle 0xX',
      'dmalab: edu_poolfree 0000:00:03.0: dma_pool_free pool_b, X/0xX: dma_pool_alloc gave this block the handle 0xX',
      'dmalab: edu_poolfree 0000:00:03.0: dma_pool_free pool_b, X/0xX: this block is already free',
      'dmalab: edu_poolfree 0000:00:03.0: dma_pool_free pool_c, X/0xX: dma_pool_alloc gave this block the handle 0xX',
      'dmalab: edu_poolfree 0000:00:03.0: dma_pool_free pool_c, X/0xX: dma_pool_alloc gave this block the handle 0xX',
      'dmalab: edu_poolfree 0000:00:03.0: dma_pool_free pool_d, X/0xX: dma_pool_alloc gave this block the handle 0xX',
      'dmalab: edu_poolfree 0000:00:03.0: dma_pool_free pool_d, X/0xX: this block is already free',
    ]);
    expect(bad.every((d) => d.sites[0]!.label === 'Freed at' && d.sites[0]!.site.fn === 'probe')).toBe(true);
    expect(kernel_codes()).toEqual(['DMA_POOL_BUSY', 'DMA_LEAK_AT_UNBIND']);
  });

  test('after the double free the pool hands the same block out twice, as measured', () => {
    const r = run_rig(edu_poolfree_driver, 'x86');
    const m = /after the double free of d=(0x[0-9a-f]{16}): alloc (0x[0-9a-f]{16}), alloc (0x[0-9a-f]{16})/.exec(r.all.join('\n'))!;
    expect(m[2]).toBe(m[1]);
    expect(m[3]).toBe(m[1]);
  });
});
