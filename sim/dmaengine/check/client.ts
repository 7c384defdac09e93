// The DMA engine checker's client rules (reference/dmaengine.md §1.15): what a driver that
// borrows a channel gets wrong, said as dmalab lines with the call where it happened and the
// earlier call that makes it wrong. The kernel prints nothing for any of these (where it does,
// as might_sleep() in dmaengine_synchronize(), its line comes first and this adds the code).
import { M } from '../../kernel/machine.ts';
import type { Site } from '../../kernel/site.ts';
import type { CallSite } from '../../kernel/site.ts';
import { errname, EPROBE_DEFER, IS_ERR, PTR_ERR } from '../../kernel/errno.ts';
import { x016 } from '../../lib/vsprintf.ts';
import type { device } from '../../base/device.ts';
import type { DriverRecord } from '../../base/dd.ts';
import { DIR_NAME, DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../../dma/types.ts';
import { DT } from '../../dma/debug.ts';
import { DMA_CTRL_REUSE, type dma_async_tx_descriptor, type dma_chan, type dma_slave_config } from '../types.ts';
import { dma_get_slave_caps, dma_slave_caps_zero } from '../dmaengine.ts';
import type { EngineRange } from '../hooks.ts';
import { chan_name, chan_of, client, ctrl, desc_of, rearm, report, st, who, type Chan, type Desc, type Range } from './state.ts';

const PREP_FN: Record<string, string> = { slave: 'dmaengine_prep_slave_sg/single()', cyclic: 'dmaengine_prep_dma_cyclic()',
  memcpy: 'dmaengine_prep_dma_memcpy()', memset: 'dmaengine_prep_dma_memset()', interleaved: 'dmaengine_prep_interleaved_dma()' };

/** Why a descriptor's transfer or callback may still run, and the call that says so. */
function why(d: Desc): [string, [string, Site]] {
  const c = d.ch;
  if (d.terminated && c.term) return ['terminated with dmaengine_terminate_async() and not synchronized', ['Terminated at', c.term.site]];
  return [`${d.state === 'submitted' ? 'submitted' : 'issued'} and not completed; the channel was never terminated`, ['Submitted at', d.submit_site]];
}

// ---- channels ------------------------------------------------------------------------------

export function on_request(chan: dma_chan | null, fn: string, site: Site): void {
  const s = st();
  if (chan && !IS_ERR(chan)) {
    const c = chan_of(s, chan);
    Object.assign(c, { owner: M.owner, dev: M.cur_dev ?? chan.slave, req_site: site, req_fn: fn, held: true });
  } else if (chan && PTR_ERR(chan) === -EPROBE_DEFER && M.cur_dev) {
    s.defer.set(M.cur_dev, { site, fn });
  }
}

/** After a probe: -EPROBE_DEFER from a channel request must be what it returned. */
export function on_probed(dev: device, rec: DriverRecord, ret: number): void {
  const s = st(), d = s.defer.get(dev);
  s.defer.delete(dev);
  if (!d || ret === -EPROBE_DEFER) return;
  report('DMAENGINE_PROBE_DEFER_SWALLOWED', [
    `${rec.name} ${dev.init_name}: ${d.fn}() returned -EPROBE_DEFER but probe returned ${ret === 0 ? '0 (bound without the channel)' : errname(ret)}`,
    '-EPROBE_DEFER means "not yet": return it from probe (dev_err_probe()), and the driver core probes again once the controller has registered',
  ], [['Requested at', d.site]]);
}

/** After an unbind or a failed probe: channels its driver still holds. */
export function on_left_behind(dev: device, rec: DriverRecord, when: 'probe' | 'unbind'): void {
  for (const c of st().chans.values()) {
    if (!c.held || c.dev !== dev || !c.chan.client_count) continue;
    c.held = false;
    report('DMAENGINE_CHAN_LEAK', [
      `${rec.name} ${dev.init_name}: ${when === 'probe' ? 'failed probe' : 'driver'} left DMA channel ${chan_name(c.chan)} held${when === 'unbind' ? ' at unbind' : ''}`,
      `every channel from ${c.req_fn}() needs a dma_release_channel(), in remove and on the probe's error paths`,
    ], [['Requested at', c.req_site]]);
  }
}

export function on_config(chan: dma_chan, cfg: dma_slave_config, site: Site): void {
  const caps = dma_slave_caps_zero();
  if (dma_get_slave_caps(chan, caps)) return;
  const bad: string[] = [];
  for (const [w, mask, name] of [[cfg.src_addr_width, caps.src_addr_widths, 'src_addr_width'],
    [cfg.dst_addr_width, caps.dst_addr_widths, 'dst_addr_width']] as const) {
    if (w && mask && !(mask & 1 << w)) bad.push(`${name} ${w}`);
  }
  for (const [b, name] of [[cfg.src_maxburst, 'src_maxburst'], [cfg.dst_maxburst, 'dst_maxburst']] as const) {
    if (b && caps.max_burst && b > caps.max_burst) bad.push(`${name} ${b}`);
    if (b && caps.min_burst && b < caps.min_burst) bad.push(`${name} ${b}`);
  }
  if (!bad.length) return;
  const c = chan_of(st(), chan);
  const widths = [1, 2, 3, 4, 8, 16, 32, 64, 128].filter((w) => (caps.src_addr_widths | caps.dst_addr_widths) & 1 << w);
  report('DMAENGINE_SLAVE_CONFIG_UNSUPPORTED', [
    `${client(c)}: ${chan_name(chan)}: dmaengine_slave_config() asks for ${bad.join(', ')}, which ${ctrl(c)} does not support (bus widths ${widths.join(', ')} bytes; bursts ${caps.min_burst || 1} to ${caps.max_burst})`,
    'compare the FIFO\'s needs with dma_get_slave_caps() before configuring, and fall back to PIO when they do not fit',
  ], [['Configured at', site], ['Requested at', c.req_site]]);
}

// ---- descriptors ---------------------------------------------------------------------------

export function on_prep(chan: dma_chan, tx: dma_async_tx_descriptor | null, kind: string, ranges: EngineRange[], site: Site): Desc | null {
  const s = st(), c = chan_of(s, chan);
  c.failed = null;
  const ctrl_dev = chan.device.dev;
  const rs: Range[] = [];
  let total = 0;
  for (const r of ranges) {
    const x: Range = { bus: r.bus, len: r.len, write: r.write, other: null, map_site: 0 };
    rs.push(x);
    if (!r.write || kind !== 'memcpy') total += r.len;
    if (!ctrl_dev || !r.len) continue;
    const m = M.own.mapping_of(ctrl_dev, r.bus, r.len);
    if (m) {
      x.map_site = m.site;
      if (m.type !== DT.coherent && m.type !== DT.resource) direction(c, x, m.dir, m.bus, m.size, kind, site);
    } else {
      const o = M.own.mapped_elsewhere(ctrl_dev, r.bus, r.len);
      if (o) { x.other = o.dev; x.map_site = o.site; }
    }
  }
  // (A refused prep is still checked: its direction may be why the provider refused it.)
  if (!tx) {
    s.null_prep = { site, owner: M.owner, fn: PREP_FN[kind] ?? 'the prep', ch: c };
    return null;
  }
  if (s.null_prep?.owner === M.owner) s.null_prep = null;
  const d: Desc = { tx, ch: c, kind, state: 'prepped', cookie: 0, ranges: rs, total, prep_site: site, submit_site: 0,
    terminated: false, cb_mem: [], cb_pending: false, landed: 0, reached: 0, told: false };
  tx._check = d;
  c.all.add(d);
  return d;
}

/** The prep's direction against the mapping the address was found in. */
function direction(c: Chan, r: Range, dir: number, bus: number, size: number, kind: string, site: Site): void {
  if ((r.write && dir !== DMA_TO_DEVICE) || (!r.write && dir !== DMA_FROM_DEVICE)) return;
  const engine_dir = kind === 'memcpy' ? (r.write ? 'a memcpy destination' : 'a memcpy source')
    : r.write ? 'DMA_DEV_TO_MEM' : 'DMA_MEM_TO_DEV';
  report('DMAENGINE_DIRECTION_MISMATCH', [
    `${client(c)}: ${chan_name(c.chan)}: ${PREP_FN[kind]} with ${engine_dir} makes the controller ${r.write ? 'write' : 'read'} a buffer mapped ${DIR_NAME[dir]} [device address=0x${x016(bus)}] [size=${size} bytes]`,
    r.write ? 'a transfer into memory (DMA_DEV_TO_MEM) needs a DMA_FROM_DEVICE mapping; the two enums are different types whose numbers happen to overlap'
      : 'a transfer out of memory (DMA_MEM_TO_DEV) needs a DMA_TO_DEVICE mapping; the two enums are different types whose numbers happen to overlap',
  ], [['Prepared at', site], ['Mapped at', r.map_site]]);
}

/** Before tx_submit: a NULL prep used, a descriptor submitted again. */
export function on_submit(tx: dma_async_tx_descriptor | null, site: Site): void {
  const s = st();
  if (!tx) {
    null_used(s, site, 'Submitted at');
    return;
  }
  const d = desc_of(tx);
  if (!d || d.state === 'prepped' || tx.flags & DMA_CTRL_REUSE) return;
  const was = d.state === 'done' ? 'completed' : d.state === 'freed' ? 'completed and freed' : 'still queued';
  report('DMAENGINE_DESC_REUSED', [
    `${client(d.ch)}: ${chan_name(d.ch.chan)}: dmaengine_submit() of a descriptor already submitted (cookie ${d.cookie}, ${was}), without DMA_CTRL_REUSE`,
    'a descriptor belongs to the engine once submitted and is freed after its callback: prepare a new one, or mark it with dmaengine_desc_set_reuse() where the controller supports reuse',
  ], [['Submitted again at', site], ['First submitted at', d.submit_site]]);
}

function null_used(s: ReturnType<typeof st>, site: Site, label: string): void {
  const np = s.null_prep;
  if (!np || np.owner !== M.owner) return;
  s.null_prep = null;
  report('DMAENGINE_PREP_NULL_IGNORED', [
    `${client(np.ch)}: ${chan_name(np.ch.chan)}: ${np.fn} returned NULL (the provider refused the transfer) and the driver used it as a descriptor`,
    'check the prep\'s result: NULL means nothing was prepared; unmap and fail the request (-ENOMEM, -EIO), or fall back to PIO',
  ], [[label, site], ['Prepared at', np.site]]);
}

/** An exception in driver code right after a NULL prep: it dereferenced the NULL. */
export function on_oops(err: Error, frames: CallSite[]): void {
  if (!/of (null|undefined)/.test(err.message)) return;
  const s = st();
  if (s.null_prep && frames[0]) null_used(s, frames[0], 'Used at');
}

/** What the callback's parameter points at in kernel memory: a kmalloc'ed struct (a pointer
 *  into the linear map). A driver's own object is not looked into: which of its buffers the
 *  callback touches is not knowable from here. */
function cb_memory(param: unknown): number[] {
  const mmu = M.mmu;
  return typeof param === 'number' && mmu.is_linear(param) ? [mmu.lm_to_phys(param)] : [];
}

export function on_submitted(tx: dma_async_tx_descriptor, cookie: number, site: Site): Desc | null {
  const s = st(), d = desc_of(tx);
  if (!d) return null;
  const c = d.ch;
  if (cookie < 0) {
    c.failed = { cookie, site, checked: false };
    return null;
  }
  Object.assign(d, { state: 'submitted', cookie, submit_site: site, told: false, landed: 0, reached: 0, terminated: false });
  c.queue.push(d);
  s.running.add(d);
  if (tx.callback || tx.callback_result) {
    d.cb_pending = true;
    d.cb_mem = cb_memory(tx.callback_param);
    if (d.cb_mem.length) s.cb_live.add(d);
  }
  rearm(s);
  return d;
}

export function on_submit_error(cookie: number): void {
  for (const c of st().chans.values()) if (c.failed?.cookie === cookie) c.failed.checked = true;
}

function submit_error_ignored(c: Chan, label: string, site: Site): void {
  const f = c.failed;
  if (!f || f.checked) return;
  f.checked = true;
  report('DMAENGINE_SUBMIT_ERROR_IGNORED', [
    `${client(c)}: ${chan_name(c.chan)}: dmaengine_submit() returned the error cookie ${f.cookie} and the driver went on as if the transfer were queued`,
    'test the cookie with dma_submit_error(): on an error nothing was queued, nothing will move and no callback will come',
  ], [[label, site], ['Submitted at', f.site]]);
}

export function on_issue(chan: dma_chan, site: Site): void {
  const s = st(), c = chan_of(s, chan);
  submit_error_ignored(c, 'Issued at', site);
  if (c.term) {
    report('DMAENGINE_ISSUE_BEFORE_SYNC', [
      `${client(c)}: dma_async_issue_pending() on ${chan_name(chan)} after dmaengine_terminate_async() and before dmaengine_synchronize(): the kernel leaves what happens undefined`,
      'synchronize (from process context) before issuing again, or stop with dmaengine_terminate_sync() where the context allows it',
    ], [['Issued at', site], ['Terminated at', c.term.site]]);
  }
  for (const d of c.queue) { d.state = 'issued'; c.issued.push(d); }
  c.queue.length = 0;
}

export function on_status(chan: dma_chan, cookie: number, site: Site): void {
  if (cookie >= 0) return;
  const c = chan_of(st(), chan);
  if (c.failed?.cookie === cookie) submit_error_ignored(c, 'Status asked at', site);
}

/** A wait gave up: transfers of this driver submitted and never issued, or never queued. */
export function on_wait_timeout(site: Site): void {
  for (const c of st().chans.values()) {
    if (c.owner !== M.owner) continue;
    submit_error_ignored(c, 'Timed out at', site);
    for (const d of c.queue) {
      if (d.told) continue;
      d.told = true;
      report('DMAENGINE_NOT_ISSUED', [
        `${client(c)}: ${chan_name(c.chan)}: cookie ${d.cookie} was submitted but never issued: nothing moves until dma_async_issue_pending()`,
        'dmaengine_submit() only queues the descriptor; call dma_async_issue_pending(chan) after submitting',
      ], [['Timed out at', site], ['Submitted at', d.submit_site]]);
    }
  }
}

// ---- pause, resume, terminate, synchronize -------------------------------------------------

export function on_pause(chan: dma_chan, ret: number, site: Site): void {
  const c = chan_of(st(), chan);
  if (ret === 0) c.paused = true;
  else c.unpaused = ['Pause failed at', site];
}

export function on_resume(chan: dma_chan, site: Site): void {
  const c = chan_of(st(), chan);
  if (!c.paused) {
    report('DMAENGINE_RESUME_NOT_PAUSED', [
      `${client(c)}: dmaengine_resume() of ${chan_name(chan)}, which is not paused`,
      '"It is invalid to resume a channel which is not currently paused" (client.rst): resume only after a dmaengine_pause() that returned 0',
    ], c.unpaused ? [['Resumed at', site], c.unpaused] : [['Resumed at', site]]);
  }
  c.paused = false;
  c.unpaused = ['Last resumed at', site];
}

/** terminate_async / _all: what is live now may go on until a synchronize. */
export function on_terminate(chan: dma_chan, site: Site): void {
  const c = chan_of(st(), chan);
  const live: Desc[] = c.term ? c.term.descs : [];
  for (const d of c.all) {
    if (d.terminated || !(d.state === 'submitted' || d.state === 'issued' || d.cb_pending)) continue;
    d.terminated = true;
    live.push(d);
  }
  c.term = { site, descs: live };
  c.queue.length = 0;
  c.issued.length = 0;
  c.paused = false;
  c.unpaused = ['Terminated at', site];
}

export function on_sync(chan: dma_chan, site: Site, fn: string): void {
  const s = st(), c = chan_of(s, chan);
  const inner = s.in_cb[s.in_cb.length - 1];
  if (inner && inner.ch.chan === chan) {
    report('DMAENGINE_SYNC_IN_CALLBACK', [
      `${client(c)}: ${fn}() on ${chan_name(chan)} from the callback of its own descriptor (cookie ${inner.cookie}): it waits for that callback to return, and the callback is the caller`,
      'in a callback use dmaengine_terminate_async(), and dmaengine_synchronize() later from process context',
    ], [['Called at', site], ['Callback of the descriptor submitted at', inner.submit_site]]);
    return;
  }
  const sc = M.sched;
  if (!sc.in_atomic() && !sc.irqs_disabled()) return;
  const ctx = sc.in_hardirq() ? 'in a hard interrupt handler' : sc.in_softirq() ? 'in softirq context (a tasklet or another channel\'s callback)'
    : sc.irqs_disabled() ? 'with interrupts disabled' : 'with a spinlock held';
  report('DMAENGINE_SYNC_IN_ATOMIC', [
    `${client(c)}: ${fn}() on ${chan_name(chan)} ${ctx}: it waits for the channel's transfers and callbacks, which only process context may do`,
    'stop with dmaengine_terminate_async() here, and call dmaengine_synchronize() later from process context before freeing anything',
  ], inner ? [['Called at', site], ['Callback of the descriptor submitted at', inner.submit_site]] : [['Called at', site]]);
}

// ---- freeing what a transfer or its callback uses ------------------------------------------

/** dma_unmap_*() / dma_free_*() of [bus, bus+size) by dev. */
export function on_unmap(dev: device, bus: number, size: number, site: Site, op: string): void {
  for (const d of st().running) {
    const ctl = d.ch.chan.device.dev;
    for (const r of d.ranges) {
      if (r.bus >= bus + size || r.bus + r.len <= bus || (r.other ? r.other !== dev : ctl !== dev)) continue;
      const [w, earlier] = why(d);
      report('DMAENGINE_BUFFER_FREED_ACTIVE', [
        `${client(d.ch)}: ${op} of a buffer that ${chan_name(d.ch.chan)} may still be ${r.write ? 'writing' : 'reading'} (cookie ${d.cookie}: ${w}) [device address=0x${x016(bus)}] [size=${size} bytes]`,
        'stop the channel first: dmaengine_terminate_sync(), or dmaengine_terminate_async() then dmaengine_synchronize(), before unmapping or freeing what a transfer uses',
      ], [[`${op} at`, site], earlier]);
      return;
    }
  }
}

/** kfree() of [phys, phys+len): the state a callback that may still run uses. */
export function on_kfree(phys: number, len: number, site: Site): void {
  for (const d of st().cb_live) {
    if (!d.cb_mem.some((p) => p >= phys && p < phys + len)) continue;
    const [w, earlier] = why(d);
    report('DMAENGINE_CALLBACK_STATE_FREED', [
      `${client(d.ch)}: kfree() of memory the callback of ${chan_name(d.ch.chan)} cookie ${d.cookie} uses (its callback_param), while that callback may still run (${w})`,
      'dmaengine_terminate_sync(), or dmaengine_synchronize() after an async terminate, waits for running callbacks: free their state after it',
    ], [['Freed at', site], earlier]);
    return;
  }
}

/** The controller reached an address not mapped for it: a buffer mapped for another device? */
export function on_unmapped(dev: device, bus: number, len: number, write: boolean, started: Site): void {
  const s = st();
  let hit: { d: Desc; r: Range } | null = null;
  let is_ctrl = false;
  for (const c of s.chans.values()) {
    if (c.chan.device.dev !== dev) continue;
    is_ctrl = true;
    for (const d of c.all) for (const r of d.ranges) if (!hit && r.bus < bus + len && r.bus + r.len > bus) hit = { d, r };
  }
  if (!is_ctrl) return;
  const o = M.own.mapped_elsewhere(dev, bus, len);
  const other = hit?.r.other ?? o?.dev ?? null;
  if (!other) return;
  const map_site = hit?.r.other ? hit.r.map_site : o!.site;
  const c = hit?.d.ch;
  report('DMAENGINE_WRONG_DEVICE', [
    `${who(dev)}: the controller ${write ? 'wrote' : 'read'} bus address 0x${x016(bus)} [size=${len} bytes]${c ? ` for ${chan_name(c.chan)} cookie ${hit!.d.cookie}` : ''}, a buffer mapped for ${who(other)}, not for the controller`,
    'the DMA controller does the accesses: map buffers for the engine with chan->device->dev, not with the client\'s own device',
  ], hit ? [['Prepared at', hit.d.prep_site], ['Mapped at', map_site]] : [['Transfer started at', started], ['Mapped at', map_site]]);
}

