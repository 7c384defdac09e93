// The DMA engine checker's own tables, one set per machine: every channel a client holds and
// every descriptor prepared on it, with the sites of each step, so the rules (client.ts,
// provider.ts) can say what happened and which earlier call makes it wrong. The core never
// reads these (sim/dmaengine/hooks.ts is how it reports to them).
import { M } from '../../kernel/machine.ts';
import type { Site } from '../../kernel/site.ts';
import type { Code } from '../../kernel/codes.ts';
import { dev_driver_string, dev_name, type device } from '../../base/device.ts';
import type { dma_async_tx_descriptor, dma_chan } from '../types.ts';
import type { EngineRange } from '../hooks.ts';

/** A memory-side range of a descriptor, and the mapping it was found in at prep (or null). */
export interface Range extends EngineRange {
  /** The device it is mapped for, when that is not the controller (a client's own). */
  other: device | null;
  map_site: Site;
}

export type DescState = 'prepped' | 'submitted' | 'issued' | 'done' | 'freed';

export interface Desc {
  tx: dma_async_tx_descriptor;
  ch: Chan;
  kind: string;
  state: DescState;
  cookie: number;
  ranges: Range[];
  total: number;
  prep_site: Site;
  submit_site: Site;
  /** Live at a terminate_async that no synchronize has followed yet. */
  terminated: boolean;
  /** Physical addresses its callback_param points at (the callback's state). */
  cb_mem: number[];
  /** Its callback may still be called. */
  cb_pending: boolean;
  /** Bytes from the start of the memory side the controller has moved (the last range). */
  landed: number;
  /** How far any of its memory the controller has touched (a memcpy's source runs ahead). */
  reached: number;
  /** Reported once each: never issued. */
  told: boolean;
}

export interface Chan {
  chan: dma_chan;
  /** The driver (M.owner) and device that requested it, where, and with which call. */
  owner: number;
  dev: device | null;
  req_site: Site;
  req_fn: string;
  held: boolean;
  /** Every descriptor prepared on it and not freed. */
  all: Set<Desc>;
  /** Submitted, not yet issued; issued, not completed (in cookie order). */
  queue: Desc[];
  issued: Desc[];
  /** The async terminate not yet synchronized: where, and what was live then. */
  term: { site: Site; descs: Desc[] } | null;
  paused: boolean;
  /** The last call that left it unpaused ("Resumed at", "Terminated at", "Pause failed at"). */
  unpaused: [string, Site] | null;
  /** A submit that returned an error cookie, until dma_submit_error() looks at it. */
  failed: { cookie: number; site: Site; checked: boolean } | null;
}

/** What the controller may still touch after a synchronize: a terminated descriptor's memory. */
export interface Watched { ctrl: device; ch: Chan; cookie: number; bus: number; len: number; term: Site }

/** The checker's record of a descriptor (kept on it, as the kernel keeps a debug pointer). */
export function desc_of(tx: dma_async_tx_descriptor): Desc | null {
  const d = tx._check as Desc | undefined;
  return d && d.tx === tx ? d : null;
}

export interface EngState {
  chans: Map<dma_chan, Chan>;
  /** Descriptors whose transfer may run (submitted, or terminated and not synchronized). */
  running: Set<Desc>;
  /** Descriptors whose callback may run and whose callback_param is memory. */
  cb_live: Set<Desc>;
  /** Terminated descriptors' memory, watched after the synchronize. */
  watched: Watched[];
  /** The descriptors whose callbacks are running (innermost last). */
  in_cb: Desc[];
  /** The last prep that returned NULL, until the same driver prepares again. */
  null_prep: { site: Site; owner: number; fn: string; ch: Chan } | null;
  /** -EPROBE_DEFER given to a device's probe: where. */
  defer: Map<device, { site: Site; fn: string }>;
}

const machines = new WeakMap<object, EngState>();
let last_m: object | null = null, last_s: EngState | null = null;
export function st(): EngState {
  if (last_m === M) return last_s!;
  let s = machines.get(M);
  if (!s) {
    machines.set(M, s = { chans: new Map(), running: new Set(), cb_live: new Set(), watched: [],
      in_cb: [], null_prep: null, defer: new Map() });
  }
  last_m = M;
  last_s = s;
  return s;
}

/** Arm or disarm the mapping layer's watch (sim/dma/ownership.ts) for what is tracked now. */
export function rearm(s: EngState): void {
  M.own.watch_n = s.running.size + s.cb_live.size + s.watched.length;
}

/** The channel's record (a channel found another way than a request gets one here). */
export function chan_of(s: EngState, chan: dma_chan): Chan {
  let c = s.chans.get(chan);
  if (!c) {
    c = { chan, owner: M.owner, dev: M.cur_dev, req_site: 0, req_fn: '', held: false, all: new Set(), queue: [], issued: [],
      term: null, paused: false, unpaused: null, failed: null };
    s.chans.set(chan, c);
  }
  return c;
}

export function chan_name(chan: dma_chan): string {
  return chan.dev?.name ?? `dma?chan${chan.chan_id}`;
}

/** 'dma-copy dma-copy', as the mapping rules name a device. */
export function who(dev: device | null): string {
  return dev ? `${dev_driver_string(dev)} ${dev_name(dev)}` : 'dmaengine';
}

/** The client a channel serves (its requester, else the device whose code is running). */
export function client(c: Chan): string {
  return who(c.dev ?? c.chan.slave ?? M.cur_dev);
}

/** The controller behind a channel. */
export function ctrl(c: Chan): string {
  return who(c.chan.device.dev);
}

export function report(code: Code, lines: string[], sites: [string, Site][]): void {
  M.diag.report(code, lines.map((l) => `dmalab: ${l}`), { sites });
}

/** The descriptor of `cookie` on a channel (queued, issued, or terminated), if known. */
export function desc_of_cookie(c: Chan, cookie: number): Desc | null {
  for (const d of c.issued) if (d.cookie === cookie) return d;
  for (const d of c.queue) if (d.cookie === cookie) return d;
  return null;
}

/** The descriptor leaves the running and callback sets (completed and called back, freed,
 *  synchronized). */
export function settle(s: EngState, d: Desc, transfer: boolean, callback: boolean): void {
  if (transfer && !d.terminated) s.running.delete(d);
  if (callback && !d.terminated) {
    d.cb_pending = false;
    s.cb_live.delete(d);
  }
  rearm(s);
}

export function drop(list: Desc[], d: Desc): void {
  const i = list.indexOf(d);
  if (i >= 0) list.splice(i, 1);
}
