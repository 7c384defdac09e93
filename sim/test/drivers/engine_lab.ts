// A dmaengine client for the engine checker's tests (sim/test/dmaengine/rules/): each step a
// driver takes is its own function, so a test composes a buggy sequence and the correct one,
// and every site a report names is a line here (elab_*). Memcpy mode borrows any DMA_MEMCPY
// channel (a "dmalab,engine-lab" node); slave mode binds the UART and asks for "rx"/"tx".
import { platform_set_drvdata, platform_get_drvdata, platform_get_resource, IORESOURCE_MEM,
  type platform_device, type platform_driver } from '#linux/platform_device';
import { dma_map_single, dma_unmap_single, dma_alloc_coherent, dma_free_coherent, dma_mapping_error,
  type dma_addr_t } from '#linux/dma-mapping';
import { dma_cap_mask, dma_cap_set, dma_request_chan, dma_request_chan_by_mask, dma_release_channel,
  dmaengine_prep_dma_memcpy, dmaengine_prep_slave_single, dmaengine_prep_dma_cyclic, dmaengine_submit, dma_submit_error,
  dma_async_issue_pending, dmaengine_terminate_sync, dmaengine_terminate_async, dmaengine_synchronize, dmaengine_pause,
  dmaengine_resume, dmaengine_slave_config, dmaengine_desc_set_reuse, dmaengine_desc_free, dmaengine_tx_status, dma_tx_state_zero, DMA_MEMCPY, DMA_PREP_INTERRUPT,
  DMA_CTRL_ACK, DMA_SLAVE_BUSWIDTH_1_BYTE, type dma_chan, type dma_async_tx_descriptor, type dma_slave_config,
  type dma_tx_state } from '#linux/dmaengine';
import { DECLARE_COMPLETION, reinit_completion, complete, wait_for_completion_timeout, type completion } from '#linux/completion';
import { msecs_to_jiffies } from '#linux/jiffies';
import { kmalloc, kfree, GFP_KERNEL, GFP_ATOMIC } from '#linux/slab';
import { spin_lock_irqsave, spin_unlock_irqrestore, DEFINE_SPINLOCK } from '#linux/spinlock';
import { put_u32 } from '#dmalab/mem';
import { out } from '#dmalab/ref';
import { IS_ERR, PTR_ERR } from '#linux/err';
import { EPROBE_DEFER, ENODEV } from '#linux/errno';
import type { device } from '#linux/device';

export const FLAGS = DMA_PREP_INTERRUPT | DMA_CTRL_ACK;
export const UART_DR = 0x000;

export interface ElabCfg {
  mode: 'memcpy' | 'slave';
  /** Probe: -EPROBE_DEFER turned into success without a channel, or into -ENODEV. */
  on_defer: 'return' | 'swallow' | 'enodev';
  /** Remove (and probe's error path) forgets dma_release_channel(). */
  leak: boolean;
}

export interface elab {
  pdev: platform_device;
  dev: device;
  chan: dma_chan | null;
  tx: dma_chan | null;
  fifo: number;
  done: completion;
  calls: number;
}

export function elab_driver(cfg: Partial<ElabCfg> = {}): platform_driver {
  const c: ElabCfg = { mode: 'memcpy', on_defer: 'return', leak: false, ...cfg };
  return {
    probe: (pdev) => elab_probe(pdev, c),
    remove: (pdev) => elab_remove(pdev, c),
    driver: { name: 'engine-lab', of_match_table: [{ compatible: c.mode === 'slave' ? 'dmalab,uart' : 'dmalab,engine-lab' }] },
  };
}

function elab_request(pdev: platform_device, c: ElabCfg, name: string): dma_chan {
  if (c.mode === 'slave') return dma_request_chan(pdev.dev, name);
  const mask = dma_cap_mask();
  dma_cap_set(DMA_MEMCPY, mask);
  return dma_request_chan_by_mask(mask);
}

function elab_probe(pdev: platform_device, c: ElabCfg): number {
  const l: elab = { pdev, dev: pdev.dev, chan: null, tx: null, fifo: 0, done: DECLARE_COMPLETION(), calls: 0 };
  const chan = elab_request(pdev, c, 'rx');
  if (IS_ERR(chan)) {
    if (PTR_ERR(chan) !== -EPROBE_DEFER || c.on_defer === 'return') return PTR_ERR(chan);
    if (c.on_defer === 'enodev') return -ENODEV;
    platform_set_drvdata(pdev, l);
    return 0;
  }
  l.chan = chan;
  if (c.mode === 'slave') {
    l.fifo = platform_get_resource(pdev, IORESOURCE_MEM, 0)!.start + UART_DR;
    const tx = dma_request_chan(pdev.dev, 'tx');
    if (IS_ERR(tx)) {
      if (!c.leak) dma_release_channel(chan);
      return PTR_ERR(tx);
    }
    l.tx = tx;
  }
  platform_set_drvdata(pdev, l);
  return 0;
}

function elab_remove(pdev: platform_device, c: ElabCfg): number {
  const l = platform_get_drvdata<elab>(pdev);
  if (c.leak) return 0;
  if (l.tx) dma_release_channel(l.tx);
  if (l.chan) dma_release_channel(l.chan);
  return 0;
}

// ---- memory ----------------------------------------------------------------------------------

export function elab_alloc(len: number): number {
  return kmalloc(len, GFP_KERNEL);
}
export function elab_kfree(p: number): void {
  kfree(p);
}
export function elab_map(dev: device, buf: number, len: number, dir: number): dma_addr_t {
  const h = dma_map_single(dev, buf, len, dir);
  if (dma_mapping_error(dev, h)) return 0;
  return h;
}
export function elab_unmap(dev: device, h: dma_addr_t, len: number, dir: number): void {
  dma_unmap_single(dev, h, len, dir);
}
export function elab_alloc_coherent(dev: device, len: number): { cpu: number; dma: number } {
  const dma = out(0);
  const cpu = dma_alloc_coherent(dev, len, dma, GFP_KERNEL);
  return { cpu, dma: dma.value };
}
export function elab_free_coherent(dev: device, len: number, c: { cpu: number; dma: number }): void {
  dma_free_coherent(dev, len, c.cpu, c.dma);
}

// ---- the engine ------------------------------------------------------------------------------

export function elab_config(chan: dma_chan, cfg: dma_slave_config): number {
  return dmaengine_slave_config(chan, cfg);
}
/** The UART's FIFO, one byte wide, at the burst the UART's trigger level gives. */
export function elab_config_uart(l: elab, chan: dma_chan, to_dev: boolean, width = DMA_SLAVE_BUSWIDTH_1_BYTE): number {
  return to_dev ? dmaengine_slave_config(chan, { dst_addr: l.fifo, dst_addr_width: width, dst_maxburst: 1 })
    : dmaengine_slave_config(chan, { src_addr: l.fifo, src_addr_width: width, src_maxburst: 1 });
}
export function elab_prep_memcpy(l: elab, d: dma_addr_t, s: dma_addr_t, len: number): dma_async_tx_descriptor | null {
  return dmaengine_prep_dma_memcpy(l.chan!, d, s, len, FLAGS);
}
export function elab_prep_slave(chan: dma_chan, buf: dma_addr_t, len: number, dir: number): dma_async_tx_descriptor | null {
  return dmaengine_prep_slave_single(chan, buf, len, dir, FLAGS);
}
export function elab_prep_cyclic(chan: dma_chan, buf: dma_addr_t, len: number, period: number, dir: number): dma_async_tx_descriptor | null {
  return dmaengine_prep_dma_cyclic(chan, buf, len, period, dir, FLAGS);
}

/** The callback completes l.done; with `state` (a kmalloc'ed struct) it writes a flag there. */
export function elab_set_callback(l: elab, tx: dma_async_tx_descriptor, state = 0, inside?: () => void): void {
  tx.callback = (p: number) => {
    l.calls++;
    if (p) put_u32(1, p);
    inside?.();
    complete(l.done);
  };
  tx.callback_param = state;
}
/** Uses the prep's result without looking (a NULL prep is an oops here). */
export function elab_set_callback_unchecked(l: elab, tx: dma_async_tx_descriptor | null): void {
  tx!.callback = () => complete(l.done);
}
export function elab_submit(l: elab, tx: dma_async_tx_descriptor): number {
  reinit_completion(l.done);
  return dmaengine_submit(tx);
}
export function elab_submit_checked(l: elab, tx: dma_async_tx_descriptor): number {
  reinit_completion(l.done);
  const cookie = dmaengine_submit(tx);
  // The error is the caller's to act on: it returns before issuing.
  if (dma_submit_error(cookie)) return cookie;
  return cookie;
}
export function elab_set_reuse(tx: dma_async_tx_descriptor): number {
  return dmaengine_desc_set_reuse(tx);
}
export function elab_desc_free(tx: dma_async_tx_descriptor): number {
  return dmaengine_desc_free(tx);
}
export function elab_issue(chan: dma_chan): void {
  dma_async_issue_pending(chan);
}
/** Wait for the callback: jiffies left, 0 on timeout. */
export function elab_wait(l: elab, ms = 100): number {
  return wait_for_completion_timeout(l.done, msecs_to_jiffies(ms));
}
export function elab_status(chan: dma_chan, cookie: number, st: dma_tx_state | null = dma_tx_state_zero()): number {
  return dmaengine_tx_status(chan, cookie, st);
}
export function elab_terminate_sync(chan: dma_chan): number {
  return dmaengine_terminate_sync(chan);
}
export function elab_terminate_async(chan: dma_chan): number {
  return dmaengine_terminate_async(chan);
}
export function elab_synchronize(chan: dma_chan): void {
  dmaengine_synchronize(chan);
}
export function elab_pause(chan: dma_chan): number {
  return dmaengine_pause(chan);
}
export function elab_resume(chan: dma_chan): number {
  return dmaengine_resume(chan);
}

const lock = DEFINE_SPINLOCK('elab');
/** Run `fn` with a spinlock held, interrupts off (an atomic section). */
export function elab_locked(fn: () => void): void {
  const flags = spin_lock_irqsave(lock);
  try {
    fn();
  } finally {
    spin_unlock_irqrestore(lock, flags);
  }
}
export { GFP_ATOMIC };
