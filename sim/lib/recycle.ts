// Big buffers a finished machine hands back for the next one to reuse. A hidden test builds a
// machine per test and per fail-nth point, hundreds a run: each one's fresh megabytes (the page
// array, RAM chunks, swiotlb's slots, the cache) were a third of a fault sweep's time, in
// allocation and in the garbage collector. Each part of a machine takes its buffers through
// take_buffer() into a list of its own, and Machine.retire() gives them all back (the harness
// retires a machine once its test is over); a machine never retired (a unit test, the
// playground) just lets them go.

/** Free buffers by byte length, up to KEEP_BYTES in all (a machine gives back a few MiB). */
const free = new Map<number, ArrayBuffer[]>();
const KEEP_BYTES = 64 << 20;
let kept = 0;

/** A buffer of `bytes`, noted in `into` (its owner's list), all zero unless `zero` is false (the
 *  caller overwrites all of it). */
export function take_buffer(into: ArrayBuffer[], bytes: number, zero = true): ArrayBuffer {
  const b = free.get(bytes)?.pop();
  let out: ArrayBuffer;
  if (b) {
    kept -= bytes;
    if (zero) new Uint8Array(b).fill(0);
    out = b;
  } else {
    out = new ArrayBuffer(bytes);
  }
  into.push(out);
  return out;
}

/** Give back a retired machine's buffers (nothing may use them after this). */
export function give_buffers(list: ArrayBuffer[]): void {
  for (const b of list) {
    if (kept + b.byteLength > KEEP_BYTES) continue;
    let l = free.get(b.byteLength);
    if (!l) free.set(b.byteLength, (l = []));
    l.push(b);
    kept += b.byteLength;
  }
  list.length = 0;
}
