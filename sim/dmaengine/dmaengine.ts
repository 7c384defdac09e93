// The dmaengine core (drivers/dma/dmaengine.c, Linux 6.1): providers register a struct
// dma_device with its channels; clients get an exclusive channel by name through the device
// tree (of-dma.ts) or by capability mask, and give it back. Channel get/put call the provider's
// alloc/free_chan_resources; the last put synchronizes the channel first.
import { M } from '../kernel/machine.ts';
import { EINVAL, EIO, ENODEV, ENXIO, EPROBE_DEFER, IS_ERR, ERR_PTR, PTR_ERR } from '../kernel/errno.ts';
import { dev_err, dev_name, type device } from '../base/device.ts';
import { devres_add } from '../base/devres.ts';
import { DMA_COMPLETE, DMA_CYCLIC, DMA_ERROR, DMA_IN_PROGRESS, DMA_INTERLEAVE, DMA_INTERRUPT, DMA_MEMCPY,
  DMA_MEMCPY_SG, DMA_MEMSET, DMA_MEMSET_SG, DMA_PQ, DMA_PQ_VAL, DMA_PRIVATE, DMA_SLAVE, DMA_XOR, DMA_XOR_VAL,
  type dma_async_tx_descriptor, type dma_cap_mask_t, type dma_chan, type dma_cookie_t, type dma_device,
  type dma_filter_fn, type dma_slave_caps, type dma_status } from './types.ts';
import { dma_async_is_tx_complete, __dma_async_issue_pending, dma_cap_clear, dma_cap_set, dma_has_cap,
  __dmaengine_synchronize } from './inline.ts';
import { eng } from './hooks.ts';
import { take_site, type Site } from '../kernel/site.ts';
// The checker registers its hooks when it loads (as dma-debug is built in).
import './check/index.ts';
import { of_dma_request_slave_channel } from './of-dma.ts';
import { spin_ns } from '../kernel/time.ts';

interface EngineState { list: dma_device[]; ids: Set<number> }
const machines = new WeakMap<object, EngineState>();
function st(): EngineState {
  let s = machines.get(M);
  if (!s) machines.set(M, s = { list: [], ids: new Set() });
  return s;
}

/** The registered DMA devices (dma_device_list), oldest first. */
export function dma_device_list(): readonly dma_device[] {
  return st().list;
}

/** dma_chan_name(): 'dma0chan1'. */
export function dma_chan_name(chan: dma_chan): string {
  return chan.dev?.name ?? `dma?chan${chan.chan_id}`;
}

// ---- registration --------------------------------------------------------------------------

const CAP_OPS: [number, string, keyof dma_device][] = [
  [DMA_MEMCPY, 'DMA_MEMCPY', 'device_prep_dma_memcpy'],
  [DMA_MEMCPY_SG, 'DMA_MEMCPY_SG', 'device_prep_dma_memcpy_sg'],
  [DMA_XOR, 'DMA_XOR', 'device_prep_dma_xor'],
  [DMA_XOR_VAL, 'DMA_XOR_VAL', 'device_prep_dma_xor_val'],
  [DMA_PQ, 'DMA_PQ', 'device_prep_dma_pq'],
  [DMA_PQ_VAL, 'DMA_PQ_VAL', 'device_prep_dma_pq_val'],
  [DMA_MEMSET, 'DMA_MEMSET', 'device_prep_dma_memset'],
  [DMA_MEMSET_SG, 'DMA_MEMSET_SG', 'device_prep_dma_memset_sg'],
  [DMA_INTERRUPT, 'DMA_INTERRUPT', 'device_prep_dma_interrupt'],
  [DMA_CYCLIC, 'DMA_CYCLIC', 'device_prep_dma_cyclic'],
  [DMA_INTERLEAVE, 'DMA_INTERLEAVE', 'device_prep_interleaved_dma'],
];

/** dma_async_device_register(): check the ops against the claimed capabilities, number the
 *  device and its channels (dma<N>chan<M>), and make them findable. */
export function dma_async_device_register(device: dma_device | null): number {
  if (!device) return -ENODEV;
  const dev = device.dev;
  if (!dev) {
    M.printk(3, 'dmaengine: DMAdevice must have dev');
    return -EIO;
  }
  for (const [cap, name, op] of CAP_OPS) {
    if (dma_has_cap(cap, device.cap_mask) && !device[op]) {
      dev_err(dev, 'Device claims capability %s, but op is not defined\n', name);
      return -EIO;
    }
  }
  if (!device.device_tx_status) {
    dev_err(dev, 'Device tx_status is not defined\n');
    return -EIO;
  }
  if (!device.device_issue_pending) {
    dev_err(dev, 'Device issue_pending is not defined\n');
    return -EIO;
  }
  // Without device_release the kernel only says so with dev_dbg (not printed by default).
  const s = st();
  let id = 0;
  while (s.ids.has(id)) id++;
  s.ids.add(id);
  device.dev_id = id;
  device.chancnt = 0;
  device.channels.forEach((chan, i) => {
    chan.device = device;
    chan.chan_id = i;
    chan.dev = { chan, dev_id: id, name: `dma${id}chan${i}` };
    chan.client_count = 0;
    device.chancnt++;
  });
  s.list.push(device);
  if (dma_has_cap(DMA_PRIVATE, device.cap_mask)) device.privatecnt++;
  device._registered = true;
  return 0;
}

/** dma_async_device_unregister(): the channels go; the device can no longer be found. */
export function dma_async_device_unregister(device: dma_device): void {
  const s = st();
  for (const chan of device.channels) {
    device.chancnt--;
    if (chan.dev) chan.dev.chan = null;
  }
  dma_cap_set(DMA_PRIVATE, device.cap_mask);
  const i = s.list.indexOf(device);
  if (i >= 0) s.list.splice(i, 1);
  s.ids.delete(device.dev_id);
  device._registered = false;
}

/** dmaenginem_async_device_register(): registered, and unregistered again at unbind. */
export function dmaenginem_async_device_register(device: dma_device): number {
  const ret = dma_async_device_register(device);
  if (!ret && device.dev) devres_add(device.dev, 'dmaenginem_async_device_register', () => dma_async_device_unregister(device));
  return ret;
}

export function dma_async_tx_descriptor_init(tx: dma_async_tx_descriptor, chan: dma_chan): void {
  tx.chan = chan;
}

// ---- getting and putting channels ---------------------------------------------------------

function dma_chan_get(chan: dma_chan): number {
  if (chan.client_count) {
    chan.client_count++;
    return 0;
  }
  const d = chan.device;
  if (!d._registered) return -ENODEV;
  // Allocate upon the first client reference.
  if (d.device_alloc_chan_resources) {
    const ret = d.device_alloc_chan_resources(chan);
    if (ret < 0) return ret;
  }
  chan.client_count++;
  return 0;
}

function dma_chan_put(chan: dma_chan, site: Site): void {
  if (!chan.client_count) return;
  chan.client_count--;
  if (!chan.client_count && chan.device.device_free_chan_resources) {
    // Make sure all operations have completed.
    __dmaengine_synchronize(chan, site, 'dma_release_channel');
    chan.device.device_free_chan_resources(chan);
  }
}

function dma_device_satisfies_mask(device: dma_device, want: dma_cap_mask_t): boolean {
  return (device.cap_mask.bits & want.bits) === want.bits;
}

function private_candidate(mask: dma_cap_mask_t | null, dev: dma_device, fn: dma_filter_fn | null, fn_param: unknown): dma_chan | null {
  if (mask && !dma_device_satisfies_mask(dev, mask)) return null;
  // A device with several channels is either all private or all public.
  if (dev.chancnt > 1 && !dma_has_cap(DMA_PRIVATE, dev.cap_mask) && dev.channels.some((c) => c.client_count)) return null;
  for (const chan of dev.channels) {
    if (chan.client_count) continue;
    if (fn && !fn(chan, fn_param)) continue;
    return chan;
  }
  return null;
}

function find_candidate(device: dma_device, mask: dma_cap_mask_t | null, fn: dma_filter_fn | null, fn_param: unknown): dma_chan {
  const chan = private_candidate(mask, device, fn, fn_param);
  if (!chan) return ERR_PTR(-EPROBE_DEFER);
  // Private from now on: it is not handed out to the general-purpose allocator.
  dma_cap_set(DMA_PRIVATE, device.cap_mask);
  device.privatecnt++;
  const err = dma_chan_get(chan);
  if (err) {
    if (--device.privatecnt === 0) dma_cap_clear(DMA_PRIVATE, device.cap_mask);
    return ERR_PTR(err);
  }
  return chan;
}

/** dma_get_slave_channel(): exclusive access to this very channel, or null if it is busy. */
export function dma_get_slave_channel(chan: dma_chan): dma_chan | null {
  if (chan.client_count !== 0) return null;
  const device = chan.device;
  dma_cap_set(DMA_PRIVATE, device.cap_mask);
  device.privatecnt++;
  if (dma_chan_get(chan)) {
    if (--device.privatecnt === 0) dma_cap_clear(DMA_PRIVATE, device.cap_mask);
    return null;
  }
  return chan;
}

/** dma_get_any_slave_channel(): any free DMA_SLAVE channel of this device, or null. */
export function dma_get_any_slave_channel(device: dma_device): dma_chan | null {
  const chan = find_candidate(device, { bits: 1 << DMA_SLAVE }, null, null);
  return IS_ERR(chan) ? null : chan;
}

/** __dma_request_channel() (dma_request_channel()): a channel satisfying mask and filter, or
 *  null (never an error pointer). */
export function __dma_request_channel(mask: dma_cap_mask_t | null, fn: dma_filter_fn | null, fn_param: unknown,
  np: unknown = null): dma_chan | null {
  for (const device of [...st().list]) {
    if (np && device.dev?.of_node && np !== device.dev.of_node) continue;
    const chan = find_candidate(device, mask, fn, fn_param);
    if (!IS_ERR(chan)) return chan;
  }
  return null;
}
export function dma_request_channel(mask: dma_cap_mask_t, fn: dma_filter_fn | null, fn_param: unknown): dma_chan | null {
  const site = take_site(dma_request_channel);
  const chan = __dma_request_channel(mask, fn, fn_param, null);
  eng.request(chan, 'dma_request_channel', site);
  return chan;
}

/** dma_request_chan(dev, name): the channel the device tree names for this device, or an error
 *  pointer: -ENODEV when there is none, -EPROBE_DEFER when its controller has not probed. */
export function dma_request_chan(dev: device, name: string): dma_chan {
  const site = take_site(dma_request_chan);
  // An injection point (fail-nth): the channel is not there, as when the controller has none free.
  const chan = M.faults.should_fail('dma_chan', site) ? ERR_PTR<dma_chan>(-ENODEV) : request_chan(dev, name);
  eng.request(chan, 'dma_request_chan', site);
  return chan;
}
function request_chan(dev: device, name: string): dma_chan {
  let chan: dma_chan | null = null;
  if (dev.of_node) chan = of_dma_request_slave_channel(dev.of_node, name);
  if (IS_ERR(chan) && PTR_ERR(chan) === -EPROBE_DEFER) return chan!;
  if (!chan || IS_ERR(chan)) {
    // The filter maps of registered providers (board files, no device tree).
    for (const d of [...st().list]) {
      for (const map of d.filter.map) {
        if (map.devname !== dev_name(dev) || map.slave !== name) continue;
        const c = find_candidate(d, { bits: 1 << DMA_SLAVE }, d.filter.fn, map.param);
        chan = c;
        if (!IS_ERR(c)) break;
      }
      if (chan && !IS_ERR(chan)) break;
    }
    if (IS_ERR(chan)) return chan!;
    if (!chan) return ERR_PTR(-EPROBE_DEFER);
  }
  chan.dbg_client_name = `${dev_name(dev)}:${name}`;
  chan.name = `dma:${name}`;
  chan.slave = dev;
  return chan;
}

/** dma_request_slave_channel(): dma_request_chan(), with null for any error. */
export function dma_request_slave_channel(dev: device, name: string): dma_chan | null {
  const site = take_site(dma_request_slave_channel);
  const ch = request_chan(dev, name);
  eng.request(ch, 'dma_request_slave_channel', site);
  return IS_ERR(ch) ? null : ch;
}

/** dma_request_chan_by_mask(): any channel with these capabilities; -EPROBE_DEFER while no
 *  DMA device is registered at all, else -ENODEV. */
export function dma_request_chan_by_mask(mask: dma_cap_mask_t | null): dma_chan {
  const site = take_site(dma_request_chan_by_mask);
  const chan: dma_chan = M.faults.should_fail('dma_chan', site) ? ERR_PTR<dma_chan>(-ENODEV) : mask ? __dma_request_channel(mask, null, null, null) ??
    ERR_PTR<dma_chan>(st().list.length ? -ENODEV : -EPROBE_DEFER) : ERR_PTR<dma_chan>(-ENODEV);
  eng.request(chan, 'dma_request_chan_by_mask', site);
  return chan;
}

/** dma_release_channel(): give an exclusive channel back (the last put synchronizes it and
 *  frees its resources). */
export function dma_release_channel(chan: dma_chan): void {
  const site = take_site(dma_release_channel);
  // WARN_ONCE in the kernel (its WARNING location not measured here: the text alone).
  if (chan.client_count !== 1) M.printk(4, `chan reference count ${chan.client_count} != 1`);
  dma_chan_put(chan, site);
  eng.release(chan, site);
  if (--chan.device.privatecnt === 0) dma_cap_clear(DMA_PRIVATE, chan.device.cap_mask);
  chan.name = null;
  chan.slave = null;
  chan.dbg_client_name = null;
}

// ---- capabilities and waiting --------------------------------------------------------------

/** dma_get_slave_caps(): what the channel's controller can do, for a slave client to check. */
export function dma_get_slave_caps(chan: dma_chan | null, caps: dma_slave_caps | null): number {
  if (!chan || !caps) return -EINVAL;
  const d = chan.device;
  if (!(dma_has_cap(DMA_SLAVE, d.cap_mask) || dma_has_cap(DMA_CYCLIC, d.cap_mask))) return -ENXIO;
  // No directions: the provider does not report slave capabilities at all.
  if (!d.directions) return -ENXIO;
  caps.src_addr_widths = d.src_addr_widths;
  caps.dst_addr_widths = d.dst_addr_widths;
  caps.directions = d.directions;
  caps.min_burst = d.min_burst;
  caps.max_burst = d.max_burst;
  caps.max_sg_burst = d.max_sg_burst;
  caps.residue_granularity = d.residue_granularity;
  caps.descriptor_reuse = d.descriptor_reuse;
  caps.cmd_pause = !!d.device_pause;
  caps.cmd_resume = !!d.device_resume;
  caps.cmd_terminate = !!d.device_terminate_all;
  d.device_caps?.(chan, caps);
  return 0;
}

/** A zeroed struct dma_slave_caps to pass to dma_get_slave_caps(). */
export function dma_slave_caps_zero(): dma_slave_caps {
  return { src_addr_widths: 0, dst_addr_widths: 0, directions: 0, min_burst: 0, max_burst: 0, max_sg_burst: 0,
    cmd_pause: false, cmd_resume: false, cmd_terminate: false, residue_granularity: 0, descriptor_reuse: false };
}

/** dma_sync_wait(): issue, then spin until the cookie is no longer in progress (5 s at most). */
export function dma_sync_wait(chan: dma_chan, cookie: dma_cookie_t): dma_status {
  const start = M.clock.now, deadline = start + 5000 * 1e6;
  __dma_async_issue_pending(chan, take_site(dma_sync_wait));
  for (;;) {
    const status = dma_async_is_tx_complete(chan, cookie, null, null);
    if (M.clock.now >= deadline) {
      dev_err(chan.device.dev!, '%s: timeout!\n', 'dma_sync_wait');
      return DMA_ERROR;
    }
    if (status !== DMA_IN_PROGRESS) return status;
    // cpu_relax() in a loop: polled here at a step that grows with the wait (at most 1 ms), so
    // a long spin costs few polls while a short one ends as soon as the transfer does.
    spin_ns(Math.min(1e6, Math.max(1000, (M.clock.now - start) / 16)));
  }
}

/** dma_wait_for_async_tx(): wait for a descriptor's transfer (DMA_COMPLETE for null). */
export function dma_wait_for_async_tx(tx: dma_async_tx_descriptor | null): dma_status {
  if (!tx) return DMA_COMPLETE;
  return dma_sync_wait(tx.chan, tx.cookie);
}

