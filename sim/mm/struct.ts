// C structs laid out in kernel memory, for descriptors, rings and driver state that a device
// or the cache must see as bytes. Fields get their natural alignment, as a C compiler gives:
//   const edu_desc = struct_layout({ addr: 'u64', len: 'u32', flags: 'u32', pad: ['u8', 64, 128] });
//   edu_desc.sizeof; edu_desc.offsetof('len'); edu_desc.set(p, 'len', 4096); edu_desc.get(p, 'len');
// An array field ['u8', n] or ['u8', n, align] is an embedded buffer: field(p, 'pad') is its address.
import { cpu_load, cpu_store } from './access.ts';

type Scalar = 'u8' | 'u16' | 'u32' | 'u64' | 'ptr';
type FieldSpec = Scalar | [Scalar, number] | [Scalar, number, number];
const SIZE: Record<Scalar, number> = { u8: 1, u16: 2, u32: 4, u64: 8, ptr: 8 };

export interface Layout<K extends string> {
  readonly sizeof: number;
  readonly align: number;
  offsetof(f: K): number;
  /** Address of field f of the struct at p. */
  field(p: number, f: K): number;
  get(p: number, f: K, i?: number): number;
  set(p: number, f: K, v: number, i?: number): void;
}

export function struct_layout<S extends Record<string, FieldSpec>>(spec: S): Layout<keyof S & string> {
  const off = new Map<string, { off: number; size: number; count: number }>();
  let at = 0, align = 1;
  for (const [name, f] of Object.entries(spec)) {
    const [type, count, al] = typeof f === 'string' ? [f, 1, 0] : [f[0], f[1], f[2] ?? 0];
    const size = SIZE[type];
    const a = Math.max(size, al);
    at = Math.ceil(at / a) * a;
    off.set(name, { off: at, size, count });
    at += size * count;
    align = Math.max(align, a);
  }
  const sizeof = Math.ceil(at / align) * align;
  const f = (name: string) => {
    const x = off.get(name);
    if (!x) throw new Error(`struct has no field '${name}'`);
    return x;
  };
  // get/set are passed to the CPU path as the entry point, so a report's call site is the
  // driver line that called them.
  function get(p: number, n: string, i = 0): number {
    const x = f(n);
    return cpu_load(p + x.off + i * x.size, x.size, get);
  }
  function set(p: number, n: string, v: number, i = 0): void {
    const x = f(n);
    cpu_store(p + x.off + i * x.size, x.size, v, set);
  }
  return { sizeof, align, offsetof: (n) => f(n).off, field: (p, n) => p + f(n).off, get, set };
}
