// Tasklets (kernel/softirq.c): work an interrupt handler defers, run in softirq context soon
// after, never while interrupts are off or bottom halves disabled. dmaengine's completion
// callbacks run here (virt-dma's vchan_complete), so sleeping in one is reported as Linux does.
import { M } from './machine.ts';
import { KernelHalt, SOFTIRQ_OFFSET } from './sched.ts';
import { exception_oops } from './die.ts';

export interface tasklet_struct {
  func: (t: tasklet_struct) => void;
  /** TASKLET_STATE_SCHED: queued to run. */
  scheduled: boolean;
  /** TASKLET_STATE_RUN: running now. */
  running: boolean;
  /** tasklet_disable() depth. */
  count: number;
  /** The driver that set it up (leak attribution while it runs). */
  owner: number;
}

/** How long after tasklet_schedule() softirqs get to run when nothing else is due (the
 *  irq_exit() or ksoftirqd latency; a few microseconds). */
const SOFTIRQ_DELAY_NS = 2000;
/** Each machine's queued tasklets and whether a softirq run is pending on its clock. */
const state = new WeakMap<object, { queue: tasklet_struct[]; armed: boolean }>();
function st(): { queue: tasklet_struct[]; armed: boolean } {
  let x = state.get(M);
  if (!x) state.set(M, x = { queue: [], armed: false });
  return x;
}

export function tasklet_setup(t: tasklet_struct, func: (t: tasklet_struct) => void): void {
  t.func = func;
  t.scheduled = false;
  t.running = false;
  t.count = 0;
  t.owner = M.owner;
}
/** A tasklet, set up (DECLARE_TASKLET()). */
export function DECLARE_TASKLET(func: (t: tasklet_struct) => void): tasklet_struct {
  const t = {} as tasklet_struct;
  tasklet_setup(t, func);
  return t;
}
/** tasklet_init(t, func, data): the older form; `func` gets `data`. */
export function tasklet_init<T>(t: tasklet_struct, func: (data: T) => void, data: T): void {
  tasklet_setup(t, () => func(data));
}

export function tasklet_schedule(t: tasklet_struct): void {
  if (t.scheduled) return;
  t.scheduled = true;
  st().queue.push(t);
  raise();
}
export const tasklet_hi_schedule = tasklet_schedule;

function raise(): void {
  const x = st();
  if (x.armed) return;
  x.armed = true;
  M.clock.schedule(SOFTIRQ_DELAY_NS, () => {
    x.armed = false;
    run_softirqs();
  }, 'softirq');
}

/** do_softirq(): run the queued tasklets, unless this context cannot take them now. */
export function run_softirqs(): void {
  const s = M.sched, q = st().queue;
  if (!q.length) return;
  if (s.in_interrupt() || s.irqs_disabled()) {
    raise();
    return;
  }
  for (const t of q.splice(0)) {
    if (t.count > 0) q.push(t);
    else run_one(t);
  }
  if (q.length) raise();
}

function run_one(t: tasklet_struct): void {
  const s = M.sched;
  t.scheduled = false;
  t.running = true;
  const preempt = s.preempt, irq_off = s.irq_off;
  s.preempt += SOFTIRQ_OFFSET;
  const busy = s.enter_busy(), owner = M.owner;
  M.owner = t.owner;
  try {
    t.func(t);
  } catch (e) {
    // An oops in softirq context: "Fatal exception in interrupt", and nothing runs after it.
    const halt = e instanceof KernelHalt ? e : exception_oops(e);
    if (M.panicked && s.task.pid !== 0) throw halt;
  } finally {
    M.owner = owner;
    s.leave_busy(busy);
    // A callback that returned with a lock held or interrupts off: the context is put back.
    s.preempt = preempt;
    s.irq_off = irq_off;
    t.running = false;
  }
}

/** tasklet_kill(): wait until it is neither queued nor running (may sleep). */
export function tasklet_kill(t: tasklet_struct): void {
  if (M.sched.in_interrupt()) M.printk(5, 'Attempt to kill tasklet from interrupt');
  // From the tasklet itself the kernel would spin forever; here it returns.
  if (t.running || !t.scheduled) return;
  // It waits for the queued tasklet to have run: here it runs now, in softirq context.
  const q = st().queue, i = q.indexOf(t);
  if (i >= 0) q.splice(i, 1);
  run_one(t);
}

export function tasklet_disable(t: tasklet_struct): void {
  t.count++;
}
export function tasklet_enable(t: tasklet_struct): void {
  if (t.count > 0 && --t.count === 0 && t.scheduled) raise();
}
