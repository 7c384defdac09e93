// include/linux/iopoll.h: read until a condition holds, with a timeout.
// C's macros take an lvalue for the value and an expression for the condition; here the value
// is an out-reference (or null) and the condition a function of it.
import { poll_timeout } from '../../kernel/time.ts';
import { take_site } from '../../kernel/site.ts';
import { readb, readw, readl, readq, type iomem } from '../../io/io.ts';
import type { Ref } from '../../lib/ref.ts';

type Cond = (val: number) => boolean;
export function readl_poll_timeout(addr: iomem, val: Ref<number> | null, cond: Cond, sleep_us: number, timeout_us: number): number {
  return poll_timeout(() => readl(addr), val, cond, sleep_us, timeout_us, false, take_site(readl_poll_timeout));
}
export function readl_poll_timeout_atomic(addr: iomem, val: Ref<number> | null, cond: Cond, delay_us: number, timeout_us: number): number {
  return poll_timeout(() => readl(addr), val, cond, delay_us, timeout_us, true, take_site(readl_poll_timeout_atomic));
}
export function readq_poll_timeout(addr: iomem, val: Ref<number> | null, cond: Cond, sleep_us: number, timeout_us: number): number {
  return poll_timeout(() => readq(addr), val, cond, sleep_us, timeout_us, false, take_site(readq_poll_timeout));
}
export function readq_poll_timeout_atomic(addr: iomem, val: Ref<number> | null, cond: Cond, delay_us: number, timeout_us: number): number {
  return poll_timeout(() => readq(addr), val, cond, delay_us, timeout_us, true, take_site(readq_poll_timeout_atomic));
}
export function readw_poll_timeout(addr: iomem, val: Ref<number> | null, cond: Cond, sleep_us: number, timeout_us: number): number {
  return poll_timeout(() => readw(addr), val, cond, sleep_us, timeout_us, false, take_site(readw_poll_timeout));
}
export function readb_poll_timeout(addr: iomem, val: Ref<number> | null, cond: Cond, sleep_us: number, timeout_us: number): number {
  return poll_timeout(() => readb(addr), val, cond, sleep_us, timeout_us, false, take_site(readb_poll_timeout));
}
/** read_poll_timeout(op, val, cond, sleep_us, timeout_us, ...): any read function. */
export function read_poll_timeout(op: () => number, val: Ref<number> | null, cond: Cond, sleep_us: number, timeout_us: number): number {
  return poll_timeout(op, val, cond, sleep_us, timeout_us, false, take_site(read_poll_timeout));
}
