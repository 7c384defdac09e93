// request_irq and friends (kernel/irq/manage.c, devres.c).
import { M } from '../kernel/machine.ts';
import { take_site, type Site } from '../kernel/site.ts';
import { EBUSY, EINVAL, ENOMEM } from '../kernel/errno.ts';
import { devres_add, devres_release } from '../base/devres.ts';
import { hold, unhold, type device, type HeldResource } from '../base/device.ts';
import { warn_block } from '../kernel/diag.ts';
import type { irq_handler_t, IrqAction } from './core.ts';

export const IRQF_SHARED = 0x80, IRQF_ONESHOT = 0x2000, IRQF_NO_SUSPEND = 0x4000,
  IRQF_TRIGGER_NONE = 0, IRQF_TRIGGER_RISING = 1, IRQF_TRIGGER_FALLING = 2,
  IRQF_TRIGGER_HIGH = 4, IRQF_TRIGGER_LOW = 8;

const held = new WeakMap<IrqAction, HeldResource>();

/** The device a dev_id belongs to, when the driver passes its private struct or a device. */
function device_of(dev_id: unknown): device | null {
  const cur = M.cur_dev;
  if (cur) return cur;
  if (dev_id && typeof dev_id === 'object' && 'init_name' in dev_id) return dev_id as device;
  return null;
}

function setup(irq: number, handler: irq_handler_t | null, thread_fn: irq_handler_t | null,
  flags: number, name: string, dev_id: unknown, site: Site): number {
  M.sched.might_sleep('kernel/irq/manage.c:2152', site);
  const d = M.irq.descs.get(irq);
  if (!d || irq <= 0 || d.freed) return -EINVAL;
  if ((flags & IRQF_SHARED) && !dev_id) return -EINVAL;
  if (!handler && !thread_fn) return -EINVAL;
  if (!handler && !(flags & IRQF_ONESHOT) && !d.edge) {
    M.printk(3, `genirq: Threaded irq requested with handler=NULL and !ONESHOT for ${name} (irq ${irq})`);
    return -EINVAL;
  }
  if (M.faults.should_fail('request_irq', site)) return -ENOMEM;
  if (d.actions.length && !(d.actions.every((a) => a.flags & IRQF_SHARED) && flags & IRQF_SHARED)) {
    const o = d.actions[0]!;
    M.printk(3, `genirq: Flags mismatch irq ${irq}. ${(flags >>> 0).toString(16).padStart(8, '0')} (${name}) vs. ${(o.flags >>> 0).toString(16).padStart(8, '0')} (${o.name})`);
    return -EBUSY;
  }
  const a: IrqAction = { handler, thread_fn, flags, name, dev_id, owner: M.owner, site, dev: device_of(dev_id), broken: false };
  d.actions.push(a);
  const dev = a.dev;
  if (dev) held.set(a, hold(dev, 'request_irq()', `irq ${irq} (${name})`, site));
  // A line already asserted fires as soon as a handler is installed.
  M.irq.deliver();
  return 0;
}

export function request_irq<T>(irq: number, handler: irq_handler_t<T>, flags: number, name: string, dev_id: T): number {
  return setup(irq, handler, null, flags, name, dev_id, take_site(request_irq));
}

export function request_threaded_irq<T>(irq: number, handler: irq_handler_t<T> | null, thread_fn: irq_handler_t<T> | null,
  flags: number, name: string, dev_id: T): number {
  return setup(irq, handler, thread_fn, flags, name, dev_id, take_site(request_threaded_irq));
}

function remove_action(irq: number, dev_id: unknown, site: Site, entry: string): string | null {
  M.sched.might_sleep('kernel/irq/manage.c:1923', site);
  const d = M.irq.descs.get(irq);
  // A descriptor already torn down: irq_to_desc() finds nothing and free_irq() returns quietly.
  if (d?.freed) return null;
  const i = d ? d.actions.findIndex((a) => a.dev_id === dev_id) : -1;
  if (!d || i < 0) {
    M.diag.report('IRQ_ALREADY_FREE', [`Trying to free already-free IRQ ${irq}`],
      { sites: [[`${entry} at`, site]], warn: 'kernel/irq/manage.c:1887 free_irq+0x81/0x1a7' });
    return null;
  }
  const [a] = d.actions.splice(i, 1);
  if (a!.dev) unhold(a!.dev, held.get(a!));
  return a!.name;
}

/** free_irq(): returns the devname passed to request_irq, or null. */
export function free_irq(irq: number, dev_id: unknown): string | null {
  return remove_action(irq, dev_id, take_site(free_irq), 'free_irq()');
}

export function devm_request_irq<T>(dev: device, irq: number, handler: irq_handler_t<T>, flags: number, name: string, dev_id: T): number {
  const site = take_site(devm_request_irq);
  const r = setup(irq, handler, null, flags, name, dev_id, site);
  if (r === 0) devres_add(dev, 'devm_request_irq', () => remove_action(irq, dev_id, site, 'devres'), `irq:${irq}:${String(dev_id)}`);
  return r;
}

export function devm_request_threaded_irq<T>(dev: device, irq: number, handler: irq_handler_t<T> | null,
  thread_fn: irq_handler_t<T> | null, flags: number, name: string, dev_id: T): number {
  const site = take_site(devm_request_threaded_irq);
  const r = setup(irq, handler, thread_fn, flags, name, dev_id, site);
  if (r === 0) devres_add(dev, 'devm_request_threaded_irq', () => remove_action(irq, dev_id, site, 'devres'), `irq:${irq}:${String(dev_id)}`);
  return r;
}

export function devm_free_irq(dev: device, irq: number, dev_id: unknown): void {
  if (!devres_release(dev, `irq:${irq}:${String(dev_id)}`)) {
    M.printk(4, `WARNING: devm_free_irq of irq ${irq} that was not devm-requested`);
  }
}

export function disable_irq_nosync(irq: number): void {
  const d = M.irq.descs.get(irq);
  if (d) d.depth++;
}
export function disable_irq(irq: number): void {
  M.sched.might_sleep('kernel/irq/manage.c:764', take_site(disable_irq));
  disable_irq_nosync(irq);
}
export function enable_irq(irq: number): void {
  const d = M.irq.descs.get(irq);
  if (!d) return;
  if (d.depth === 0) {
    M.printk(4, '------------[ cut here ]------------');
    M.printk(4, `Unbalanced enable for IRQ ${irq}`);
    for (const l of warn_block('kernel/irq/manage.c:781 __enable_irq+0x1d/0x42', undefined)) M.printk(4, l);
    return;
  }
  if (--d.depth === 0) M.irq.deliver();
}
export function synchronize_irq(irq: number): void {
  M.sched.might_sleep('kernel/irq/manage.c:137', take_site(synchronize_irq));
  void irq;
}
