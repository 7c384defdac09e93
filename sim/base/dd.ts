// Binding drivers to devices (drivers/base/dd.c): really_probe, unbind, and what happens after
// each. After a failed probe and after an unbind, the checker looks for what was left behind:
// dma-debug's own check at unbind, and dmalab's for failed probes and non-DMA resources.
import { M } from '../kernel/machine.ts';
import { KernelHalt } from '../kernel/sched.ts';
import { exception_oops } from '../kernel/die.ts';
import { clear_site, driver_frames, resolve_site, site_str } from '../kernel/site.ts';
import { errname, EPROBE_DEFER, ENODEV, ENXIO } from '../kernel/errno.ts';
import { devres_release_all } from './devres.ts';
import { arch_site } from '../kernel/diag.ts';
import { dev_name, type device, type device_driver } from './device.ts';

export interface DriverRecord { id: number; name: string; drv: device_driver }

/** Checkers of other subsystems (the DMA engine's channels): what a probe returned, and what a
 *  driver left behind after a failed probe or an unbind. */
export interface BindWatch {
  probed(dev: device, rec: DriverRecord, ret: number): void;
  left_behind(dev: device, rec: DriverRecord, when: 'probe' | 'unbind'): void;
}
export const bind_watches: BindWatch[] = [];

/** The result of running driver code under the harness or the driver core. */
export type Outcome<R> = { ok: true; value: R } | { ok: false; halt: 'oops' | 'bug' | 'soft-lockup'; error: unknown };

/** What running driver code returns once the kernel has panicked: nothing runs any more. */
const PANICKED = new KernelHalt('oops', 'the kernel has panicked (Fatal exception): nothing runs after it');

export class DriverCore {
  private next = 1;
  readonly drivers = new Map<object, DriverRecord>();
  /** Devices whose driver crashed: no leak check after an oops (the oops is the news). */
  readonly crashed = new WeakSet<device>();
  /** Probes that returned -EPROBE_DEFER, each with how its bus tries it again
   *  (deferred_probe_pending_list). */
  private deferred = new Map<device, () => void>();
  private retrying = false;

  /** driver_deferred_probe_add(): try this device again after another driver binds. */
  defer(dev: device, retry: () => void): void {
    this.deferred.set(dev, retry);
  }
  /** Forget a deferred probe (its driver went away, or the device was bound by hand). */
  undefer(dev: device): void {
    this.deferred.delete(dev);
  }
  /** The devices whose probe is still deferred (/sys/kernel/debug/devices_deferred). */
  devices_deferred(): device[] {
    return [...this.deferred.keys()];
  }
  /** driver_deferred_probe_trigger(): a driver bound, so every deferred probe runs again (in
   *  the kernel from a workqueue, right after; here at once), until none makes progress. */
  private retry_deferred(): void {
    if (this.retrying) return;
    this.retrying = true;
    try {
      for (let progress = true; progress && this.deferred.size;) {
        progress = false;
        for (const [dev, retry] of [...this.deferred]) {
          this.deferred.delete(dev);
          retry();
          if (dev.driver) progress = true;
        }
      }
    } finally {
      this.retrying = false;
    }
  }

  register(drv: device_driver): DriverRecord {
    let r = this.drivers.get(drv);
    if (!r) {
      r = { id: this.next++, name: drv.name, drv };
      this.drivers.set(drv, r);
    }
    return r;
  }

  unregister(drv: device_driver): void {
    this.drivers.delete(drv);
  }

  module_names(): string[] {
    return [...this.drivers.values()].map((r) => r.name.replace(/-/g, '_'));
  }

  record(drv: device_driver): DriverRecord {
    return this.drivers.get(drv) ?? this.register(drv);
  }

  /** Run driver code as `comm` on behalf of driver `rec`, turning crashes into reports. */
  run<R>(rec: DriverRecord | null, comm: string, pid: number, fn: () => R, dev: device | null = null): Outcome<R> {
    if (M.panicked) return { ok: false, halt: 'oops', error: PANICKED };
    const saved = M.owner, saved_dev = M.cur_dev;
    M.owner = rec ? rec.id : 0;
    M.cur_dev = dev;
    clear_site();
    // Stack buffers live until the call returns.
    const stack = M.stacks.of(pid), sp = stack.sp;
    const sleeps = M.sched.irq_sleeps;
    // The harness boundary is an ordering point both ways (sim/mm/order.ts).
    M.order?.full();
    try {
      // An exception becomes an oops while the task is still current (its CPU: line).
      const value = M.sched.as_task({ comm, pid }, () => {
        try { return fn(); } catch (e) { throw e instanceof KernelHalt ? e : exception_oops(e); }
      });
      if (M.sched.irq_sleeps > sleeps && comm === 'insmod' && rec) {
        // A handler that slept came back with the preempt count off; module init notices.
        const mod = rec.name.replace(/-/g, '_');
        M.printk(4, '------------[ cut here ]------------');
        M.printk(4, `initcall ${mod}_driver_init+0x0/0x1000 [${mod}] returned with preemption imbalance `);
        M.printk(4, `WARNING: CPU: 0 PID: ${pid} at ${arch_site('init/main.c:1284 do_one_initcall+0x11c/0x153')}`);
      }
      return { ok: true, value };
    } catch (e) {
      if (e instanceof KernelHalt) return { ok: false, halt: e.kind, error: e };
      throw e;
    } finally {
      M.order?.full();
      stack.sp = sp;
      M.owner = saved;
      M.cur_dev = saved_dev;
      clear_site();
      M.sched.preempt = 0;
      M.sched.irq_off = 0;
    }
  }

  /** really_probe(): bind, call probe, undo everything if it fails. Returns probe's value. */
  probe(dev: device, drv: device_driver, call: () => number): number {
    const rec = this.record(drv);
    dev.driver = drv;
    const out = this.run(rec, 'insmod', 30, call, dev);
    let ret = out.ok ? out.value : -14;
    if (!out.ok) this.crashed.add(dev);
    if (M.panicked) return ret;
    if (out.ok && typeof ret !== 'number') {
      M.printk(4, `dmalab: ${drv.name}: probe returned ${String(ret)}, not an int (0 or a negative errno)`);
      ret = ret ? -22 : 0;
    }
    if (out.ok) for (const w of bind_watches) w.probed(dev, rec, ret);
    if (ret === 0) {
      this.deferred.delete(dev);
      this.retry_deferred();
      return 0;
    }
    if (ret !== -EPROBE_DEFER && ret !== -ENODEV && ret !== -ENXIO && out.ok) {
      M.printk(4, `${drv.name}: probe of ${dev_name(dev)} failed with error ${ret}`);
    }
    // really_probe's error path, still in the probing task.
    this.run(null, 'insmod', 30, () => {
      devres_release_all(dev);
      dev.driver = null;
      dev.driver_data = null;
      if (!this.crashed.has(dev)) this.left_behind(dev, rec, 'probe');
    }, dev);
    return ret;
  }

  /** device_release_driver(): remove, release devres, then the unbind checks. */
  unbind(dev: device, call: () => void): void {
    const drv = dev.driver;
    if (!drv) return;
    const rec = this.record(drv);
    const out = this.run(rec, 'sh', 31, call, dev);
    if (!out.ok) this.crashed.add(dev);
    if (M.panicked) return;
    this.run(null, 'sh', 31, () => {
      devres_release_all(dev);
      dev.driver = null;
      dev.driver_data = null;
      // Handlers left installed: where the kernel tore their descriptor down it has said so
      // (IRQ_LEAK_AT_UNBIND, from pci_disable_device() / pci_free_irq_vectors()); the rest
      // (arm64's INTx, a device left enabled) Linux never mentions, so dmalab lists them with
      // the driver's other leftovers. Either way no interrupt reaches them again.
      M.irq.drop_handlers_of(dev);
      // BUS_NOTIFY_UNBOUND_DRIVER: dma-debug's leak check (it now sees the bus name).
      M.dbg.device_unbound(dev);
      if (!this.crashed.has(dev)) this.left_behind(dev, rec, 'unbind');
    }, dev);
  }

  /** dmalab's checks of what a driver left behind after a failed probe or an unbind. */
  private left_behind(dev: device, rec: DriverRecord, when: 'probe' | 'unbind'): void {
    const name = `${rec.name} ${dev_name(dev)}`;
    if (when === 'probe') M.dbg.leaks_after_failed_probe(dev, rec.name);
    for (const w of bind_watches) w.left_behind(dev, rec, when);
    const held = [...dev._held];
    if (held.length) {
      const lines = [`dmalab: ${name}: ${when === 'probe' ? 'failed probe' : 'driver'} left ${held.length} resource${held.length > 1 ? 's' : ''} behind${when === 'unbind' ? ' at unbind' : ''}:`];
      const sites: [string, typeof held[0]['site']][] = [];
      for (const r of held) {
        const c = resolve_site(r.site);
        lines.push(`dmalab:   ${r.kind} ${r.desc}${c ? ` taken at ${site_str(c)} (${c.fn})` : ''}`);
        sites.push([`${r.kind} taken at`, r.site]);
      }
      M.diag.report('LEAK_RESOURCES', lines, { sites , sites_in_text: true });
      dev._held.clear();
    }
    M.own.memory_leaks(rec, name, when);
  }
}

export { errname };
