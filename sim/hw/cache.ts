// The CPU data cache of a non-coherent machine: set-associative, write-back, write-allocate,
// 64-byte lines holding real data, seeded random replacement and a next-line prefetcher that
// fills lines speculatively. Devices read and write RAM only, so stale data comes out of this
// model, never out of a rule (DESIGN.md §6; reference/dma-mapping.md §7).
import type { Ram } from './ram.ts';
import type { Rng } from '../kernel/random.ts';
import { take_buffer } from '../lib/recycle.ts';

export const LINE = 64;

export class Cache {
  readonly sets: number;
  readonly ways: number;
  private tag: Float64Array;
  private dirty: Uint8Array;
  private data: Uint8Array;
  /** The buffers it took (sim/lib/recycle.ts). */
  readonly buffers: ArrayBuffer[] = [];
  private scratch = new Uint8Array(8);
  private sview = new DataView(this.scratch.buffer);
  /** Probability that a miss also pulls in the next line (speculation). */
  prefetch = 0.25;
  stats = { hits: 0, misses: 0, writebacks: 0, evictions: 0, prefetches: 0 };

  constructor(private ram: Ram, size: number, ways: number, private rng: Rng) {
    this.ways = ways;
    this.sets = size / LINE / ways;
    const lines = this.sets * ways;
    this.tag = new Float64Array(take_buffer(this.buffers, lines * 8, false)).fill(-1);
    this.dirty = new Uint8Array(take_buffer(this.buffers, lines));
    this.data = new Uint8Array(take_buffer(this.buffers, lines * LINE));
  }

  /** Slot index of the line holding line number ln, or -1. */
  private find(ln: number): number {
    const base = (ln % this.sets) * this.ways;
    for (let w = 0; w < this.ways; w++) if (this.tag[base + w] === ln) return base + w;
    return -1;
  }

  private writeback(slot: number): void {
    if (this.dirty[slot]) {
      this.ram.write(this.tag[slot]! * LINE, this.data, slot * LINE, LINE);
      this.dirty[slot] = 0;
      this.stats.writebacks++;
    }
  }

  /** Bring line ln in (it must not be present); returns its slot. */
  private fill(ln: number, speculative = false): number {
    const base = (ln % this.sets) * this.ways;
    let slot = -1;
    for (let w = 0; w < this.ways; w++) if (this.tag[base + w] === -1) { slot = base + w; break; }
    if (slot < 0) {
      slot = base + this.rng.below(this.ways);
      this.writeback(slot);
      this.stats.evictions++;
    }
    this.tag[slot] = ln;
    this.dirty[slot] = 0;
    this.ram.read(ln * LINE, this.data, slot * LINE, LINE);
    if (!speculative && this.prefetch > 0 && this.rng.chance(this.prefetch)) {
      const next = ln + 1;
      if (this.ram.contains(next * LINE, LINE) && this.find(next) < 0) {
        this.fill(next, true);
        this.stats.prefetches++;
      }
    }
    return slot;
  }

  private slot_for(ln: number): number {
    const s = this.find(ln);
    if (s >= 0) { this.stats.hits++; return s; }
    this.stats.misses++;
    return this.fill(ln);
  }

  /** CPU load of len bytes at phys into dst[off..]. */
  read(phys: number, dst: Uint8Array, off: number, len: number): void {
    while (len > 0) {
      const ln = Math.floor(phys / LINE), o = phys - ln * LINE;
      const n = Math.min(len, LINE - o);
      const slot = this.slot_for(ln);
      dst.set(this.data.subarray(slot * LINE + o, slot * LINE + o + n), off);
      phys += n; off += n; len -= n;
    }
  }

  /** CPU store of src[off..off+len) to phys. */
  write(phys: number, src: Uint8Array, off: number, len: number): void {
    while (len > 0) {
      const ln = Math.floor(phys / LINE), o = phys - ln * LINE;
      const n = Math.min(len, LINE - o);
      const slot = this.slot_for(ln);
      this.data.set(src.subarray(off, off + n), slot * LINE + o);
      this.dirty[slot] = 1;
      phys += n; off += n; len -= n;
    }
  }

  /** CPU store of len copies of a byte (memset). */
  fill_bytes(phys: number, value: number, len: number): void {
    while (len > 0) {
      const ln = Math.floor(phys / LINE), o = phys - ln * LINE;
      const n = Math.min(len, LINE - o);
      const slot = this.slot_for(ln);
      this.data.fill(value, slot * LINE + o, slot * LINE + o + n);
      this.dirty[slot] = 1;
      phys += n; len -= n;
    }
  }

  /** Typed little-endian load/store of 1, 2, 4 or 8 bytes (8 as two 32-bit halves). */
  load(phys: number, size: number): number {
    this.read(phys, this.scratch, 0, size);
    switch (size) {
      case 1: return this.scratch[0]!;
      case 2: return this.sview.getUint16(0, true);
      case 4: return this.sview.getUint32(0, true);
      default: return this.sview.getUint32(0, true) + this.sview.getUint32(4, true) * 4294967296;
    }
  }
  store(phys: number, size: number, v: number): void {
    switch (size) {
      case 1: this.scratch[0] = v; break;
      case 2: this.sview.setUint16(0, v, true); break;
      case 4: this.sview.setUint32(0, v >>> 0, true); break;
      default: this.sview.setUint32(0, v >>> 0, true); this.sview.setUint32(4, Math.floor(v / 4294967296) >>> 0, true);
    }
    this.write(phys, this.scratch, 0, size);
  }

  // ---- cache maintenance (arch/arm64/mm/cache.S) -----------------------------------------
  /** dc cvac over [phys, phys+len): write dirty lines back, keep them. */
  clean(phys: number, len: number): void {
    const end = phys + len;
    for (let ln = Math.floor(phys / LINE); ln * LINE < end; ln++) {
      const s = this.find(ln);
      if (s >= 0) this.writeback(s);
    }
  }

  /** dcache_inval_poc: partial lines at either end are cleaned and invalidated (dc civac),
   *  full lines are invalidated (dc ivac), dropping dirty data. */
  invalidate(phys: number, len: number): void {
    const end = phys + len;
    for (let ln = Math.floor(phys / LINE); ln * LINE < end; ln++) {
      const s = this.find(ln);
      if (s < 0) continue;
      const partial = ln * LINE < phys || (ln + 1) * LINE > end;
      if (partial) this.writeback(s);
      this.tag[s] = -1;
      this.dirty[s] = 0;
    }
  }

  /** dc civac over the range. */
  clean_invalidate(phys: number, len: number): void {
    const end = phys + len;
    for (let ln = Math.floor(phys / LINE); ln * LINE < end; ln++) {
      const s = this.find(ln);
      if (s < 0) continue;
      this.writeback(s);
      this.tag[s] = -1;
    }
  }

  /** Is any line of the range held dirty? (For tests and explanations.) */
  has_dirty(phys: number, len: number): boolean {
    const end = phys + len;
    for (let ln = Math.floor(phys / LINE); ln * LINE < end; ln++) {
      const s = this.find(ln);
      if (s >= 0 && this.dirty[s]) return true;
    }
    return false;
  }

  /** Is the line holding phys cached at all? */
  holds(phys: number): boolean {
    return this.find(Math.floor(phys / LINE)) >= 0;
  }
}
