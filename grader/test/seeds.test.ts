// Seeds: the hidden tests' machines take the grader's seed, `--seeds N` derives N of them from
// one, and two seeds are two samples of the machine (on arm64, different cache evictions).
import { afterEach, describe, expect, test } from 'vitest';
import { fill } from '#sim/testing';
import { GFP_KERNEL } from '#linux/gfp';
import { kmalloc } from '#linux/slab';
import { DEFAULT_SEED, derive_seeds, parse_seed, seed_hex } from '../lib/seed.ts';
import { test_seed } from '../lib/target.ts';
import { Run } from '../tests/lib/harness.ts';

const g = globalThis as { __dmalab_seed?: number };
afterEach(() => {
  delete g.__dmalab_seed;
  delete process.env.DMALAB_SEED;
});

describe('seeds', () => {
  test('N seeds from one: the same list every time, the base first, no repeats; 32-bit', () => {
    const a = derive_seeds(DEFAULT_SEED, 100);
    expect(a).toEqual(derive_seeds(DEFAULT_SEED, 100));
    expect(a[0]).toBe(DEFAULT_SEED);
    expect(new Set(a).size).toBe(100);
    expect(a.every((s) => Number.isInteger(s) && s >= 0 && s <= 0xffffffff)).toBe(true);
    expect(derive_seeds(DEFAULT_SEED, 3)).toEqual(a.slice(0, 3));
    expect(derive_seeds(0x1a2b, 2)[1]).not.toBe(a[1]);
    expect([parse_seed('0x1a2b'), parse_seed('6699'), parse_seed('0x1_0000_0000'), parse_seed('-1'), parse_seed('0x100000000')]).toEqual([0x1a2b, 6699, undefined, undefined, undefined]);
    expect(seed_hex(a[1]!)).toMatch(/^0x[0-9a-f]+$/);
  });

  test('a hidden test\'s machine takes the grader\'s seed (per file), else DMALAB_SEED, else 0x5eed', () => {
    expect(new Run({ shape: 'x86' }).m.seed).toBe(DEFAULT_SEED);
    process.env.DMALAB_SEED = '0x1a2b';
    expect(new Run({ shape: 'x86' }).m.seed).toBe(0x1a2b);
    g.__dmalab_seed = 77;
    expect(test_seed()).toBe(77);
    expect(new Run({ shape: 'x86' }).m.seed).toBe(77);
    process.env.DMALAB_SEED = 'soon';
    delete g.__dmalab_seed;
    expect(() => test_seed()).toThrow('DMALAB_SEED=soon is not a seed');
  });

  test('arm64: two of the grader\'s seeds evict different lines of the same CPU fill; one seed, the same lines', () => {
    /** Which 64-byte lines of a 256 KiB buffer (twice the cache) reached RAM after the CPU filled it:
     *  those evicted (written back) to make room for later ones. */
    const evicted = (seed: number) => {
      g.__dmalab_seed = seed;
      const r = new Run({ shape: 'arm64' });
      const len = 256 * 1024;
      const p = kmalloc(len, GFP_KERNEL);
      fill(p, new Uint8Array(len).fill(0x5a));
      const ram = new Uint8Array(len);
      r.m.ram.read(r.m.mmu.lm_to_phys(p), ram, 0, len);
      const lines: number[] = [];
      for (let o = 0; o < len; o += 64) if (ram[o] === 0x5a) lines.push(o / 64);
      return { lines, seed: r.m.seed, evictions: r.m.cache!.stats.evictions };
    };
    const [s1, s2] = derive_seeds(DEFAULT_SEED, 2) as [number, number];
    const a = evicted(s1), b = evicted(s2), again = evicted(s1);
    expect([a.seed, b.seed]).toEqual([s1, s2]);
    expect(a.evictions).toBeGreaterThan(1000);
    expect(a.lines.length).toBeGreaterThan(1000);
    expect(again).toEqual(a);
    expect(b.lines).not.toEqual(a.lines);
  });
});
