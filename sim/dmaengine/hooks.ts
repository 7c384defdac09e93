// What the dmaengine core tells its checker (sim/dmaengine/check/), as the mapping API tells
// dma-debug: each client call and each provider helper reports what it did, and the checker
// keeps its own tables. The core never reads them; without a checker these are no-ops.
import type { Site } from '../kernel/site.ts';
import type { dma_async_tx_descriptor, dma_chan, dma_cookie_t, dma_slave_config, dma_status,
  dma_tx_state } from './types.ts';

/** A memory-side range of a prepared transfer: bus address, length, does the controller write
 *  it (DEV_TO_MEM, a memcpy's destination) or read it. */
export interface EngineRange { bus: number; len: number; write: boolean }

export interface EngineHooks {
  /** dma_request_chan() and friends: `chan` or an error pointer; `fn` the call's name. */
  request(chan: dma_chan | null, fn: string, site: Site): void;
  release(chan: dma_chan, site: Site): void;
  config(chan: dma_chan, cfg: dma_slave_config, site: Site): void;
  /** A prep wrapper returned `tx` (null: the provider refused). `kind`: 'slave', 'cyclic', 'memcpy'... */
  prep(chan: dma_chan, tx: dma_async_tx_descriptor | null, kind: string, ranges: EngineRange[], site: Site): void;
  /** Before tx_submit (tx may be null: a NULL prep used). */
  submit(tx: dma_async_tx_descriptor | null, site: Site): void;
  submitted(tx: dma_async_tx_descriptor, cookie: dma_cookie_t, site: Site): void;
  submit_error(cookie: dma_cookie_t): void;
  issue(chan: dma_chan, site: Site): void;
  status(chan: dma_chan, cookie: dma_cookie_t, status: dma_status, state: dma_tx_state | null, site: Site): void;
  pause(chan: dma_chan, ret: number, site: Site): void;
  resume(chan: dma_chan, site: Site): void;
  /** terminate_async / terminate_all, before the provider's device_terminate_all. */
  terminate(chan: dma_chan, site: Site): void;
  /** dmaengine_synchronize(): before (after might_sleep) and after device_synchronize. */
  sync(chan: dma_chan, site: Site, fn: string): void;
  synced(chan: dma_chan, site: Site): void;
  // The provider side (drivers/dma/dmaengine.h, virt-dma):
  complete(tx: dma_async_tx_descriptor): void;
  callback(tx: dma_async_tx_descriptor | null, begin: boolean): void;
  free(tx: dma_async_tx_descriptor): void;
}

const NOOP: EngineHooks = {
  request() {}, release() {}, config() {}, prep() {}, submit() {}, submitted() {}, submit_error() {}, issue() {},
  status() {}, pause() {}, resume() {}, terminate() {}, sync() {}, synced() {}, complete() {}, callback() {}, free() {},
};

/** The hooks in force (the checker sets them when it loads). */
export let eng: EngineHooks = NOOP;
export function set_engine_hooks(h: EngineHooks): void {
  eng = h;
}
