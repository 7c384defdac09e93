// drivers/dma/dmaengine.h, the providers' private header: cookie bookkeeping (assigned at
// submit, strictly increasing per channel, completed in order), the residue setter, and the
// callback plumbing providers use to call a client back. Plus dma_async_is_complete() from
// include/linux/dmaengine.h, which the status helpers share.
import { M } from '../kernel/machine.ts';
import { T, DESC_STATE } from '../kernel/trace.ts';
import { DMA_COMPLETE, DMA_IN_PROGRESS, DMA_MIN_COOKIE, DMA_TRANS_NOERROR, type dma_async_tx_callback,
  type dma_async_tx_callback_result, type dma_async_tx_descriptor, type dma_chan, type dma_cookie_t,
  type dma_status, type dma_tx_state, type dmaengine_result } from './types.ts';
import { eng } from './hooks.ts';

/** Trace a descriptor state change: the channel's name, the cookie, a length. */
export function desc_trace(chan: dma_chan, state: (typeof DESC_STATE)[number], cookie = 0, len = 0): void {
  const tr = M.trace;
  if (!tr.enabled) return;
  const dev = chan.device.dev;
  tr.emit_named(M.clock.now, T.dma_desc, dev ? dev.id : -1, chan.dev?.name ?? `chan${chan.chan_id}`, cookie,
    DESC_STATE.indexOf(state), len);
}

/** dma_async_is_complete(): is `cookie` done, given the last completed and last issued ones
 *  (wrap-aware)? */
export function dma_async_is_complete(cookie: dma_cookie_t, last_complete: dma_cookie_t, last_used: dma_cookie_t): dma_status {
  if (last_complete <= last_used) {
    if (cookie <= last_complete || cookie > last_used) return DMA_COMPLETE;
  } else if (cookie <= last_complete && cookie > last_used) {
    return DMA_COMPLETE;
  }
  return DMA_IN_PROGRESS;
}

export function dma_cookie_init(chan: dma_chan): void {
  chan.cookie = DMA_MIN_COOKIE;
  chan.completed_cookie = DMA_MIN_COOKIE;
}

/** Give the descriptor the channel's next cookie (caller holds the channel lock). */
export function dma_cookie_assign(tx: dma_async_tx_descriptor): dma_cookie_t {
  const chan = tx.chan;
  let cookie = chan.cookie + 1;
  if (cookie > 0x7fffffff) cookie = DMA_MIN_COOKIE;
  tx.cookie = chan.cookie = cookie;
  return cookie;
}

/** The descriptor is done: it becomes the channel's completed cookie, and its own is zeroed
 *  so it cannot complete twice. */
export function dma_cookie_complete(tx: dma_async_tx_descriptor): void {
  eng.complete(tx);
  tx.chan.completed_cookie = tx.cookie;
  tx.cookie = 0;
}

/** Status from the cookies alone: DMA_COMPLETE or DMA_IN_PROGRESS, residue 0. */
export function dma_cookie_status(chan: dma_chan, cookie: dma_cookie_t, state: dma_tx_state | null): dma_status {
  const used = chan.cookie, complete = chan.completed_cookie;
  if (state) {
    state.last = complete;
    state.used = used;
    state.residue = 0;
    state.in_flight_bytes = 0;
  }
  return dma_async_is_complete(cookie, complete, used);
}

export function dma_set_residue(state: dma_tx_state | null, residue: number): void {
  if (state) state.residue = residue;
}
export function dma_set_in_flight_bytes(state: dma_tx_state | null, in_flight_bytes: number): void {
  if (state) state.in_flight_bytes = in_flight_bytes;
}

export interface dmaengine_desc_callback {
  callback: dma_async_tx_callback;
  callback_result: dma_async_tx_callback_result;
  callback_param: unknown;
  /** @internal the descriptor it was copied from (the checker's view of the call) */
  _tx?: dma_async_tx_descriptor | null;
}

/** Copy the callback out of a descriptor (it may be freed before the call). */
export function dmaengine_desc_get_callback(tx: dma_async_tx_descriptor, cb: dmaengine_desc_callback): void {
  cb.callback = tx.callback;
  cb.callback_result = tx.callback_result;
  cb.callback_param = tx.callback_param;
  cb._tx = tx;
}

const NOERROR: dmaengine_result = { result: DMA_TRANS_NOERROR, residue: 0 };

/** callback_result if set (with a NOERROR result when the provider has none), else callback. */
export function dmaengine_desc_callback_invoke(cb: dmaengine_desc_callback, result: dmaengine_result | null): void {
  if (!cb.callback_result && !cb.callback) return;
  const tx = cb._tx ?? null;
  eng.callback(tx, true);
  try {
    if (cb.callback_result) cb.callback_result(cb.callback_param, result ?? { ...NOERROR });
    else if (cb.callback) cb.callback(cb.callback_param);
  } finally {
    eng.callback(tx, false);
  }
}

export function dmaengine_desc_get_callback_invoke(tx: dma_async_tx_descriptor, result: dmaengine_result | null): void {
  const cb: dmaengine_desc_callback = { callback: null, callback_result: null, callback_param: null };
  dmaengine_desc_get_callback(tx, cb);
  dmaengine_desc_callback_invoke(cb, result);
}

/** Is there a callback? (6.1 looks at both forms.) */
export function dmaengine_desc_callback_valid(cb: dmaengine_desc_callback): boolean {
  return !!cb.callback || !!cb.callback_result;
}
