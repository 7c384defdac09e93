// An open-addressing hash table from non-negative integer keys (< 2^53) to int32 values, in
// typed arrays: linear probing, backward-shift deletion. A JS Map of a million entries slows
// down by an order of magnitude; this does not.

const EMPTY = -1;

export class IntMap {
  private keys: Float64Array;
  private vals: Int32Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1024) {
    let c = 16;
    while (c < capacity * 2) c *= 2;
    this.keys = new Float64Array(c).fill(EMPTY);
    this.vals = new Int32Array(c);
    this.mask = c - 1;
  }

  private slot(key: number): number {
    const lo = key >>> 0, hi = (key / 4294967296) >>> 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
    h ^= h >>> 15;
    return h & this.mask;
  }

  get(key: number, missing = 0): number {
    const keys = this.keys;
    for (let i = this.slot(key); ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === key) return this.vals[i]!;
      if (k === EMPTY) return missing;
    }
  }

  has(key: number): boolean {
    const keys = this.keys;
    for (let i = this.slot(key); ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === key) return true;
      if (k === EMPTY) return false;
    }
  }

  set(key: number, val: number): void {
    const keys = this.keys;
    let i = this.slot(key);
    for (; ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === key) { this.vals[i] = val; return; }
      if (k === EMPTY) break;
    }
    keys[i] = key;
    this.vals[i] = val;
    if (++this.size * 2 > this.mask) this.grow();
  }

  /** Add 1 to the value at key (inserting 0 if absent); returns the old value, or -1 if the
   *  key was absent. One probe sequence. */
  inc(key: number): number {
    const keys = this.keys;
    let i = this.slot(key);
    for (; ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === key) return this.vals[i]++;
      if (k === EMPTY) break;
    }
    keys[i] = key;
    this.vals[i] = 0;
    if (++this.size * 2 > this.mask) this.grow();
    return -1;
  }

  /** Subtract 1 from the value at key, deleting the key when it was 0. */
  dec(key: number): void {
    const keys = this.keys;
    for (let i = this.slot(key); ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === key) {
        if (this.vals[i]! > 0) this.vals[i]!--;
        else this.delete(key);
        return;
      }
      if (k === EMPTY) return;
    }
  }

  delete(key: number): boolean {
    const keys = this.keys, vals = this.vals, mask = this.mask;
    let i = this.slot(key);
    for (; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === key) break;
      if (k === EMPTY) return false;
    }
    // Backward-shift: move later entries of the probe run into the hole.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const k = keys[j]!;
      if (k === EMPTY) break;
      const home = this.slot(k);
      if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
        keys[i] = k;
        vals[i] = vals[j]!;
        i = j;
      }
    }
    keys[i] = EMPTY;
    this.size--;
    return true;
  }

  private grow(): void {
    const ok = this.keys, ov = this.vals;
    const c = ok.length * 2;
    this.keys = new Float64Array(c).fill(EMPTY);
    this.vals = new Int32Array(c);
    this.mask = c - 1;
    this.size = 0;
    for (let i = 0; i < ok.length; i++) if (ok[i] !== EMPTY) this.set(ok[i]!, ov[i]!);
  }

  *entries(): Generator<[number, number]> {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== EMPTY) yield [this.keys[i]!, this.vals[i]!];
  }
}
