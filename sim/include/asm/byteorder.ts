// asm/byteorder.h: both machine shapes are little-endian, so the le conversions are identity.
export function cpu_to_le16(x: number): number { return x & 0xffff; }
export function cpu_to_le32(x: number): number { return x >>> 0; }
export function cpu_to_le64(x: number): number { return x; }
export function le16_to_cpu(x: number): number { return x & 0xffff; }
export function le32_to_cpu(x: number): number { return x >>> 0; }
export function le64_to_cpu(x: number): number { return x; }
export function cpu_to_be16(x: number): number { return ((x & 0xff) << 8) | ((x >> 8) & 0xff); }
export function be16_to_cpu(x: number): number { return cpu_to_be16(x); }
export function cpu_to_be32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}
export function be32_to_cpu(x: number): number { return cpu_to_be32(x); }
