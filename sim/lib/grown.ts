// Growing the typed-array tables the checker and the trace keep per record.

type Typed = Int32Array | Float64Array | Uint8Array | Int16Array;

/** A copy of `a` with room for `n` entries (the new ones zero). */
export function grown<A extends Typed>(a: A, n: number): A {
  const b = new (a.constructor as new (n: number) => A)(n);
  b.set(a as never);
  return b;
}
