// Execution contexts (process, softirq, hardirq), preemption and interrupt masking, the
// "sleeping function called from invalid context" check, and the soft-lockup watchdog.
import { M } from './machine.ts';
import type { Site } from './site.ts';

export const SOFTIRQ_OFFSET = 0x100, HARDIRQ_OFFSET = 0x10000;

export interface Task { comm: string; pid: number }

/** Thrown to unwind out of driver code when the machine cannot go on with it (an oops, a
 *  BUG, a soft lockup). The harness catches it; the rest of the run continues. */
export class KernelHalt extends Error {
  constructor(readonly kind: 'oops' | 'bug' | 'soft-lockup', message: string, readonly cause_error?: unknown) {
    super(message);
    this.name = 'KernelHalt';
  }
}

export class Sched {
  /** preempt_count(): preempt_disable depth | softirq | hardirq bits. */
  preempt = 0;
  /** local_irq_disable depth. */
  irq_off = 0;
  task: Task = { comm: 'swapper/0', pid: 0 };
  /** Virtual time the current process context last slept (soft-lockup watchdog). */
  busy_since = 0;
  /** Wall-clock budget for one harness call into driver code, in ms (0 = none); below the
   *  grader's 3 s kill, so a loop that calls the sim is reported as a soft lockup first. */
  wall_budget_ms = 2000;
  private wall_deadline = Infinity;
  private calls = 0;
  /** The soft-lockup threshold in virtual ns (2 * watchdog_thresh). */
  lockup_ns = 20e9;

  in_hardirq(): boolean { return (this.preempt & 0xf0000) !== 0; }
  in_softirq(): boolean { return (this.preempt & 0xff00) !== 0; }
  in_interrupt(): boolean { return (this.preempt & 0xfff00) !== 0; }
  in_atomic(): boolean { return this.preempt !== 0; }
  irqs_disabled(): boolean { return this.irq_off > 0; }

  task_line(): Task {
    return this.in_hardirq() && this.task.pid === 0 ? { comm: 'swapper/0', pid: 0 } : this.task;
  }

  /** Run fn as task `t` in process context (a harness entry into the driver). */
  as_task<R>(t: Task, fn: () => R): R {
    const saved = this.task, savedBusy = this.busy_since, savedDeadline = this.wall_deadline;
    this.task = t;
    this.busy_since = M.clock.now;
    if (this.wall_budget_ms) this.wall_deadline = performance.now() + this.wall_budget_ms;
    try {
      return fn();
    } finally {
      this.task = saved;
      this.busy_since = savedBusy;
      this.wall_deadline = savedDeadline;
    }
  }

  /** The current context gives up the CPU: resets the soft-lockup clock. */
  slept(): void {
    this.busy_since = M.clock.now;
  }

  /** might_sleep() (CONFIG_DEBUG_ATOMIC_SLEEP, as on debug kernels): complain if the caller
   *  is atomic. `where` is the kernel file:line the check sits at in Linux 6.1, as the BUG
   *  line prints it. */
  might_sleep(where: string, site: Site): boolean {
    if (!this.in_atomic() && !this.irqs_disabled()) return true;
    const t = this.task_line();
    M.diag.report('SLEEP_IN_ATOMIC', [
      `BUG: sleeping function called from invalid context at ${where}`,
      `in_atomic(): ${this.in_atomic() ? 1 : 0}, irqs_disabled(): ${this.irqs_disabled() ? 1 : 0}, non_block: 0, pid: ${t.pid}, name: ${t.comm}`,
      `preempt_count: ${this.preempt.toString(16)}, expected: 0`,
      ...this.stack_dump(false),
    ], { sites: [['Called at', site]] });
    return false;
  }

  /** schedule() from atomic context (kernel/sched/core.c __schedule_bug): msleep() and
   *  friends have no might_sleep() in 6.1, so this is what a sleep in an IRQ handler gives. */
  schedule_bug(site: Site): void {
    if (!this.in_atomic() && !this.irqs_disabled()) return;
    const t = this.task_line();
    M.diag.report('SCHEDULING_WHILE_ATOMIC', [
      `BUG: scheduling while atomic: ${t.comm}/${t.pid}/0x${this.preempt.toString(16).padStart(8, '0')}`,
      ...this.stack_dump(),
    ], { sites: [['Slept at', site]] });
    if (this.in_hardirq()) {
      this.slept_in_irq = true;
      this.irq_sleeps++;
    }
  }

  /** Times a hard-IRQ handler slept (each leaves the preempt count off, as on a real kernel). */
  irq_sleeps = 0;

  /** Set when a hard-IRQ handler scheduled (the IRQ core reports it enabled interrupts). */
  slept_in_irq = false;

  /** The first lines of dump_stack(): the CPU line and the context of the call trace, after
   *  print_modules()'s line where the caller prints it (__schedule_bug does; __might_resched
   *  does not, as measured on both rigs: docs/kernel-6.1-measured.md). */
  private stack_dump(modules = true): string[] {
    const t = this.task_line();
    return [...(modules ? [`Modules linked in: ${M.modules().join(' ')}`] : []),
      `CPU: 0 PID: ${t.pid} Comm: ${t.comm} Not tainted 6.1.0-dmalab #1`, 'Call Trace:', this.in_hardirq() ? ' <IRQ>' : ' <TASK>'];
  }

  /** Busy time passes in the current context (MMIO reads, udelay, spinning): the watchdogs. */
  check_lockup(): void {
    const stuck = M.clock.now - this.busy_since;
    if (stuck > this.lockup_ns) this.lockup(Math.round(stuck / 1e9));
    if ((++this.calls & 0xfff) === 0 && performance.now() > this.wall_deadline) {
      this.lockup(Math.max(1, Math.round(stuck / 1e9)), true);
    }
  }

  /** Enter a context that can spin on its own (an IRQ handler, a callback); returns the
   *  saved watchdog state for leave(). */
  enter_busy(): number {
    const s = this.busy_since;
    this.busy_since = M.clock.now;
    return s;
  }
  leave_busy(saved: number): void {
    this.busy_since = saved;
  }

  private lockup(secs: number, wall = false): never {
    const t = this.task_line();
    // Where the CPU is stuck: the learner's innermost frame, as the watchdog's RIP line says.
    const here: { stack?: string } = {};
    const lim = Error.stackTraceLimit;
    Error.stackTraceLimit = 40;
    Error.captureStackTrace(here);
    Error.stackTraceLimit = lim;
    M.diag.report('SOFT_LOCKUP', [
      `watchdog: BUG: soft lockup - CPU#0 stuck for ${secs}s! [${t.comm}:${t.pid}]`,
      ...(wall ? [`dmalab: the driver ran for ${this.wall_budget_ms} ms of real time without finishing (an endless loop?)`] : []),
    ], { distinct: true, sites: [['Stuck at', here]] });
    this.wall_deadline = Infinity;
    throw new KernelHalt('soft-lockup', `soft lockup: stuck for ${secs}s`);
  }
}
