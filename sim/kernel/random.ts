// The machine's one source of randomness: a seeded PRNG (splitmix32 + mulberry-style mixing),
// so the same seed gives the same evictions, placements and injected faults.

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = (seed >>> 0) ^ 0x9e3779b9;
  }
  /** Next 32-bit unsigned value. */
  u32(): number {
    let z = (this.s = (this.s + 0x9e3779b9) | 0);
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }
  /** Uniform integer in [0, n). */
  below(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() < p * 4294967296;
  }
  /** A child generator, so one subsystem's draws do not shift another's. */
  fork(salt: number): Rng {
    return new Rng(this.u32() ^ Math.imul(salt, 0x27d4eb2d));
  }
}
