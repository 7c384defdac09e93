// Time as drivers see it (include/linux/jiffies.h, delay.h, kernel/time/timer.c): jiffies
// advanced by the timer tick, sleeping waits that let the machine run, busy-waits that spin.
import { M } from './machine.ts';
import { take_site, type Site } from './site.ts';
import type { Ref } from '../lib/ref.ts';
import { ETIMEDOUT } from './errno.ts';

/** Linux starts jiffies 5 minutes before wrapping, so wrap bugs show early. */
export const INITIAL_JIFFIES = 0xfffb6c20;
export let jiffies = INITIAL_JIFFIES;
export let HZ = 250;

/** The timer tick: called by the machine every 1/HZ s of virtual time. */
export function __set_jiffies(now_ns: number, hz: number): void {
  HZ = hz;
  jiffies = INITIAL_JIFFIES + Math.floor(now_ns / (1e9 / hz));
}

export function get_jiffies_64(): number {
  return jiffies;
}
export function msecs_to_jiffies(ms: number): number {
  return Math.ceil((ms * HZ) / 1000);
}
export function usecs_to_jiffies(us: number): number {
  return Math.ceil((us * HZ) / 1e6);
}
export function jiffies_to_msecs(j: number): number {
  return Math.floor((j * 1000) / HZ);
}
export function jiffies_to_usecs(j: number): number {
  return Math.floor((j * 1e6) / HZ);
}
/** What a CPU spends on one turn of a polling loop. The time_*() comparisons and
 *  completion_done() let it pass, so `while (time_before(jiffies, end))` and
 *  `while (!completion_done(&c))` reach their end (and the watchdog) as on a real CPU instead
 *  of spinning forever at one instant. */
export const POLL_TURN_NS = 1000;

export function time_after(a: number, b: number): boolean {
  spin_ns(POLL_TURN_NS);
  return b - a < 0;
}
export function time_before(a: number, b: number): boolean {
  return time_after(b, a);
}
export function time_after_eq(a: number, b: number): boolean {
  spin_ns(POLL_TURN_NS);
  return a - b >= 0;
}
export function time_before_eq(a: number, b: number): boolean {
  return time_after_eq(b, a);
}
export function time_is_before_jiffies(a: number): boolean {
  return time_after(jiffies, a);
}
export function time_is_after_jiffies(a: number): boolean {
  return time_before(jiffies, a);
}

export function ktime_get(): number {
  return M.clock.now;
}
export function ktime_get_ns(): number {
  return M.clock.now;
}
export function ktime_to_ns(t: number): number {
  return t;
}
export function ktime_to_us(t: number): number {
  return Math.floor(t / 1000);
}
export function ktime_to_ms(t: number): number {
  return Math.floor(t / 1e6);
}
export function ktime_sub(a: number, b: number): number {
  return a - b;
}

/** Sleep: other work (devices, interrupts) runs while this context waits. `where` is the
 *  might_sleep() location for the functions that have one (null for msleep & co, which in 6.1
 *  only reach the scheduler's "scheduling while atomic"). */
export function sleep_ns(ns: number, site: Site, where: string | null): void {
  if (where) M.sched.might_sleep(where, site);
  else M.sched.schedule_bug(site);
  M.clock.advance_to(M.clock.now + ns);
  M.sched.slept();
}

/** Busy-wait: time passes, interrupts can still come in, but this context does not sleep. */
export function spin_ns(ns: number): void {
  M.clock.advance_to(M.clock.now + ns);
  M.sched.check_lockup();
}

export function msleep(ms: number): void {
  sleep_ns(ms * 1e6, take_site(msleep), null);
}
export function msleep_interruptible(ms: number): number {
  sleep_ns(ms * 1e6, take_site(msleep_interruptible), null);
  return 0;
}
export function ssleep(s: number): void {
  sleep_ns(s * 1e9, take_site(ssleep), null);
}
export function usleep_range(min_us: number, max_us: number): void {
  void max_us;
  sleep_ns(min_us * 1000, take_site(usleep_range), null);
}
export function fsleep(us: number): void {
  if (us <= 10) spin_ns(us * 1000);
  else sleep_ns(us * 1000, take_site(fsleep), null);
}
export function udelay(us: number): void {
  spin_ns(us * 1000);
}
export function ndelay(ns: number): void {
  spin_ns(ns);
}
export function mdelay(ms: number): void {
  spin_ns(ms * 1e6);
}
export function cpu_relax(): void {
  spin_ns(10);
}
export function schedule(): void {
  sleep_ns(1000, take_site(schedule), null);
}
export function schedule_timeout(j: number): number {
  sleep_ns(j * (1e9 / HZ), take_site(schedule_timeout), null);
  return 0;
}
export function schedule_timeout_uninterruptible(j: number): number {
  sleep_ns(j * (1e9 / HZ), take_site(schedule_timeout_uninterruptible), null);
  return 0;
}

/** read*_poll_timeout() (include/linux/iopoll.h): read until cond(val) holds, sleeping
 *  sleep_us between reads (busy-waiting in the _atomic form), for at most timeout_us
 *  (0 = forever). Returns 0, or -ETIMEDOUT with val holding the last value read. */
export function poll_timeout(read: () => number, val: Ref<number> | null, cond: (v: number) => boolean,
  sleep_us: number, timeout_us: number, atomic: boolean, site: Site): number {
  const deadline = timeout_us ? M.clock.now + timeout_us * 1000 : Infinity;
  if (!atomic && sleep_us) M.sched.might_sleep('include/linux/iopoll.h:47', site);
  for (;;) {
    const v = read();
    if (val) val.value = v;
    if (cond(v)) return 0;
    if (M.clock.now > deadline) {
      const last = read();
      if (val) val.value = last;
      return cond(last) ? 0 : -ETIMEDOUT;
    }
    if (atomic) spin_ns(Math.max(sleep_us, 0.01) * 1000);
    else if (sleep_us) sleep_ns(sleep_us * 1000, site, null);
    else spin_ns(10);
  }
}
