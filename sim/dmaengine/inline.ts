// The static inline functions of include/linux/dmaengine.h (Linux 6.1): what a client calls
// on a channel. Each is a thin call into the provider's struct dma_device op, returning what
// the header returns when the op is missing (-ENOSYS, -EINVAL, NULL).
import { M } from '../kernel/machine.ts';
import { take_site } from '../kernel/site.ts';
import { EINVAL, ENOSYS, EPERM } from '../kernel/errno.ts';
import { sg_array } from '../lib/scatterlist.ts';
import type { scatterlist } from '../lib/scatterlist.ts';
import { DMA_CTRL_ACK, DMA_CTRL_REUSE, DMA_PREP_REPEAT, DMA_REPEAT, type dma_async_tx_descriptor,
  type dma_cap_mask_t, type dma_chan, type dma_cookie_t, type dma_slave_config, type dma_status,
  type dma_transfer_direction, type dma_tx_state } from './types.ts';
import { dma_async_is_complete, desc_trace } from './cookie.ts';
import { dma_get_slave_caps, dma_slave_caps_zero } from './dmaengine.ts';

/** Where dmaengine_synchronize()'s might_sleep() sits (not measured on the rig: read from a
 *  stored 6.x header, the function's position being unchanged since 6.1 as far as seen). */
const SYNC_MIGHT_SLEEP = 'include/linux/dmaengine.h:1194';

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
  if (chan.device.device_config) return chan.device.device_config(chan, config);
  return -ENOSYS;
}

function prepped(chan: dma_chan, tx: dma_async_tx_descriptor | null, len: number): dma_async_tx_descriptor | null {
  if (tx) desc_trace(chan, 'prep', 0, len);
  return tx;
}

export function dmaengine_prep_slave_sg(chan: dma_chan | null, sgl: scatterlist[] | scatterlist, sg_len: number,
  dir: dma_transfer_direction, flags: number): dma_async_tx_descriptor | null {
  if (!chan?.device?.device_prep_slave_sg) return null;
  const list = Array.isArray(sgl) ? sgl : [sgl];
  let len = 0;
  for (let i = 0; i < sg_len && i < list.length; i++) len += list[i]!.dma_length || list[i]!.length;
  return prepped(chan, chan.device.device_prep_slave_sg(chan, sgl, sg_len, dir, flags, null), len);
}

/** One buffer: a one-entry scatterlist built on the stack, so the provider must copy what it
 *  needs during prep. */
export function dmaengine_prep_slave_single(chan: dma_chan | null, buf: number, len: number,
  dir: dma_transfer_direction, flags: number): dma_async_tx_descriptor | null {
  if (!chan?.device?.device_prep_slave_sg) return null;
  const sg = sg_array(1);
  sg[0]!.dma_address = buf;
  sg[0]!.dma_length = len;
  sg[0]!.length = len;
  return prepped(chan, chan.device.device_prep_slave_sg(chan, sg, 1, dir, flags, null), len);
}

export function dmaengine_prep_dma_cyclic(chan: dma_chan | null, buf_addr: number, buf_len: number, period_len: number,
  dir: dma_transfer_direction, flags: number): dma_async_tx_descriptor | null {
  if (!chan?.device?.device_prep_dma_cyclic) return null;
  return prepped(chan, chan.device.device_prep_dma_cyclic(chan, buf_addr, buf_len, period_len, dir, flags), buf_len);
}

export function dmaengine_prep_interleaved_dma(chan: dma_chan | null, xt: unknown, flags: number): dma_async_tx_descriptor | null {
  if (!chan?.device?.device_prep_interleaved_dma) return null;
  if (flags & DMA_PREP_REPEAT && !dma_has_cap(DMA_REPEAT, chan.device.cap_mask)) return null;
  return prepped(chan, chan.device.device_prep_interleaved_dma(chan, xt, flags), 0);
}

export function dmaengine_prep_dma_memcpy(chan: dma_chan | null, dest: number, src: number, len: number,
  flags: number): dma_async_tx_descriptor | null {
  if (!chan?.device?.device_prep_dma_memcpy) return null;
  return prepped(chan, chan.device.device_prep_dma_memcpy(chan, dest, src, len, flags), len);
}

export function dmaengine_prep_dma_memset(chan: dma_chan | null, dest: number, value: number, len: number,
  flags: number): dma_async_tx_descriptor | null {
  if (!chan?.device?.device_prep_dma_memset) return null;
  return prepped(chan, chan.device.device_prep_dma_memset(chan, dest, value, len, flags), len);
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
  return desc.tx_submit!(desc);
}
/** The error in a cookie (negative), else 0. */
export function dma_submit_error(cookie: dma_cookie_t): number {
  return cookie < 0 ? cookie : 0;
}

/** Start what was submitted: nothing moves until this is called. */
export function dma_async_issue_pending(chan: dma_chan): void {
  desc_trace(chan, 'issue_pending', chan.cookie);
  chan.device.device_issue_pending!(chan);
}

export function dmaengine_tx_status(chan: dma_chan, cookie: dma_cookie_t, state: dma_tx_state | null): dma_status {
  return chan.device.device_tx_status!(chan, cookie, state);
}
/** A dma_tx_state to fill (the `struct dma_tx_state state;` on the caller's stack). */
export function dma_tx_state_zero(): dma_tx_state {
  return { last: 0, used: 0, residue: 0, in_flight_bytes: 0 };
}

/** dma_async_is_tx_complete(chan, cookie, &last, &used): the status from the cookies; last and
 *  used (out-parameters, may be null) get the last completed and last issued cookie. */
export function dma_async_is_tx_complete(chan: dma_chan, cookie: dma_cookie_t,
  last: { value: dma_cookie_t } | null, used: { value: dma_cookie_t } | null): dma_status {
  const state = dma_tx_state_zero();
  const status = chan.device.device_tx_status!(chan, cookie, state);
  if (last) last.value = state.last;
  if (used) used.value = state.used;
  return status;
}
export { dma_async_is_complete };

// ---- pause, resume, terminate, synchronize -------------------------------------------------

export function dmaengine_pause(chan: dma_chan): number {
  return chan.device.device_pause ? chan.device.device_pause(chan) : -ENOSYS;
}
export function dmaengine_resume(chan: dma_chan): number {
  return chan.device.device_resume ? chan.device.device_resume(chan) : -ENOSYS;
}
/** Deprecated: use dmaengine_terminate_async() or dmaengine_terminate_sync(). */
export function dmaengine_terminate_all(chan: dma_chan): number {
  if (!chan.device.device_terminate_all) return -ENOSYS;
  desc_trace(chan, 'terminate');
  return chan.device.device_terminate_all(chan);
}
/** Stop the channel; the active transfer and a running callback may still finish after it
 *  returns (dmaengine_synchronize() waits for them). Callable from atomic context. */
export function dmaengine_terminate_async(chan: dma_chan): number {
  if (!chan.device.device_terminate_all) return -EINVAL;
  desc_trace(chan, 'terminate');
  return chan.device.device_terminate_all(chan);
}
/** Wait until every transfer of the channel has stopped and every callback has returned.
 *  Process context only, never from a callback of the same channel. */
export function dmaengine_synchronize(chan: dma_chan): void {
  M.sched.might_sleep(SYNC_MIGHT_SLEEP, take_site(dmaengine_synchronize));
  chan.device.device_synchronize?.(chan);
}
export function dmaengine_terminate_sync(chan: dma_chan): number {
  const ret = dmaengine_terminate_async(chan);
  if (ret) return ret;
  dmaengine_synchronize(chan);
  return 0;
}

/** is_dma_copy_aligned(): do the offsets and length satisfy the device's copy alignment? */
export function is_dma_copy_aligned(dev: { copy_align: number }, off1: number, off2: number, len: number): boolean {
  return !(((1 << dev.copy_align) - 1) & (off1 | off2 | len));
}

