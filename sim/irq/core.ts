// Interrupt delivery (kernel/irq/handle.c, spurious.c): lines raised by devices, handlers run
// in hard-IRQ context with interrupts off, level-triggered lines re-fire until acknowledged,
// unhandled and storming interrupts are reported and the line disabled, as Linux does.
import { M } from '../kernel/machine.ts';
import { HARDIRQ_OFFSET, KernelHalt } from '../kernel/sched.ts';
import { T } from '../kernel/trace.ts';
import { arch_site } from '../kernel/diag.ts';
import { hashed_ptr } from '../lib/vsprintf.ts';
import { exception_oops } from '../kernel/die.ts';
import { find_held, unhold, type device } from '../base/device.ts';
import type { Site } from '../kernel/site.ts';

export const IRQ_NONE = 0, IRQ_HANDLED = 1, IRQ_WAKE_THREAD = 2;
export type irqreturn_t = number;
export type irq_handler_t<T = any> = (irq: number, dev_id: T) => irqreturn_t;

export interface IrqAction {
  handler: irq_handler_t | null;
  thread_fn: irq_handler_t | null;
  flags: number;
  name: string;
  dev_id: unknown;
  owner: number;
  site: Site;
  /** The device whose driver asked for it (for "not mine" checks); null if unknown. */
  dev: device | null;
  broken: boolean;
}

/** Something that can pull an interrupt line (a device model). */
export interface IrqSource { dev: device | null; asserting(): boolean }

export interface IrqDesc {
  irq: number;
  actions: IrqAction[];
  /** Level-triggered lines: the sources wired to it. */
  sources: IrqSource[];
  edge: boolean;
  /** An edge (MSI) arrived that was not yet handled. */
  pending: boolean;
  depth: number;
  count: number;
  unhandled: number;
  in_progress: boolean;
  disabled_by_storm: boolean;
  /** Torn down (x86: the INTx GSI unmapped by the last pci_disable_device(); MSI: the vectors
   *  freed): request_irq() fails, free_irq() finds nothing, until it is set up again. */
  freed: boolean;
  /** Enabled PCI functions routed to this INTx line (x86 keeps the GSI mapped while any is). */
  users: number;
}

export class IrqCore {
  readonly descs = new Map<number, IrqDesc>();
  private delivering = false;

  /** Create (or return) the descriptor of an interrupt line. */
  line(irq: number, edge = false): IrqDesc {
    let d = this.descs.get(irq);
    if (!d) {
      d = { irq, actions: [], sources: [], edge, pending: false, depth: 0, count: 0, unhandled: 0, in_progress: false, disabled_by_storm: false, freed: false, users: 0 };
      this.descs.set(irq, d);
    }
    return d;
  }

  /** A level-triggered source changed state (INTx). */
  level_changed(irq: number): void {
    if (this.injected(irq)) return;
    this.deliver();
  }

  /** An edge-triggered interrupt (an MSI message). */
  edge(irq: number): void {
    const d = this.line(irq, true);
    if (this.injected(irq)) return;
    d.pending = true;
    this.deliver();
  }

  /** Fault injection: lose this interrupt, or deliver it later. True if it was taken care of. */
  private injected(irq: number): boolean {
    const f = M.faults;
    const d = this.descs.get(irq);
    const raised = d ? (d.edge || d.sources.some((s) => s.asserting())) : false;
    if (!raised) return false;
    if (f.drop_irqs > 0) {
      f.drop_irqs--;
      M.trace.note(M.clock.now, -1, `fault injection: interrupt ${irq} lost`);
      return true;
    }
    if (f.delay_irqs_ns > 0) {
      const ns = f.delay_irqs_ns;
      M.clock.schedule(ns, () => {
        const dd = this.line(irq, d!.edge);
        if (dd.edge) dd.pending = true;
        this.deliver();
      }, 'delayed interrupt');
      return true;
    }
    return false;
  }

  private wants_service(d: IrqDesc): boolean {
    // A line nobody has requested is shut down (masked at the irqchip, as __free_irq() leaves
    // it when the last handler goes): a device asserting it interrupts no one.
    if (d.freed || d.actions.length === 0 || d.depth > 0 || d.disabled_by_storm || d.in_progress) return false;
    return d.edge ? d.pending : d.sources.some((s) => s.asserting());
  }

  /** Run handlers for every line that needs it, if the CPU can take interrupts now. */
  deliver(): void {
    const s = M.sched;
    if (M.panicked || this.delivering || s.irq_off > 0 || s.in_hardirq()) return;
    this.delivering = true;
    try {
      for (let again = true; again;) {
        again = false;
        for (const d of this.descs.values()) {
          if (this.wants_service(d)) {
            this.handle(d);
            again = true;
          }
        }
      }
    } finally {
      this.delivering = false;
    }
  }

  private handle(d: IrqDesc): void {
    const s = M.sched;
    let storm = 0;
    let claimed: IrqAction | null = null;
    do {
      d.pending = false;
      d.count++;
      const asserting = new Set(d.sources.filter((x) => x.asserting()).map((x) => x.dev));
      let handled = false;
      const threads: IrqAction[] = [];
      d.in_progress = true;
      // Exception entry: the handler's loads are not performed before the interrupt was taken.
      M.order?.point();
      s.preempt += HARDIRQ_OFFSET;
      s.irq_off++;
      const busy = s.enter_busy();
      const saved_owner = M.owner;
      try {
        for (const a of d.actions) {
          if (a.broken) continue;
          M.owner = a.owner;
          M.trace.emit_named(M.clock.now, T.irq_entry, a.dev ? a.dev.id : -1, a.name, d.irq);
          const ret = this.call(a, d.irq);
          M.trace.emit(M.clock.now, T.irq_exit, a.dev ? a.dev.id : -1, d.irq, ret & IRQ_HANDLED);
          if (ret & IRQ_HANDLED) {
            handled = true;
            claimed = a;
            if (!d.edge && a.dev && d.sources.some((x) => x.dev === a.dev) && !asserting.has(a.dev)) {
              M.diag.report('IRQ_HANDLED_NOT_MINE', [
                `dmalab: ${a.name} ${a.dev.init_name}: irq ${d.irq}: handler returned IRQ_HANDLED, but the device did not raise this interrupt`,
                'dmalab: on a shared line, check your device\'s interrupt status first and return IRQ_NONE when it is not yours',
              ], { sites: [['request_irq() at', a.site]] });
            }
          }
          if (ret & IRQ_WAKE_THREAD && a.thread_fn) threads.push(a);
        }
      } finally {
        M.owner = saved_owner;
        s.leave_busy(busy);
        s.irq_off--;
        s.preempt -= HARDIRQ_OFFSET;
        d.in_progress = false;
      }
      for (const a of threads) this.wake_thread(a, d.irq);
      if (!handled) {
        d.unhandled++;
        if (d.unhandled >= 99900) {
          this.nobody_cared(d);
          return;
        }
      }
      if (!d.edge && handled && d.sources.some((x) => x.asserting())) {
        if (++storm >= 10000) {
          this.storm(d, claimed);
          return;
        }
      }
    } while (this.wants_service(d));
  }

  private warned_enabled = false;

  private call(a: IrqAction, irq: number): number {
    try {
      const fn = a.handler;
      M.sched.slept_in_irq = false;
      const r = fn ? fn(irq, a.dev_id) : IRQ_WAKE_THREAD;
      if (M.sched.slept_in_irq && !this.warned_enabled) {
        // Sleeping re-enabled interrupts inside the handler; genirq notices (WARN_ONCE).
        this.warned_enabled = true;
        M.printk(4, '------------[ cut here ]------------');
        M.printk(4, `irq ${irq} handler ${fn?.name || 'handler'}+0x0/0x57 [${a.name}] enabled interrupts`);
        M.printk(4, 'WARNING: CPU: 0 PID: ' + M.sched.task_line().pid + ' at ' + arch_site('kernel/irq/handle.c:161 __handle_irq_event_percpu+0x51/0x9e'));
      }
      if (typeof r !== 'number') {
        M.printk(4, `dmalab: irq ${irq} handler '${a.name}' returned ${String(r)} instead of IRQ_HANDLED or IRQ_NONE`);
        return r ? IRQ_HANDLED : IRQ_NONE;
      }
      return r;
    } catch (e) {
      // An oops in a hard-IRQ handler panics ("Fatal exception in interrupt"): nothing runs
      // after it, so the task the interrupt came in on stops too.
      a.broken = true;
      const halt = e instanceof KernelHalt ? e : exception_oops(e);
      if (M.panicked) {
        if (M.sched.task.pid !== 0) throw halt;
        return IRQ_HANDLED;
      }
      // A soft lockup in the handler: Linux would spin on; dmalab takes the handler off.
      M.printk(4, `dmalab: handler '${a.name}' on irq ${irq} disabled so the run can go on`);
      return IRQ_HANDLED;
    }
  }

  /** Threaded handlers run in their own kernel thread, in process context. */
  private wake_thread(a: IrqAction, irq: number): void {
    M.clock.schedule(5000, () => {
      const saved = M.owner;
      M.owner = a.owner;
      try {
        M.sched.as_task({ comm: `irq/${irq}-${a.name}`, pid: 90 + irq }, () => {
          try { a.thread_fn!(irq, a.dev_id); } catch (e) { if (!(e instanceof KernelHalt)) exception_oops(e); }
        });
      } finally {
        M.owner = saved;
      }
    }, 'irq thread');
  }

  /** Take the handlers `dev`'s driver left installed off every line: nothing calls into a driver
   *  that has gone (dmalab lists them among its leftovers). */
  drop_handlers_of(dev: device): void {
    for (const d of this.descs.values()) {
      for (let i = d.actions.length - 1; i >= 0; i--) if (d.actions[i]!.dev === dev) d.actions.splice(i, 1);
    }
  }

  /**
   * The descriptor of `irq` is freed (irq_free_descs): its /proc/irq directory goes, and a
   * handler still installed is the kernel's remove_proc_entry() WARN, which names one of them.
   * `site` is the driver's call that tore it down (its frame in the trace), or null when the
   * kernel did it on its own (devres at unbind). The handlers go with it: no interrupt reaches
   * them again.
   */
  free_desc(irq: number, site: Site | null, how: string): void {
    const d = this.descs.get(irq);
    if (!d || d.freed) return;
    d.freed = true;
    const left = d.actions.splice(0);
    const a = left[0];
    if (!a) return;
    M.diag.report('IRQ_LEAK_AT_UNBIND', [`remove_proc_entry: removing non-empty directory 'irq/${irq}', leaking at least '${a.name}'`], {
      warn: 'fs/proc/generic.c:740 remove_proc_entry+0xd5/0xe8',
      // Each teardown is its own event (a rebind that leaks again warns again).
      distinct: true,
      sites: [['request_irq() at', a.site], ...(site ? [[`${how} at`, site] as [string, Site]] : [])],
      ...(site ? { frame: site } : { kernel_path: true }),
      notes: [`dmalab: ${how}${site ? '' : ', run by devres at unbind,'} tore down irq ${irq} while '${a.name}' still had a handler on it: free_irq() it first`],
    });
    // The kernel has said it, with the line: not listed again among dmalab's leaks.
    for (const x of left) if (x.dev) unhold(x.dev, find_held(x.dev, 'request_irq()', `irq ${irq} (${x.name})`));
  }

  /** Set up again (the GSI mapped, MSI vectors allocated): a fresh descriptor. */
  renew_desc(irq: number): void {
    const d = this.descs.get(irq);
    if (d?.freed) Object.assign(d, { freed: false, depth: 0, count: 0, unhandled: 0, disabled_by_storm: false, pending: false });
  }

  private nobody_cared(d: IrqDesc): void {
    d.disabled_by_storm = true;
    M.diag.report('IRQ_NOBODY_CARED', [
      `irq ${d.irq}: nobody cared (try booting with the "irqpoll" option)`,
      'handlers:',
      // %p hashes the pointer (a 32-bit hash, zero-extended); %ps adds the module's name.
      ...d.actions.map((a) => `[<${hashed_ptr(a.handler?.name ?? '')}>] ${a.handler?.name ? `${a.handler.name} [${a.name}]` : 'irq_default_primary_handler'}`),
      `Disabling IRQ #${d.irq}`,
    ], { sites: d.actions.map((a) => ['request_irq() at', a.site] as [string, Site]) });
  }

  private storm(d: IrqDesc, claimed: IrqAction | null): void {
    d.disabled_by_storm = true;
    M.diag.report('IRQ_STORM', [
      `dmalab: irq ${d.irq}: interrupt storm: the handler returned IRQ_HANDLED 10000 times but the device still asserts the line`,
      'dmalab: a level-triggered interrupt fires until the device is acknowledged (write its interrupt-acknowledge register)',
      `Disabling IRQ #${d.irq}`,
    ], { sites: (claimed ? [claimed] : d.actions).map((a) => [`request_irq() of '${a.name}' at`, a.site] as [string, Site]) });
  }
}
