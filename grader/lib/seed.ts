// Seeds: which sample of cache evictions, page placement and fault timings a run is. Hidden tests
// run on the grader's seed (target.ts's test_seed()); `verify --seeds N` grades on N seeds
// derived from one, so a verdict is not one sample. No vitest here: the command line uses it.

/** The seed of every run that names none (lessons' samples show it). */
export const DEFAULT_SEED = 0x5eed;

/** '0x1a2b' as the machine prints it. */
export function seed_hex(seed: number): string {
  return `0x${(seed >>> 0).toString(16)}`;
}

/** A seed as typed on the command line: 0x1a2b or 6699; a 32-bit unsigned number. */
export function parse_seed(s: string): number | undefined {
  const t = s.trim();
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) && n <= 0xffffffff ? n : undefined;
}

/** n seeds from one: `base` first (so `--seeds N` includes the run `--seed base` replays), then a
 *  splitmix32 walk from it, skipping repeats. The same base and n give the same list everywhere. */
export function derive_seeds(base: number, n: number): number[] {
  const out = [base >>> 0];
  const seen = new Set(out);
  let x = base >>> 0;
  while (out.length < n) {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    if (!seen.has(z)) {
      seen.add(z);
      out.push(z);
    }
  }
  return out;
}

/** "seed 0x5eed", or "20 seeds from 0x5eed" */
export function seeds_label(seeds: number[]): string {
  return seeds.length === 1 ? `seed ${seed_hex(seeds[0]!)}` : `${seeds.length} seeds from ${seed_hex(seeds[0]!)}`;
}
