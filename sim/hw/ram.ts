// System RAM: sparse, in 64 KiB chunks allocated on first touch, so a 4 GiB machine costs
// nothing until used, and a test's fresh machine pays only for the memory it touches.
// Untouched memory reads as a seeded garbage pattern, not zeros: real RAM is not cleared for
// you, and a driver that forgets kzalloc should see junk.

import { take_buffer } from '../lib/recycle.ts';

export const CHUNK_SHIFT = 16;
export const CHUNK_SIZE = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_SIZE - 1;

/** The junk of each 2 MiB of RAM, made once per (seed, block) and copied into a chunk on its
 *  first touch: every test builds fresh machines with the same seed. */
const JUNK_SHIFT = 21, JUNK_SIZE = 1 << JUNK_SHIFT;
const templates = new Map<string, Uint8Array>();
const TEMPLATES = 16;

function junk_of(seed: number, i: number): Uint8Array {
  const key = `${seed}:${i}`;
  let t = templates.get(key);
  if (!t) {
    t = new Uint8Array(JUNK_SIZE);
    // Cheap deterministic junk: one 32-bit word pattern per block, varied per 64 bytes.
    const w = new Uint32Array(t.buffer);
    let x = (seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;
    for (let j = 0; j < w.length; j += 16) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      w.fill(x, j, j + 16);
    }
    if (templates.size >= TEMPLATES) templates.delete(templates.keys().next().value!);
    templates.set(key, t);
  }
  return t;
}

export class Ram {
  readonly base: number;
  readonly size: number;
  readonly end: number;
  private chunks: (Uint8Array | undefined)[];
  private views: (DataView | undefined)[];
  private junk: number;
  /** The buffers it took (sim/lib/recycle.ts). */
  readonly buffers: ArrayBuffer[] = [];

  constructor(base: number, size: number, seed: number) {
    this.base = base;
    this.size = size;
    this.end = base + size;
    const n = Math.ceil(size / CHUNK_SIZE);
    this.chunks = new Array(n);
    this.views = new Array(n);
    this.junk = seed >>> 0;
  }

  contains(phys: number, len = 1): boolean {
    return phys >= this.base && phys + len <= this.end;
  }

  private chunk(i: number): Uint8Array {
    let c = this.chunks[i];
    if (!c) {
      const at = i * CHUNK_SIZE;
      c = new Uint8Array(take_buffer(this.buffers, CHUNK_SIZE, false));
      c.set(junk_of(this.junk, Math.floor(at / JUNK_SIZE)).subarray(at % JUNK_SIZE, at % JUNK_SIZE + CHUNK_SIZE));
      this.chunks[i] = c;
      this.views[i] = new DataView(c.buffer);
    }
    return c;
  }

  private view(off: number): DataView {
    const i = Math.floor(off / CHUNK_SIZE);
    return this.views[i] ?? (this.chunk(i), this.views[i]!);
  }

  /** Copy len bytes at phys into dst[dstOff..]. */
  read(phys: number, dst: Uint8Array, dstOff: number, len: number): void {
    let off = phys - this.base;
    while (len > 0) {
      const i = Math.floor(off / CHUNK_SIZE), o = off % CHUNK_SIZE;
      const n = Math.min(len, CHUNK_SIZE - o);
      dst.set(this.chunk(i).subarray(o, o + n), dstOff);
      off += n; dstOff += n; len -= n;
    }
  }

  /** Copy src[srcOff..srcOff+len) to phys. */
  write(phys: number, src: Uint8Array, srcOff: number, len: number): void {
    let off = phys - this.base;
    while (len > 0) {
      const i = Math.floor(off / CHUNK_SIZE), o = off % CHUNK_SIZE;
      const n = Math.min(len, CHUNK_SIZE - o);
      this.chunk(i).set(src.subarray(srcOff, srcOff + n), o);
      off += n; srcOff += n; len -= n;
    }
  }

  fill(phys: number, value: number, len: number): void {
    let off = phys - this.base;
    while (len > 0) {
      const i = Math.floor(off / CHUNK_SIZE), o = off % CHUNK_SIZE;
      const n = Math.min(len, CHUNK_SIZE - o);
      this.chunk(i).fill(value, o, o + n);
      off += n; len -= n;
    }
  }

  /** A device's RAM-to-RAM move of [src, src+len) to dst that does not overlap it, chunk piece
   *  by chunk piece. */
  move(dst: number, src: number, len: number): void {
    let d = dst - this.base, s = src - this.base;
    while (len > 0) {
      const di = Math.floor(d / CHUNK_SIZE), si = Math.floor(s / CHUNK_SIZE);
      const doff = d % CHUNK_SIZE, soff = s % CHUNK_SIZE;
      const n = Math.min(len, CHUNK_SIZE - doff, CHUNK_SIZE - soff);
      const sc = this.chunk(si);
      if (di === si) sc.copyWithin(doff, soff, soff + n);
      else this.chunk(di).set(sc.subarray(soff, soff + n), doff);
      d += n; s += n; len -= n;
    }
  }

  // Typed access; the caller guarantees the access does not cross a chunk (true for any
  // naturally aligned access, and the CPU paths split unaligned ones).
  get8(phys: number): number { const off = phys - this.base; return this.view(off).getUint8(off & CHUNK_MASK); }
  get16(phys: number): number { const off = phys - this.base; return this.view(off).getUint16(off & CHUNK_MASK, true); }
  get32(phys: number): number { const off = phys - this.base; return this.view(off).getUint32(off & CHUNK_MASK, true); }
  set8(phys: number, v: number): void { const off = phys - this.base; this.view(off).setUint8(off & CHUNK_MASK, v); }
  set16(phys: number, v: number): void { const off = phys - this.base; this.view(off).setUint16(off & CHUNK_MASK, v, true); }
  set32(phys: number, v: number): void { const off = phys - this.base; this.view(off).setUint32(off & CHUNK_MASK, v >>> 0, true); }

  /** Does [phys, phys+len) stay inside one chunk (so the typed accessors may be used)? */
  same_chunk(phys: number, len: number): boolean {
    const off = phys - this.base;
    return (off & CHUNK_MASK) + len <= CHUNK_SIZE;
  }
}
