// memset, memcpy and friends (lib/string.c), and the typed loads and stores that stand in for
// C's pointer dereferences (*(u32 *)p = v is put_u32(v, p)). All go through the CPU path:
// MMU, ownership check, cache.
import { check_int, check_addr_len, ADDR } from '../kernel/die.ts';
import { cpu_fill, cpu_load, cpu_read, cpu_store, cpu_write } from './access.ts';

export function memset(s: number, c: number, n: number): number {
  check_addr_len('memset', 's', s, ADDR, 'n', n);
  cpu_fill(s, c, n, memset);
  return s;
}
export function memzero_explicit(s: number, n: number): void {
  cpu_fill(s, 0, n, memzero_explicit);
}
export function memcpy(dst: number, src: number, n: number): number {
  check_int('memcpy', 'dst', dst, ADDR);
  check_addr_len('memcpy', 'src', src, ADDR, 'n', n);
  const b = new Uint8Array(n);
  cpu_read(src, b, 0, n, memcpy);
  cpu_write(dst, b, 0, n, memcpy);
  return dst;
}
export function memmove(dst: number, src: number, n: number): number {
  check_int('memmove', 'dst', dst, ADDR);
  check_addr_len('memmove', 'src', src, ADDR, 'n', n);
  const b = new Uint8Array(n);
  cpu_read(src, b, 0, n, memmove);
  cpu_write(dst, b, 0, n, memmove);
  return dst;
}
export function memcmp(a: number, b: number, n: number): number {
  const x = new Uint8Array(n), y = new Uint8Array(n);
  cpu_read(a, x, 0, n, memcmp);
  cpu_read(b, y, 0, n, memcmp);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

export function get_u8(p: number): number { return cpu_load(p, 1, get_u8); }
export function get_u16(p: number): number { return cpu_load(p, 2, get_u16); }
export function get_u32(p: number): number { return cpu_load(p, 4, get_u32); }
/** A 64-bit load; values above 2^53 lose precision. */
export function get_u64(p: number): number { return cpu_load(p, 8, get_u64); }
export function put_u8(v: number, p: number): void { cpu_store(p, 1, v, put_u8); }
export function put_u16(v: number, p: number): void { cpu_store(p, 2, v, put_u16); }
export function put_u32(v: number, p: number): void { cpu_store(p, 4, v, put_u32); }
export function put_u64(v: number, p: number): void { cpu_store(p, 8, v, put_u64); }

/** Copy n bytes of kernel memory at p out into a new Uint8Array (for checks and printing). */
export function copy_from_mem(p: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  cpu_read(p, b, 0, n, copy_from_mem);
  return b;
}
/** Copy bytes into kernel memory at p. */
export function copy_to_mem(p: number, bytes: Uint8Array | readonly number[]): void {
  const b = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
  cpu_write(p, b, 0, b.length, copy_to_mem);
}
