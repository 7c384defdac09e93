// Hash buckets of intrusive lists over numbered entries, in typed arrays: dma-debug's hash of
// (device, 8 KiB of bus address) -> entries, in the order they were added. Callers keep the
// entries' own fields in their arrays and walk a bucket with first() / next[].
import { IntMap } from './hashtab.ts';
import { grown } from './grown.ts';

const NONE = -1;

/** The bucket of a bus address: 8 KiB of it (debug.c's HASH_FN_SHIFT 13); an error handle
 *  (all ones, -1 here) gets a bucket of its own. */
export function bucket_of(addr: number): number {
  return addr < 0 ? 2 ** 39 - 1 : Math.floor(addr / 8192);
}
/** The key of a device's bucket. */
export function bkey(dev: number, bucket: number): number {
  return dev * 2 ** 40 + bucket;
}

export class Buckets {
  next = new Int32Array(0);
  prev = new Int32Array(0);
  private key = new Float64Array(0);
  /** Is this entry the one its bucket's slot points at? */
  private head = new Uint8Array(0);
  private heads = new IntMap(256);

  /** Room for entries 0..n-1. */
  grow(n: number): void {
    this.next = grown(this.next, n); this.prev = grown(this.prev, n);
    this.key = grown(this.key, n); this.head = grown(this.head, n);
  }

  /** The first entry of a bucket, or -1. */
  first(key: number): number {
    return this.heads.get(key, NONE);
  }

  /** hash_bucket_add: append e at the tail of its bucket (circular: head.prev is the tail). */
  link(e: number, key: number): void {
    this.key[e] = key;
    const h = this.heads.get(key, NONE);
    if (h === NONE) {
      this.next[e] = e; this.prev[e] = e; this.head[e] = 1;
      this.heads.set(key, e);
    } else {
      const tail = this.prev[h]!;
      this.next[tail] = e; this.prev[e] = tail;
      this.next[e] = h; this.prev[h] = e;
      this.head[e] = 0;
    }
  }

  unlink(e: number): void {
    if (this.next[e] === e) this.heads.delete(this.key[e]!);
    else {
      const n = this.next[e]!, p = this.prev[e]!;
      this.next[p] = n; this.prev[n] = p;
      if (this.head[e]) { this.head[n] = 1; this.heads.set(this.key[e]!, n); }
    }
    this.head[e] = 0;
  }
}
