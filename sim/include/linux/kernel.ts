// include/linux/kernel.h, math.h, minmax.h, align.h (the helpers drivers lean on)
export { lower_32_bits, upper_32_bits } from '../../io/io.ts';
import { vsprintf } from '../../lib/vsprintf.ts';
export function ALIGN(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}
export function ALIGN_DOWN(x: number, a: number): number {
  return Math.floor(x / a) * a;
}
export function IS_ALIGNED(x: number, a: number): boolean {
  return x % a === 0;
}
export function DIV_ROUND_UP(n: number, d: number): number {
  return Math.ceil(n / d);
}
export function min(a: number, b: number): number {
  return Math.min(a, b);
}
export function max(a: number, b: number): number {
  return Math.max(a, b);
}
export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}
export function ARRAY_SIZE(a: ArrayLike<unknown>): number {
  return a.length;
}
/** kasprintf(): the formatted string (vsprintf's conversions); the gfp flags are not used here. */
export function kasprintf(_gfp: number, fmt: string, ...args: unknown[]): string {
  return vsprintf(fmt, args);
}
