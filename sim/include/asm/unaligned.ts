// asm/unaligned.h: little/big-endian loads and stores at any alignment, in kernel memory.
import { cpu_read, cpu_write } from '../../mm/access.ts';
function get(p: number, n: number, le: boolean, entry: Function): number {
  const b = new Uint8Array(n);
  cpu_read(p, b, 0, n, entry);
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + b[le ? n - 1 - i : i]!;
  return v;
}
function put(v: number, p: number, n: number, le: boolean, entry: Function): void {
  const b = new Uint8Array(n);
  let x = BigInt.asUintN(n * 8, BigInt(Math.trunc(v)));
  for (let i = 0; i < n; i++) { b[le ? i : n - 1 - i] = Number(x & 0xffn); x >>= 8n; }
  cpu_write(p, b, 0, n, entry);
}
export function get_unaligned_le16(p: number): number { return get(p, 2, true, get_unaligned_le16); }
export function get_unaligned_le32(p: number): number { return get(p, 4, true, get_unaligned_le32); }
export function get_unaligned_le64(p: number): number { return get(p, 8, true, get_unaligned_le64); }
export function get_unaligned_be16(p: number): number { return get(p, 2, false, get_unaligned_be16); }
export function get_unaligned_be32(p: number): number { return get(p, 4, false, get_unaligned_be32); }
export function put_unaligned_le16(v: number, p: number): void { put(v, p, 2, true, put_unaligned_le16); }
export function put_unaligned_le32(v: number, p: number): void { put(v, p, 4, true, put_unaligned_le32); }
export function put_unaligned_le64(v: number, p: number): void { put(v, p, 8, true, put_unaligned_le64); }
export function put_unaligned_be16(v: number, p: number): void { put(v, p, 2, false, put_unaligned_be16); }
export function put_unaligned_be32(v: number, p: number): void { put(v, p, 4, false, put_unaligned_be32); }
