// The DMA engine checker's provider rules (lesson 14): what a controller driver gets wrong in
// the framework's contract. Cookies complete in order, once, after issue; callbacks come from
// the tasklet; the residue is what the hardware has yet to move; after terminate and
// synchronize the controller touches nothing of what was terminated; every descriptor is freed.
import { M } from '../../kernel/machine.ts';
import { take_site, type Site } from '../../kernel/site.ts';
import { x016 } from '../../lib/vsprintf.ts';
import type { device } from '../../base/device.ts';
import { DMA_COMPLETION_NO_ORDER, DMA_IN_PROGRESS, DMA_PAUSED, DMA_RESIDUE_GRANULARITY_DESCRIPTOR,
  type dma_async_tx_descriptor, type dma_chan, type dma_tx_state } from '../types.ts';
import { dma_has_cap } from '../inline.ts';
import { dma_cookie_complete, dmaengine_desc_callback_invoke } from '../cookie.ts';
import { chan_name, ctrl, desc_of_cookie, rearm, report, st, who, type Chan, type Desc, type EngState,
  type Watched } from './state.ts';

const WATCHED_MAX = 256;

/** dma_cookie_complete(): completing out of order, twice, or before issue. */
export function check_complete(d: Desc): void {
  const c = d.ch;
  if (d.terminated) return;
  let why = '', other: Desc = d;
  if (d.state === 'done' || d.state === 'freed' || d.tx.cookie <= 0) why = 'twice (its cookie was already completed)';
  else if (d.state === 'submitted') why = 'before it was issued (no dma_async_issue_pending() has run for it)';
  else if (d.state === 'issued' && !dma_has_cap(DMA_COMPLETION_NO_ORDER, c.chan.device.cap_mask)) {
    const head = c.issued.find((x) => x.kind !== 'cyclic');
    if (head && head !== d) {
      other = head;
      why = `while cookie ${head.cookie}, issued before it and still in the hardware's queue, has not completed (out of order)`;
    }
  }
  if (!why) return;
  report('DMAENGINE_WRONG_COOKIE', [
    `${ctrl(c)}: ${chan_name(c.chan)}: cookie ${d.cookie} completed ${why}`,
    'complete the descriptor the hardware has just finished (vchan_cookie_complete() on the active one), then start the next',
  ], [['Completed at', take_site(dma_cookie_complete)], ['Submitted at', other.submit_site]]);
}

/** A callback about to run: from the tasklet, not the interrupt handler. */
export function check_callback(d: Desc): void {
  if (!M.sched.in_hardirq()) return;
  const c = d.ch;
  report('DMAENGINE_CALLBACK_HARDIRQ', [
    `${ctrl(c)}: ${chan_name(c.chan)}: the callback of cookie ${d.cookie} was called in hard-IRQ context`,
    'complete with vchan_cookie_complete() (or vchan_cyclic_callback()) and let the channel\'s tasklet call the client back: clients expect softirq context',
  ], [['Called back at', take_site(dmaengine_desc_callback_invoke)], ['Submitted at', d.submit_site]]);
}

/** How far into the memory side of d an access of [bus, bus+len) reaches (-1: not d's). */
function reach(d: Desc, bus: number, len: number, write: boolean): number {
  let off = 0, best = -1;
  for (const r of d.ranges) {
    if (r.write !== write && d.kind === 'memcpy') continue;
    if (r.bus < bus + len && r.bus + r.len > bus) best = Math.max(best, off + Math.min(bus + len, r.bus + r.len) - r.bus);
    off += r.len;
  }
  return best;
}

/** Every access of a controller while something is armed: progress, and terminated memory. */
export function on_access(dev: device, bus: number, len: number, write: boolean, started: Site): void {
  const s = st();
  for (const d of s.running) {
    if (d.state !== 'issued' || d.terminated || d.ch.chan.device.dev !== dev) continue;
    const e = reach(d, bus, len, write);
    if (e < 0) continue;
    // The memory side the residue counts: what a memcpy writes, what a slave transfer touches.
    if (d.kind !== 'memcpy' || write) d.landed = Math.max(d.landed, e);
    d.reached = Math.max(d.reached, e);
  }
  for (let i = 0; i < s.watched.length; i++) {
    const w = s.watched[i]!;
    if (w.ctrl !== dev || w.bus >= bus + len || w.bus + w.len <= bus) continue;
    s.watched.splice(i, 1);
    rearm(s);
    report('DMAENGINE_HW_RUNNING_AFTER_TERMINATE', [
      `${who(dev)}: the controller ${write ? 'wrote' : 'read'} bus address 0x${x016(bus)} [size=${len} bytes] of ${chan_name(w.ch.chan)} cookie ${w.cookie} after the channel was terminated and synchronized`,
      'device_terminate_all must stop the channel (abort it and wait until it has stopped), or device_synchronize must wait for it, before the client is told it may free the memory',
    ], [['Transfer started at', started], ['Terminated at', w.term]]);
    return;
  }
}

/** The controller's declared transfers (hw/bus.ts) that reach into d: how far they may go. */
function inflight_reach(d: Desc): number {
  let best = 0;
  const dev = d.ch.chan.device.dev;
  for (const t of M.own.inflight) if (t.dev === dev) best = Math.max(best, reach(d, t.bus, t.len, t.write));
  return best;
}

/** dmaengine_tx_status() of an issued descriptor: the residue the hardware's progress allows. */
export function check_residue(c: Chan, cookie: number, status: number, state: dma_tx_state | null, site: Site): void {
  if (!state || (status !== DMA_IN_PROGRESS && status !== DMA_PAUSED)) return;
  if (c.chan.device.residue_granularity === DMA_RESIDUE_GRANULARITY_DESCRIPTOR) return;
  const d = desc_of_cookie(c, cookie);
  if (!d || d.state !== 'issued' || d.terminated || !d.total) return;
  const res = state.residue;
  let why = '';
  if (res > d.total) why = 'that is more than the whole transfer';
  else if (d.kind !== 'cyclic') {
    const head = c.issued.find((x) => x.kind !== 'cyclic');
    const reached = Math.max(d.reached, d.landed, inflight_reach(d));
    if (head !== d && !reached) {
      if (res !== d.total) why = 'it has not started (it is queued behind another): all of it is left';
    } else if (res < d.total - reached) {
      why = `the controller can have moved at most ${reached} of them by now`;
    } else if (res > d.total - d.landed) {
      why = `the controller has already moved ${d.landed} of them`;
    }
  }
  if (!why) return;
  report('DMAENGINE_WRONG_RESIDUE', [
    `${ctrl(c)}: ${chan_name(c.chan)}: tx_status gives a residue of ${res} bytes for cookie ${cookie} (${d.total} bytes), but ${why}`,
    'the residue is what the hardware has yet to move of this descriptor: for the active one the controller\'s count of the current segment plus every segment after it; a queued one is whole',
  ], [['Status asked at', site], ['Submitted at', d.submit_site]]);
}

function on_vchan_lists(chan: dma_chan, tx: dma_async_tx_descriptor): boolean | null {
  const vc = chan._container as Record<string, unknown> | undefined;
  const lists = vc && ['desc_allocated', 'desc_submitted', 'desc_issued', 'desc_completed', 'desc_terminated'].map((k) => vc[k]);
  if (!lists || !lists.every(Array.isArray)) return null;
  const vd = tx._container;
  return (lists as unknown[][]).some((l) => l.includes(vd));
}

function leaked(d: Desc, label: string, site: Site): void {
  const c = d.ch;
  report('DMAENGINE_DESC_LEAK', [
    `${ctrl(c)}: ${chan_name(c.chan)}: the descriptor of cookie ${d.cookie || '(never submitted)'} (${d.total} bytes) was never freed, and is on none of the channel's lists`,
    'device_terminate_all hands the active descriptor to vchan_terminate_vdesc() and frees the rest (vchan_get_all_descriptors(), vchan_dma_desc_free_list()); nothing may be dropped from the lists unfreed',
  ], [['Prepared at', d.prep_site], [label, site]]);
}

/** After the synchronize that ends an async terminate: leaks, and the memory to watch. */
export function after_terminate(s: EngState, c: Chan, descs: Desc[], term: Site, site: Site): void {
  const dev = c.chan.device.dev;
  for (const d of descs) {
    if (d.state !== 'freed' && on_vchan_lists(c.chan, d.tx) === false) leaked(d, 'Terminated at', term);
    if (!dev) continue;
    for (const r of d.ranges) if (!r.other && r.len) s.watched.push({ ctrl: dev, ch: c, cookie: d.cookie, bus: r.bus, len: r.len, term });
  }
  if (s.watched.length > WATCHED_MAX) s.watched.splice(0, s.watched.length - WATCHED_MAX);
  void site;
}

/** The last put freed the channel's resources: every descriptor must be gone. */
export function after_release(c: Chan, site: Site): void {
  for (const d of c.all) if (d.state !== 'freed' && on_vchan_lists(c.chan, d.tx) !== null) leaked(d, 'Released at', site);
}

/** New work on these addresses: what the controller touches there now is not a leftover. */
export function unwatch(s: EngState, d: Desc): void {
  if (!s.watched.length) return;
  const dev = d.ch.chan.device.dev;
  s.watched = s.watched.filter((w: Watched) => w.ctrl !== dev || !d.ranges.some((r) => r.bus < w.bus + w.len && r.bus + r.len > w.bus));
  rearm(s);
}

