// Spinlocks, interrupt masking and mutexes (include/linux/spinlock.h, mutex.h): what makes a
// context atomic, and where sleeping is not allowed.
import { M } from './machine.ts';
import { take_site } from './site.ts';
import { KernelHalt } from './sched.ts';

export interface spinlock_t { locked: boolean; name: string }
export interface mutex { locked: boolean; name: string }

export function DEFINE_SPINLOCK(name = 'lock'): spinlock_t {
  return { locked: false, name };
}
export function spin_lock_init(l: spinlock_t): void {
  l.locked = false;
}

function lock(l: spinlock_t, entry: Function): void {
  if (l.locked) {
    // The CPU spins on the lock for good, so 6.1's soft-lockup watchdog fires (kernel/watchdog.c). spinlock_debug's
    // "spinlock recursion" lines need CONFIG_DEBUG_SPINLOCK, which the rig's kernel lacks:
    // what the lock was, only dmalab says. It is not an Oops.
    const t = M.sched.task_line();
    M.diag.report('SOFT_LOCKUP', [`watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [${t.comm}:${t.pid}]`,
      `dmalab: ${entry.name}() of '${l.name}', which this CPU already holds (taken by this code, or by the code an ` +
      'interrupt handler interrupted): it never comes free'],
    { sites: [['Locked at', take_site(entry)]], distinct: true });
    throw new KernelHalt('soft-lockup', 'spinlock recursion');
  }
  l.locked = true;
  M.sched.preempt++;
  // Acquire, release: ordering points of the weak-ordering model (sim/mm/order.ts).
  M.order?.point();
}
function unlock(l: spinlock_t): void {
  M.order?.drain();
  l.locked = false;
  if (M.sched.preempt > 0) M.sched.preempt--;
}

export function spin_lock(l: spinlock_t): void { lock(l, spin_lock); }
export function spin_unlock(l: spinlock_t): void { unlock(l); }
export function spin_lock_bh(l: spinlock_t): void { lock(l, spin_lock_bh); M.sched.preempt += 0x200; }
export function spin_unlock_bh(l: spinlock_t): void { M.sched.preempt -= 0x200; unlock(l); }
export function spin_lock_irq(l: spinlock_t): void { M.sched.irq_off++; lock(l, spin_lock_irq); }
export function spin_unlock_irq(l: spinlock_t): void { unlock(l); if (M.sched.irq_off > 0) M.sched.irq_off--; M.irq.deliver(); }
/** spin_lock_irqsave(lock, flags): here flags is returned. */
export function spin_lock_irqsave(l: spinlock_t): number {
  const flags = M.sched.irq_off;
  M.sched.irq_off++;
  lock(l, spin_lock_irqsave);
  return flags;
}
export function spin_unlock_irqrestore(l: spinlock_t, flags: number): void {
  unlock(l);
  M.sched.irq_off = flags;
  if (!flags) M.irq.deliver();
}
export function spin_trylock(l: spinlock_t): boolean {
  if (l.locked) return false;
  lock(l, spin_trylock);
  return true;
}

export function local_irq_save(): number {
  return M.sched.irq_off++;
}
export function local_irq_restore(flags: number): void {
  M.sched.irq_off = flags;
  if (!flags) M.irq.deliver();
}
export function local_irq_disable(): void { M.sched.irq_off++; }
export function local_irq_enable(): void { M.sched.irq_off = 0; M.irq.deliver(); }
export function irqs_disabled(): boolean { return M.sched.irqs_disabled(); }
export function in_interrupt(): boolean { return M.sched.in_interrupt(); }
export function in_irq(): boolean { return M.sched.in_hardirq(); }
export function in_atomic(): boolean { return M.sched.in_atomic(); }
export function might_sleep(): void { M.sched.might_sleep('include/linux/kernel.h:111', take_site(might_sleep)); }

export function DEFINE_MUTEX(name = 'mutex'): mutex {
  return { locked: false, name };
}
export function mutex_init(m: mutex): void {
  m.locked = false;
}
export function mutex_lock(m: mutex): void {
  const site = take_site(mutex_lock);
  M.sched.might_sleep('kernel/locking/mutex.c:283', site);
  if (m.locked) {
    // A mutex its owner locks again blocks that task for good (without CONFIG_DEBUG_MUTEXES/LOCKDEP, which this
    // kernel lacks, nothing says why): the hung-task detector reports it after 120 s, as for any wait.
    M.clock.run_until(() => !m.locked, M.clock.now + 120e9);
    if (m.locked) {
      const t = M.sched.task_line();
      M.diag.report('HUNG_TASK', [
        `INFO: task ${t.comm}:${t.pid} blocked for more than 120 seconds.`,
        '      Not tainted 6.1.0-dmalab #1',
        `dmalab: mutex_lock() of '${m.name}', which this task already holds: a mutex is not recursive, it waits forever`],
      { sites: [['Locked at', site]], distinct: true });
      throw new KernelHalt('soft-lockup', 'hung task: mutex locked twice');
    }
  }
  m.locked = true;
}
export function mutex_trylock(m: mutex): boolean {
  if (m.locked) return false;
  m.locked = true;
  return true;
}
export function mutex_unlock(m: mutex): void {
  m.locked = false;
}
export function mutex_is_locked(m: mutex): boolean {
  return m.locked;
}
