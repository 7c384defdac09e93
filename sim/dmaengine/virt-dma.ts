// Virtual DMA channels (drivers/dma/virt-dma.c and virt-dma.h, Linux 6.1): the descriptor
// bookkeeping most providers share. A descriptor goes allocated (prep) -> submitted (cookie)
// -> issued (issue_pending) -> the provider takes it to the hardware -> completed (from the
// interrupt) -> its callback runs from the channel's tasklet, then it is freed or, if
// reusable, goes back to allocated. Terminated descriptors wait for vchan_synchronize().
import { spin_lock_init, spin_lock_irq, spin_unlock_irq, spin_lock_irqsave, spin_unlock_irqrestore,
  type spinlock_t } from '../kernel/spinlock.ts';
import { tasklet_kill, tasklet_schedule, tasklet_setup, type tasklet_struct } from '../kernel/softirq.ts';
import { list_add, list_add_tail, list_del, list_node_init, list_splice_tail_init, type list_head } from '../lib/list.ts';
import { dma_cookie_assign, dma_cookie_complete, dma_cookie_init, dmaengine_desc_callback_invoke,
  dmaengine_desc_get_callback, desc_trace, type dmaengine_desc_callback } from './cookie.ts';
import { dmaengine_desc_clear_reuse, dmaengine_desc_test_reuse } from './inline.ts';
import { dma_async_tx_descriptor_init } from './dmaengine.ts';
import { eng } from './hooks.ts';
import { DMA_TRANS_NOERROR, dma_chan_zero, type dma_async_tx_descriptor, type dma_chan, type dma_cookie_t,
  type dma_device, type dmaengine_result } from './types.ts';

export interface virt_dma_desc {
  tx: dma_async_tx_descriptor;
  tx_result: dmaengine_result;
  /** Its place on one of the channel's lists (protected by vc.lock). */
  node: list_head;
  /** @internal the cookie it completed with (the trace names it at the callback) */
  _cookie?: dma_cookie_t;
}

export interface virt_dma_chan {
  chan: dma_chan;
  task: tasklet_struct;
  /** The provider's destructor for its descriptors. */
  desc_free: ((vd: virt_dma_desc) => void) | null;
  lock: spinlock_t;
  desc_allocated: virt_dma_desc[];
  desc_submitted: virt_dma_desc[];
  desc_issued: virt_dma_desc[];
  desc_completed: virt_dma_desc[];
  desc_terminated: virt_dma_desc[];
  /** The cyclic descriptor whose period callback is pending. */
  cyclic: virt_dma_desc | null;
}

/** to_virt_chan(): the virt_dma_chan (or the provider's channel struct) holding `chan`. */
export function to_virt_chan<T extends virt_dma_chan = virt_dma_chan>(chan: dma_chan): T {
  return chan._container as T;
}
/** to_virt_desc(): the virt_dma_desc (or the provider's descriptor) holding `tx`. */
export function to_virt_desc<T extends virt_dma_desc = virt_dma_desc>(tx: dma_async_tx_descriptor): T {
  return tx._container as T;
}

function vchan_tx_submit(tx: dma_async_tx_descriptor): dma_cookie_t {
  const vc = to_virt_chan(tx.chan), vd = to_virt_desc(tx);
  const flags = spin_lock_irqsave(vc.lock);
  const cookie = dma_cookie_assign(tx);
  list_add_tail(vd.node, vc.desc_submitted);
  spin_unlock_irqrestore(vc.lock, flags);
  desc_trace(tx.chan, 'submit', cookie);
  return cookie;
}

/** Only for reusable descriptors (dmaengine_desc_free()). */
function vchan_tx_desc_free(tx: dma_async_tx_descriptor): number {
  const vc = to_virt_chan(tx.chan), vd = to_virt_desc(tx);
  const flags = spin_lock_irqsave(vc.lock);
  list_del(vd.node);
  spin_unlock_irqrestore(vc.lock, flags);
  free_desc(vc, vd);
  return 0;
}

function free_desc(vc: virt_dma_chan, vd: virt_dma_desc): void {
  desc_trace(vc.chan, 'free', vd.tx.cookie || vd._cookie || 0);
  eng.free(vd.tx);
  vc.desc_free?.(vd);
}

/** Set up a descriptor the provider built in its prep: it goes on desc_allocated. `vd` may be
 *  the provider's own struct (it then comes back from to_virt_desc()). */
export function vchan_tx_prep(vc: virt_dma_chan, vd: virt_dma_desc, tx_flags: number): dma_async_tx_descriptor {
  const tx = (vd.tx ??= {} as dma_async_tx_descriptor);
  Object.assign(tx, { cookie: 0, phys: 0, callback: null, callback_result: null, callback_param: null, _container: vd });
  dma_async_tx_descriptor_init(tx, vc.chan);
  tx.flags = tx_flags;
  tx.tx_submit = vchan_tx_submit;
  tx.desc_free = vchan_tx_desc_free;
  vd.tx_result = { result: DMA_TRANS_NOERROR, residue: 0 };
  vd.node ??= list_node_init(vd);
  const flags = spin_lock_irqsave(vc.lock);
  list_add_tail(vd.node, vc.desc_allocated);
  spin_unlock_irqrestore(vc.lock, flags);
  return tx;
}

/** Move submitted descriptors to issued (caller holds vc.lock); true if any are issued. */
export function vchan_issue_pending(vc: virt_dma_chan): boolean {
  list_splice_tail_init(vc.desc_submitted, vc.desc_issued);
  return vc.desc_issued.length !== 0;
}

/** The descriptor is done (caller holds vc.lock): its callback runs from the tasklet. */
export function vchan_cookie_complete(vd: virt_dma_desc): void {
  const vc = to_virt_chan(vd.tx.chan);
  const cookie = vd._cookie = vd.tx.cookie;
  dma_cookie_complete(vd.tx);
  desc_trace(vc.chan, 'complete', cookie);
  list_add_tail(vd.node, vc.desc_completed);
  tasklet_schedule(vc.task);
}

/** A period of a cyclic transfer is done: its callback runs from the tasklet; it stays active. */
export function vchan_cyclic_callback(vd: virt_dma_desc): void {
  const vc = to_virt_chan(vd.tx.chan);
  vc.cyclic = vd;
  tasklet_schedule(vc.task);
}

/** The active descriptor was terminated (caller holds vc.lock): freed at vchan_synchronize(). */
export function vchan_terminate_vdesc(vd: virt_dma_desc): void {
  const vc = to_virt_chan(vd.tx.chan);
  list_add_tail(vd.node, vc.desc_terminated);
  if (vc.cyclic === vd) vc.cyclic = null;
}

/** The next issued descriptor, left on the list (caller holds vc.lock; the provider
 *  list_del()s it when it hands it to the hardware). */
export function vchan_next_desc(vc: virt_dma_chan): virt_dma_desc | null {
  return vc.desc_issued.length ? vc.desc_issued[0]! : null;
}

/** Every descriptor not in the hardware, onto `head` (caller holds vc.lock). */
export function vchan_get_all_descriptors(vc: virt_dma_chan, head: virt_dma_desc[]): void {
  list_splice_tail_init(vc.desc_allocated, head);
  list_splice_tail_init(vc.desc_submitted, head);
  list_splice_tail_init(vc.desc_issued, head);
  list_splice_tail_init(vc.desc_completed, head);
  list_splice_tail_init(vc.desc_terminated, head);
}

/** Finish a descriptor: a reusable one goes back to desc_allocated, any other is freed. */
export function vchan_vdesc_fini(vd: virt_dma_desc): void {
  const vc = to_virt_chan(vd.tx.chan);
  if (dmaengine_desc_test_reuse(vd.tx)) {
    const flags = spin_lock_irqsave(vc.lock);
    list_add(vd.node, vc.desc_allocated);
    spin_unlock_irqrestore(vc.lock, flags);
  } else {
    free_desc(vc, vd);
  }
}

export function vchan_dma_desc_free_list(vc: virt_dma_chan, head: virt_dma_desc[]): void {
  void vc;
  for (const vd of [...head]) {
    list_del(vd.node);
    vchan_vdesc_fini(vd);
  }
}

/** The issued descriptor with this cookie (caller holds vc.lock), or null. */
export function vchan_find_desc(vc: virt_dma_chan, cookie: dma_cookie_t): virt_dma_desc | null {
  return vc.desc_issued.find((vd) => vd.tx.cookie === cookie) ?? null;
}

/** vchan_complete(), the channel's tasklet: the pending cyclic callback, then each completed
 *  descriptor's callback and its release, in completion order (the callback runs before the
 *  descriptor is freed, as since "Fix access after free in vchan_complete()"). */
function vchan_complete(t: tasklet_struct): void {
  const vc = (t as tasklet_struct & { _vc: virt_dma_chan })._vc;
  const head: virt_dma_desc[] = [];
  const cb: dmaengine_desc_callback = { callback: null, callback_result: null, callback_param: null };
  spin_lock_irq(vc.lock);
  list_splice_tail_init(vc.desc_completed, head);
  const cyc = vc.cyclic;
  if (cyc) {
    vc.cyclic = null;
    dmaengine_desc_get_callback(cyc.tx, cb);
  }
  spin_unlock_irq(vc.lock);
  if (cyc) {
    desc_trace(vc.chan, 'cyclic_callback', cyc.tx.cookie);
    dmaengine_desc_callback_invoke(cb, cyc.tx_result);
  }
  // list_for_each_entry_safe: each entry leaves `head` as it is handled.
  for (let vd = head[0]; vd; vd = head[0]) {
    dmaengine_desc_get_callback(vd.tx, cb);
    list_del(vd.node);
    desc_trace(vc.chan, 'callback', vd._cookie ?? 0);
    dmaengine_desc_callback_invoke(cb, vd.tx_result);
    vchan_vdesc_fini(vd);
  }
}

/** vchan_init(): cookies, lists and tasklet of a channel, appended to the device's channels.
 *  `vc` may be the provider's own channel struct (to_virt_chan() then returns it). */
export function vchan_init(vc: virt_dma_chan, dmadev: dma_device): void {
  vc.chan ??= dma_chan_zero(dmadev);
  vc.chan._container = vc;
  dma_cookie_init(vc.chan);
  vc.lock ??= { locked: false, name: 'vc->lock' };
  spin_lock_init(vc.lock);
  vc.desc_allocated = [];
  vc.desc_submitted = [];
  vc.desc_issued = [];
  vc.desc_completed = [];
  vc.desc_terminated = [];
  vc.cyclic = null;
  vc.desc_free ??= null;
  vc.task ??= {} as tasklet_struct;
  tasklet_setup(vc.task, vchan_complete);
  (vc.task as tasklet_struct & { _vc: virt_dma_chan })._vc = vc;
  vc.chan.device = dmadev;
  dmadev.channels.push(vc.chan);
}

/** Free every descriptor of the channel (clearing reuse first), as free_chan_resources does. */
export function vchan_free_chan_resources(vc: virt_dma_chan): void {
  const head: virt_dma_desc[] = [];
  const flags = spin_lock_irqsave(vc.lock);
  vchan_get_all_descriptors(vc, head);
  for (const vd of head) dmaengine_desc_clear_reuse(vd.tx);
  spin_unlock_irqrestore(vc.lock, flags);
  vchan_dma_desc_free_list(vc, head);
}

/** Wait for the tasklet (no callback running or pending after this), then free the
 *  terminated descriptors. The caller makes sure no new callbacks get scheduled. */
export function vchan_synchronize(vc: virt_dma_chan): void {
  tasklet_kill(vc.task);
  const head: virt_dma_desc[] = [];
  const flags = spin_lock_irqsave(vc.lock);
  list_splice_tail_init(vc.desc_terminated, head);
  spin_unlock_irqrestore(vc.lock, flags);
  vchan_dma_desc_free_list(vc, head);
}
