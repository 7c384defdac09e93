// include/linux/bits.h
export function BIT(n: number): number {
  return 2 ** n;
}
/** GENMASK(h, l): bits l..h set (h < 53 here). */
export function GENMASK(h: number, l: number): number {
  return 2 ** (h + 1) - 2 ** l;
}
export function BIT_ULL(n: number): bigint {
  return 1n << BigInt(n);
}
