// The static inline functions of include/linux/dmaengine.h (Linux 6.1): what a client calls
// on a channel. Each is a thin call into the provider's struct dma_device op, returning what
// the header returns when the op is missing (-ENOSYS, -EINVAL, NULL).
import { M } from '../kernel/machine.ts';
import { take_site, type Site } from '../kernel/site.ts';
import { EINVAL, ENOSYS, EPERM } from '../kernel/errno.ts';
import { sg_array } from '../lib/scatterlist.ts';
import type { scatterlist } from '../lib/scatterlist.ts';
import { DMA_CTRL_ACK, DMA_CTRL_REUSE, DMA_DEV_TO_MEM, DMA_PREP_REPEAT, DMA_REPEAT, type dma_async_tx_descriptor,
  type dma_cap_mask_t, type dma_chan, type dma_cookie_t, type dma_slave_config, type dma_status,
  type dma_transfer_direction, type dma_tx_state } from './types.ts';
import { dma_async_is_complete, desc_trace } from './cookie.ts';
import { dma_get_slave_caps, dma_slave_caps_zero } from './dmaengine.ts';
import { eng, type EngineRange } from './hooks.ts';

/** Where dmaengine_synchronize()'s might_sleep() sits in Linux 6.1, as its BUG line printed it
 *  on the zynq rig (tools/kernel-rig-zynq.sh; docs/kernel-6.1-measured.md). */
const SYNC_MIGHT_SLEEP = 'include/linux/dmaengine.h:1157';

// ---- capability masks (the macros take the mask by name) -----------------------------------

export function dma_cap_mask(): dma_cap_mask_t {
  return { bits: 0 };
}
export function dma_cap_zero(mask: dma_cap_mask_t): void {
  mask.bits = 0;
}
export function dma_cap_set(tx_type: number, mask: dma_cap_mask_t): void {
  mask.bits |= 1 << tx_type;
}
export function dma_cap_clear(tx_type: number, mask: dma_cap_mask_t): void {
  mask.bits &= ~(1 << tx_type);
}
export function dma_has_cap(tx_type: number, mask: dma_cap_mask_t): boolean {
  return (mask.bits & (1 << tx_type)) !== 0;
}

// ---- configuration and descriptors ---------------------------------------------------------

export function dmaengine_slave_config(chan: dma_chan, config: dma_slave_config): number {
  eng.config(chan, config, take_site(dmaengine_slave_config));
  if (chan.device.device_config) return chan.device.device_config(chan, config);
  return -ENOSYS;
}

function prepped(chan: dma_chan, tx: dma_async_tx_descriptor | null, len: number, kind: string, ranges: EngineRange[],
  site: Site): dma_async_tx_descriptor | null {
  if (tx) desc_trace(chan, 'prep', 0, len);
  eng.prep(chan, tx, kind, ranges, site);
  return tx;
}

/** The memory side of a slave transfer: what the controller reads (MEM_TO_DEV) or writes. */
function slave_ranges(list: scatterlist[], n: number, dir: dma_transfer_direction): EngineRange[] {
  const out: EngineRange[] = [];
  for (let i = 0; i < n && i < list.length; i++) {
    const sg = list[i]!;
    out.push({ bus: sg.dma_address, len: sg.dma_length || sg.length, write: dir === DMA_DEV_TO_MEM });
  }
  return out;
}

export function dmaengine_prep_slave_sg(chan: dma_chan | null, sgl: scatterlist[] | scatterlist, sg_len: number,
  dir: dma_transfer_direction, flags: number): dma_async_tx_descriptor | null {
  const site = take_site(dmaengine_prep_slave_sg);
  if (!chan?.device?.device_prep_slave_sg) return null;
  const list = Array.isArray(sgl) ? sgl : [sgl];
  let len = 0;
  for (let i = 0; i < sg_len && i < list.length; i++) len += list[i]!.dma_length || list[i]!.length;
  const ranges = slave_ranges(list, sg_len, dir);
  return prepped(chan, chan.device.device_prep_slave_sg(chan, sgl, sg_len, dir, flags, null), len, 'slave', ranges, site);
}

/** One buffer: a one-entry scatterlist built on the stack, so the provider must copy what it
 *  needs during prep. */
export function dmaengine_prep_slave_single(chan: dma_chan | null, buf: number, len: number,
  dir: dma_transfer_direction, flags: number): dma_async_tx_descriptor | null {
  const site = take_site(dmaengine_prep_slave_single);
  if (!chan?.device?.device_prep_slave_sg) return null;
  const sg = sg_array(1);
  sg[0]!.dma_address = buf;
  sg[0]!.dma_length = len;
  sg[0]!.length = len;
  const tx = chan.device.device_prep_slave_sg(chan, sg, 1, dir, flags, null);
  return prepped(chan, tx, len, 'slave', [{ bus: buf, len, write: dir === DMA_DEV_TO_MEM }], site);
}

export function dmaengine_prep_dma_cyclic(chan: dma_chan | null, buf_addr: number, buf_len: number, period_len: number,
  dir: dma_transfer_direction, flags: number): dma_async_tx_descriptor | null {
  const site = take_site(dmaengine_prep_dma_cyclic);
  if (!chan?.device?.device_prep_dma_cyclic) return null;
  const tx = chan.device.device_prep_dma_cyclic(chan, buf_addr, buf_len, period_len, dir, flags);
  return prepped(chan, tx, buf_len, 'cyclic', [{ bus: buf_addr, len: buf_len, write: dir === DMA_DEV_TO_MEM }], site);
}

export function dmaengine_prep_interleaved_dma(chan: dma_chan | null, xt: unknown, flags: number): dma_async_tx_descriptor | null {
  const site = take_site(dmaengine_prep_interleaved_dma);
  if (!chan?.device?.device_prep_interleaved_dma) return null;
  if (flags & DMA_PREP_REPEAT && !dma_has_cap(DMA_REPEAT, chan.device.cap_mask)) return null;
  return prepped(chan, chan.device.device_prep_interleaved_dma(chan, xt, flags), 0, 'interleaved', [], site);
}

export function dmaengine_prep_dma_memcpy(chan: dma_chan | null, dest: number, src: number, len: number,
  flags: number): dma_async_tx_descriptor | null {
  const site = take_site(dmaengine_prep_dma_memcpy);
  if (!chan?.device?.device_prep_dma_memcpy) return null;
  const tx = chan.device.device_prep_dma_memcpy(chan, dest, src, len, flags);
  return prepped(chan, tx, len, 'memcpy', [{ bus: src, len, write: false }, { bus: dest, len, write: true }], site);
}

export function dmaengine_prep_dma_memset(chan: dma_chan | null, dest: number, value: number, len: number,
  flags: number): dma_async_tx_descriptor | null {
  const site = take_site(dmaengine_prep_dma_memset);
  if (!chan?.device?.device_prep_dma_memset) return null;
  const tx = chan.device.device_prep_dma_memset(chan, dest, value, len, flags);
  return prepped(chan, tx, len, 'memset', [{ bus: dest, len, write: true }], site);
}

// ---- descriptor flags ----------------------------------------------------------------------

export function async_tx_ack(tx: dma_async_tx_descriptor): void {
  tx.flags |= DMA_CTRL_ACK;
}
export function async_tx_clear_ack(tx: dma_async_tx_descriptor): void {
  tx.flags &= ~DMA_CTRL_ACK;
}
export function async_tx_test_ack(tx: dma_async_tx_descriptor): boolean {
  return (tx.flags & DMA_CTRL_ACK) === DMA_CTRL_ACK;
}

/** Mark a descriptor reusable: -EPERM unless the controller supports descriptor reuse. */
export function dmaengine_desc_set_reuse(tx: dma_async_tx_descriptor): number {
  const caps = dma_slave_caps_zero();
  const ret = dma_get_slave_caps(tx.chan, caps);
  if (ret) return ret;
  if (!caps.descriptor_reuse) return -EPERM;
  tx.flags |= DMA_CTRL_REUSE;
  return 0;
}
export function dmaengine_desc_clear_reuse(tx: dma_async_tx_descriptor): void {
  tx.flags &= ~DMA_CTRL_REUSE;
}
export function dmaengine_desc_test_reuse(tx: dma_async_tx_descriptor): boolean {
  return (tx.flags & DMA_CTRL_REUSE) === DMA_CTRL_REUSE;
}
/** Free a reusable descriptor (only those: -EPERM otherwise). */
export function dmaengine_desc_free(desc: dma_async_tx_descriptor): number {
  if (!dmaengine_desc_test_reuse(desc)) return -EPERM;
  if (!desc.desc_free) return -EPERM;
  return desc.desc_free(desc);
}

// ---- submitting, issuing, status -----------------------------------------------------------

/** Queue the descriptor and get its cookie; the descriptor now belongs to the engine. */
export function dmaengine_submit(desc: dma_async_tx_descriptor): dma_cookie_t {
  const site = take_site(dmaengine_submit);
  eng.submit(desc, site);
  // A NULL descriptor: desc->tx_submit is a NULL pointer dereference (the oops).
  const cookie = desc.tx_submit!(desc);
  eng.submitted(desc, cookie, site);
  return cookie;
}
/** The error in a cookie (negative), else 0. */
export function dma_submit_error(cookie: dma_cookie_t): number {
  if (cookie < 0) eng.submit_error(cookie);
  return cookie < 0 ? cookie : 0;
}

/** Start what was submitted: nothing moves until this is called. */
export function dma_async_issue_pending(chan: dma_chan): void {
  __dma_async_issue_pending(chan, take_site(dma_async_issue_pending));
}
/** @internal dma_async_issue_pending() with the caller's site (dma_sync_wait() issues too). */
export function __dma_async_issue_pending(chan: dma_chan, site: Site): void {
  eng.issue(chan, site);
  desc_trace(chan, 'issue_pending', chan.cookie);
  chan.device.device_issue_pending!(chan);
}

export function dmaengine_tx_status(chan: dma_chan, cookie: dma_cookie_t, state: dma_tx_state | null): dma_status {
  const site = take_site(dmaengine_tx_status);
  const status = chan.device.device_tx_status!(chan, cookie, state);
  eng.status(chan, cookie, status, state, site);
  return status;
}
/** A dma_tx_state to fill (the `struct dma_tx_state state;` on the caller's stack). */
export function dma_tx_state_zero(): dma_tx_state {
  return { last: 0, used: 0, residue: 0, in_flight_bytes: 0 };
}

/** dma_async_is_tx_complete(chan, cookie, &last, &used): the status from the cookies; last and
 *  used (out-parameters, may be null) get the last completed and last issued cookie. */
export function dma_async_is_tx_complete(chan: dma_chan, cookie: dma_cookie_t,
  last: { value: dma_cookie_t } | null, used: { value: dma_cookie_t } | null): dma_status {
  const site = take_site(dma_async_is_tx_complete);
  const state = dma_tx_state_zero();
  const status = chan.device.device_tx_status!(chan, cookie, state);
  eng.status(chan, cookie, status, null, site);
  if (last) last.value = state.last;
  if (used) used.value = state.used;
  return status;
}
export { dma_async_is_complete };

// ---- pause, resume, terminate, synchronize -------------------------------------------------

export function dmaengine_pause(chan: dma_chan): number {
  const site = take_site(dmaengine_pause);
  const ret = chan.device.device_pause ? chan.device.device_pause(chan) : -ENOSYS;
  eng.pause(chan, ret, site);
  return ret;
}
export function dmaengine_resume(chan: dma_chan): number {
  eng.resume(chan, take_site(dmaengine_resume));
  return chan.device.device_resume ? chan.device.device_resume(chan) : -ENOSYS;
}
function terminate(chan: dma_chan, site: Site): number {
  eng.terminate(chan, site);
  desc_trace(chan, 'terminate');
  return chan.device.device_terminate_all!(chan);
}
/** Deprecated: use dmaengine_terminate_async() or dmaengine_terminate_sync(). */
export function dmaengine_terminate_all(chan: dma_chan): number {
  if (!chan.device.device_terminate_all) return -ENOSYS;
  return terminate(chan, take_site(dmaengine_terminate_all));
}
/** Stop the channel; the active transfer and a running callback may still finish after it
 *  returns (dmaengine_synchronize() waits for them). Callable from atomic context. */
export function dmaengine_terminate_async(chan: dma_chan): number {
  if (!chan.device.device_terminate_all) return -EINVAL;
  return terminate(chan, take_site(dmaengine_terminate_async));
}
/** Wait until every transfer of the channel has stopped and every callback has returned.
 *  Process context only, never from a callback of the same channel. */
export function dmaengine_synchronize(chan: dma_chan): void {
  __dmaengine_synchronize(chan, take_site(dmaengine_synchronize), 'dmaengine_synchronize');
}
/** @internal dmaengine_synchronize() with the caller's site (terminate_sync, the last put). */
export function __dmaengine_synchronize(chan: dma_chan, site: Site, fn: string): void {
  M.sched.might_sleep(SYNC_MIGHT_SLEEP, site);
  eng.sync(chan, site, fn);
  chan.device.device_synchronize?.(chan);
  eng.synced(chan, site);
}
export function dmaengine_terminate_sync(chan: dma_chan): number {
  const site = take_site(dmaengine_terminate_sync);
  if (!chan.device.device_terminate_all) return -EINVAL;
  const ret = terminate(chan, site);
  if (ret) return ret;
  __dmaengine_synchronize(chan, site, 'dmaengine_terminate_sync');
  return 0;
}

/** is_dma_copy_aligned(): do the offsets and length satisfy the device's copy alignment? */
export function is_dma_copy_aligned(dev: { copy_align: number }, off1: number, off2: number, len: number): boolean {
  return !(((1 << dev.copy_align) - 1) & (off1 | off2 | len));
}

