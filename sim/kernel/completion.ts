// Completions (kernel/sched/completion.c): one context waits, another (often an interrupt
// handler) says "done". Waiting lets the machine run: device events and interrupts happen.
import { M } from './machine.ts';
import { take_site, type Site } from './site.ts';
import { KernelHalt } from './sched.ts';
import { HZ, POLL_TURN_NS, spin_ns } from './time.ts';

export interface completion { done: number }

export const MAX_SCHEDULE_TIMEOUT = Number.MAX_SAFE_INTEGER;

/** DECLARE_COMPLETION(name): a completion, ready to use. */
export function DECLARE_COMPLETION(): completion {
  return { done: 0 };
}
export function init_completion(x: completion): void {
  x.done = 0;
}
export function reinit_completion(x: completion): void {
  x.done = 0;
}
export function complete(x: completion): void {
  if (x.done !== 0xffffffff) x.done++;
}
export function complete_all(x: completion): void {
  x.done = 0xffffffff;
}
export function completion_done(x: completion): boolean {
  if (!x.done) spin_ns(POLL_TURN_NS);
  return x.done > 0;
}
export function try_wait_for_completion(x: completion): boolean {
  if (!x.done) {
    spin_ns(POLL_TURN_NS);
    return false;
  }
  if (x.done !== 0xffffffff) x.done--;
  return true;
}

/** Called when a wait gives up (a timeout, or the hung-task detector), with the wait's site: a
 *  checker that knows why nothing came says so (the DMA engine's "never issued"). */
export const wait_timeout_hooks: ((site: Site) => void)[] = [];
function timed_out(site: Site): void {
  for (const h of wait_timeout_hooks) h(site);
}

/** The hung-task detector's limit for waits without a timeout. */
const HUNG_TASK_NS = 120e9;

function wait(x: completion, timeout_ns: number, site: Site): boolean {
  M.sched.might_sleep('kernel/sched/completion.c:101', site);
  if (!x.done) M.sched.schedule_bug(site);
  const deadline = M.clock.now + timeout_ns;
  const ok = M.clock.run_until(() => x.done > 0, deadline);
  M.sched.slept();
  if (ok && x.done !== 0xffffffff) x.done--;
  return ok;
}

export function wait_for_completion(x: completion): void {
  const site = take_site(wait_for_completion);
  if (!wait(x, HUNG_TASK_NS, site)) {
    timed_out(site);
    const t = M.sched.task_line();
    M.diag.report('HUNG_TASK', [
      `INFO: task ${t.comm}:${t.pid} blocked for more than 120 seconds.`,
      '      Not tainted 6.1.0-dmalab #1',
      'dmalab: wait_for_completion() without a timeout never returned: nothing called complete()',
    ], { sites: [['Waiting at', site]], distinct: true });
    throw new KernelHalt('soft-lockup', 'hung task: wait_for_completion never completed');
  }
}

/** Returns 0 on timeout, else the jiffies left (at least 1). */
export function wait_for_completion_timeout(x: completion, timeout: number): number {
  const site = take_site(wait_for_completion_timeout);
  const ns = timeout * (1e9 / HZ);
  const start = M.clock.now;
  if (!wait(x, ns, site)) return (timed_out(site), 0);
  return Math.max(1, timeout - Math.floor((M.clock.now - start) / (1e9 / HZ)));
}
export function wait_for_completion_interruptible_timeout(x: completion, timeout: number): number {
  const site = take_site(wait_for_completion_interruptible_timeout);
  const ns = timeout * (1e9 / HZ);
  const start = M.clock.now;
  if (!wait(x, ns, site)) return (timed_out(site), 0);
  return Math.max(1, timeout - Math.floor((M.clock.now - start) / (1e9 / HZ)));
}
export function wait_for_completion_interruptible(x: completion): number {
  wait_for_completion(x);
  return 0;
}
