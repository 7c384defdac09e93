// The kernel's address spaces (sim/mm/memory.ts): on arm64 the kernel image sits inside the
// vmalloc area, as in Linux; vmalloc() must place its areas beside it, not on it.
import { describe, expect, test } from 'vitest';
import { all_shapes } from '../../testing/index.ts';
import { setup, drv } from '../rules/lab.ts';
import * as L from '../drivers/lab.ts';

describe('address spaces', () => {
  test.each(all_shapes())('%s: vmalloc areas do not overlap the kernel image; each address translates to its own pages', (shape) => {
    const x = setup(shape);
    const v = drv(x, () => L.lab_vmalloc(64 * 1024));
    const mmu = x.m.mmu;
    const s = L.lab_static_addr();
    expect(mmu.is_kimage(v)).toBe(false);
    expect(mmu.is_kimage(s)).toBe(true);
    const pv = mmu.translate(v), ps = mmu.translate(s);
    expect(pv).toBeGreaterThan(0);
    expect(ps).toBe(mmu.kimage_to_phys(s));
    expect(Math.floor(pv / 4096)).not.toBe(Math.floor(ps / 4096));
    drv(x, () => L.lab_vfree(v));
  });
});
