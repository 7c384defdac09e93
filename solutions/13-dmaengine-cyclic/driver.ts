// Exercise 13, reference solution: dsai, a driver for the sim's I2S-like serializer
// (sim/hw/i2s.ts) that plays and captures through one cyclic DMA descriptor per direction, as
// sound/core/pcm_dmaengine.c does for an ALSA driver: a coherent ring allocated for the
// controller, a callback per period, the hardware's position from the residue (the period count
// only where the channel reports none), the application kept behind (playback) or ahead
// (capture) of the hardware with -EPIPE when it is lapped, pause and resume in order with the
// serializer, stop with dmaengine_terminate_async() (atomic context) and close with
// dmaengine_synchronize() before the ring is freed. Compare pcm_dmaengine.c:
// dmaengine_pcm_prepare_and_submit(), snd_dmaengine_pcm_pointer(), snd_dmaengine_pcm_trigger(),
// snd_dmaengine_pcm_close().
import { devm_platform_ioremap_resource, platform_get_resource, platform_set_drvdata, platform_get_drvdata,
  IORESOURCE_MEM, type platform_device, type platform_driver } from '#linux/platform_device';
import { readl, writel, type iomem } from '#linux/io';
import { spin_lock_init, spin_lock_irqsave, spin_unlock_irqrestore, type spinlock_t } from '#linux/spinlock';
import { dma_alloc_coherent, dma_free_coherent, type dma_addr_t } from '#linux/dma-mapping';
import { dma_request_chan, dma_release_channel, dma_chan_name, dmaengine_slave_config, dma_get_slave_caps,
  dma_slave_caps_zero, dmaengine_prep_dma_cyclic, dmaengine_submit, dma_submit_error, dma_async_issue_pending,
  dmaengine_tx_status, dma_tx_state_zero, dmaengine_pause, dmaengine_resume, dmaengine_terminate_async,
  dmaengine_synchronize, DMA_MEM_TO_DEV, DMA_DEV_TO_MEM, DMA_PREP_INTERRUPT, DMA_CTRL_ACK, DMA_IN_PROGRESS,
  DMA_PAUSED, DMA_SLAVE_BUSWIDTH_4_BYTES, DMA_RESIDUE_GRANULARITY_DESCRIPTOR, type dma_chan,
  type dma_cookie_t } from '#linux/dmaengine';
import { copy_from_mem, copy_to_mem } from '#dmalab/mem';
import { out } from '#dmalab/ref';
import { IS_ERR, PTR_ERR } from '#linux/err';
import { dev_info, dev_err_probe } from '#linux/device';
import { GFP_KERNEL } from '#linux/gfp';
import { EINVAL, EIO, ENODEV, ENOMEM, ENOSYS, EPIPE, EPROBE_DEFER, EBUSY } from '#linux/errno';

// Registers (sim/hw/i2s.ts has the whole map).
const I2S_CTRL = 0x00, I2S_FIFOCTL = 0x08, I2S_INTMASK = 0x10, I2S_TXDATA = 0x40, I2S_RXDATA = 0x80;
const I2S_CTRL_EN = 1 << 0, I2S_CTRL_TXE = 1 << 1, I2S_CTRL_RXE = 1 << 2, I2S_CTRL_TXDMAE = 1 << 3,
  I2S_CTRL_RXDMAE = 1 << 4, I2S_CTRL_TXFLUSH = 1 << 6, I2S_CTRL_RXFLUSH = 1 << 7;
/** TXWM and RXWM: half the 16-frame FIFOs. A burst of that many frames fits both. */
const DSAI_WATERMARK = 8;
/** 16-bit stereo: one 4-byte frame, one FIFO word. */
export const DSAI_FRAME_BYTES = 4;
export const DSAI_BURST_BYTES = DSAI_WATERMARK * DSAI_FRAME_BYTES;
/** The writer stays this far behind the hardware's position a lap ahead (the burst in flight
 *  and the next one). */
export const DSAI_MARGIN = 2 * DSAI_BURST_BYTES;
export const DSAI_MAX_PERIODS = 64;
export const PCM_PLAYBACK = 0, PCM_CAPTURE = 1;

export interface pcm_stream {
  d: dsai;
  dir: number;
  chan: dma_chan | null;
  /** The ring: coherent, for the controller's device (pcm_open()). */
  area: number;
  dma: dma_addr_t;
  bytes: number;
  period: number;
  cookie: dma_cookie_t;
  /** Bytes the application has written (playback) or read (capture), since the start. */
  appl: number;
  /** The hardware's position: its offset into the ring when last seen, and bytes since start. */
  last_pos: number;
  hw: number;
  /** Period callbacks since the start. */
  periods: number;
  running: boolean;
  paused: boolean;
  /** Stopped with terminate_async and not synchronized since. */
  need_sync: boolean;
  can_pause: boolean;
  residue_ok: boolean;
  lock: spinlock_t;
}

export interface dsai {
  pdev: platform_device;
  regs: iomem;
  phys: number;
  streams: pcm_stream[];
}

// ---- the serializer ---------------------------------------------------------------------------

/** The direction's side of the serializer on: the frame clock, frames, requests. */
export function dsai_hw_start(s: pcm_stream): void {
  const d = s.d;
  const on = s.dir === PCM_PLAYBACK ? I2S_CTRL_TXE | I2S_CTRL_TXDMAE : I2S_CTRL_RXE | I2S_CTRL_RXDMAE;
  writel(readl(d.regs + I2S_CTRL) | I2S_CTRL_EN | on, d.regs + I2S_CTRL);
}

/** The direction's side off (the clock too when neither runs); `flush` empties its FIFO (a stop;
 *  a pause keeps what is in it). */
export function dsai_hw_stop(s: pcm_stream, flush: boolean): void {
  const d = s.d;
  const play = s.dir === PCM_PLAYBACK;
  let v = readl(d.regs + I2S_CTRL) & ~(play ? I2S_CTRL_TXE | I2S_CTRL_TXDMAE : I2S_CTRL_RXE | I2S_CTRL_RXDMAE);
  if (!(v & (I2S_CTRL_TXE | I2S_CTRL_RXE))) v &= ~I2S_CTRL_EN;
  writel(v | (flush ? (play ? I2S_CTRL_TXFLUSH : I2S_CTRL_RXFLUSH) : 0), d.regs + I2S_CTRL);
}

// ---- the ring ---------------------------------------------------------------------------------

/** The hardware's offset into the ring (lesson 13's ring_pointer()), and its count since the
 *  start brought up to date. Lock held. */
function pcm_update_hw(s: pcm_stream): number {
  let pos = s.last_pos;
  if (s.residue_ok) {
    const state = dma_tx_state_zero();
    const status = dmaengine_tx_status(s.chan!, s.cookie, state);
    if ((status === DMA_IN_PROGRESS || status === DMA_PAUSED) && state.residue > 0 && state.residue <= s.bytes)
      pos = s.bytes - state.residue;
  } else {
    // No residue: the period count, the best there is (and late by a callback's latency).
    pos = (s.periods * s.period) % s.bytes;
  }
  s.hw += (pos - s.last_pos + s.bytes) % s.bytes;
  s.last_pos = pos;
  return pos;
}

/** A period is done (the channel's tasklet): count it and bring the position up to date. */
function pcm_period_elapsed(s: pcm_stream): void {
  const flags = spin_lock_irqsave(s.lock);
  s.periods++;
  if (s.running) pcm_update_hw(s);
  spin_unlock_irqrestore(s.lock, flags);
}

/** Open the stream: a ring of buf_bytes in periods of period_bytes for the controller, the
 *  channel configured, its capabilities noted. Process context. */
export function pcm_open(s: pcm_stream, buf_bytes: number, period_bytes: number): number {
  const chan = s.chan;
  if (!chan) return -ENODEV;
  if (s.area) return -EBUSY;
  if (period_bytes <= 0 || period_bytes % DSAI_FRAME_BYTES || period_bytes % DSAI_BURST_BYTES || buf_bytes % period_bytes)
    return -EINVAL;
  const periods = buf_bytes / period_bytes;
  if (periods < 2 || periods > DSAI_MAX_PERIODS) return -EINVAL;
  const fifo = s.d.phys + (s.dir === PCM_PLAYBACK ? I2S_TXDATA : I2S_RXDATA);
  const ret = dmaengine_slave_config(chan, s.dir === PCM_PLAYBACK
    ? { dst_addr: fifo, dst_addr_width: DMA_SLAVE_BUSWIDTH_4_BYTES, dst_maxburst: DSAI_WATERMARK }
    : { src_addr: fifo, src_addr_width: DMA_SLAVE_BUSWIDTH_4_BYTES, src_maxburst: DSAI_WATERMARK });
  if (ret) return ret;
  const caps = dma_slave_caps_zero();
  if (dma_get_slave_caps(chan, caps)) return -EINVAL;
  // The ring is the controller's to read and write: allocate it for the controller's device.
  const h = out<dma_addr_t>(0);
  const area = dma_alloc_coherent(chan.device.dev!, buf_bytes, h, GFP_KERNEL);
  if (!area) return -ENOMEM;
  Object.assign(s, { area, dma: h.value, bytes: buf_bytes, period: period_bytes, appl: 0, last_pos: 0, hw: 0, periods: 0,
    running: false, paused: false, can_pause: caps.cmd_pause && caps.cmd_resume,
    residue_ok: caps.residue_granularity !== DMA_RESIDUE_GRANULARITY_DESCRIPTOR });
  return 0;
}

/** Start: the cyclic descriptor over the whole ring (lesson 13's ring_start()), then the
 *  serializer. Process context (the tests prefill the ring first). */
export function pcm_start(s: pcm_stream): number {
  const chan = s.chan;
  if (!chan || !s.area) return -ENODEV;
  if (s.running) return -EBUSY;
  // The last run was stopped asynchronously: it is over before the channel is issued again.
  if (s.need_sync) {
    dmaengine_synchronize(chan);
    s.need_sync = false;
  }
  const dir = s.dir === PCM_PLAYBACK ? DMA_MEM_TO_DEV : DMA_DEV_TO_MEM;
  const desc = dmaengine_prep_dma_cyclic(chan, s.dma, s.bytes, s.period, dir, DMA_PREP_INTERRUPT | DMA_CTRL_ACK);
  if (!desc) return -ENOMEM;
  desc.callback = pcm_period_elapsed;
  desc.callback_param = s;
  const cookie = dmaengine_submit(desc);
  if (dma_submit_error(cookie)) return -EIO;
  const flags = spin_lock_irqsave(s.lock);
  Object.assign(s, { cookie, last_pos: 0, hw: 0, periods: 0, running: true, paused: false });
  if (s.dir === PCM_CAPTURE) s.appl = 0;
  spin_unlock_irqrestore(s.lock, flags);
  dma_async_issue_pending(chan);
  dsai_hw_start(s);
  return 0;
}

/** The hardware's offset into the ring, in bytes. */
export function pcm_pointer(s: pcm_stream): number {
  const flags = spin_lock_irqsave(s.lock);
  const pos = s.running ? pcm_update_hw(s) : s.last_pos;
  spin_unlock_irqrestore(s.lock, flags);
  return pos;
}

/** Copy the caller's bytes into the playback ring at appl, as far as the hardware has played
 *  less the margin. Bytes written (whole frames), or -EPIPE once the hardware has passed appl. */
export function pcm_write(s: pcm_stream, data: Uint8Array): number {
  if (!s.area) return -ENODEV;
  const flags = spin_lock_irqsave(s.lock);
  if (s.running) pcm_update_hw(s);
  if (s.running && s.hw > s.appl) {
    spin_unlock_irqrestore(s.lock, flags);
    return -EPIPE;
  }
  let n = Math.min(data.length, s.hw + s.bytes - DSAI_MARGIN - s.appl);
  n -= n % DSAI_FRAME_BYTES;
  for (let done = 0; done < n;) {
    const at = (s.appl + done) % s.bytes, run = Math.min(n - done, s.bytes - at);
    copy_to_mem(s.area + at, data.subarray(done, done + run));
    done += run;
  }
  if (n > 0) s.appl += n;
  spin_unlock_irqrestore(s.lock, flags);
  return Math.max(n, 0);
}

/** Copy up to len bytes the hardware has captured out of the ring at appl; -EPIPE once the
 *  hardware has lapped it. */
export function pcm_read(s: pcm_stream, len: number): Uint8Array | number {
  if (!s.area) return -ENODEV;
  const flags = spin_lock_irqsave(s.lock);
  if (s.running) pcm_update_hw(s);
  if (s.hw - s.appl > s.bytes) {
    spin_unlock_irqrestore(s.lock, flags);
    return -EPIPE;
  }
  let n = Math.min(len, s.hw - s.appl);
  n -= n % DSAI_FRAME_BYTES;
  const got = new Uint8Array(n);
  for (let done = 0; done < n;) {
    const at = (s.appl + done) % s.bytes, run = Math.min(n - done, s.bytes - at);
    got.set(copy_from_mem(s.area + at, run), done);
    done += run;
  }
  s.appl += n;
  spin_unlock_irqrestore(s.lock, flags);
  return got;
}

/** Pause (on) or resume the stream: the serializer and the channel, in that order each way. */
export function pcm_pause(s: pcm_stream, on: boolean): number {
  if (!s.chan || !s.running) return -EINVAL;
  if (!s.can_pause) return -ENOSYS;
  if (on) {
    if (s.paused) return 0;
    // No more frames taken, so none is lost, then the channel takes no more bursts.
    dsai_hw_stop(s, false);
    const ret = dmaengine_pause(s.chan);
    if (ret) {
      dsai_hw_start(s);
      return ret;
    }
    s.paused = true;
  } else {
    if (!s.paused) return 0;
    const ret = dmaengine_resume(s.chan);
    if (ret) return ret;
    s.paused = false;
    dsai_hw_start(s);
  }
  return 0;
}

/** Stop the stream; callable in atomic context (the tests call it with s.lock held). */
export function pcm_stop(s: pcm_stream): void {
  if (!s.chan || !s.running) return;
  dsai_hw_stop(s, true);
  dmaengine_terminate_async(s.chan);
  s.running = s.paused = false;
  s.need_sync = true;
  // A stopped stream starts over: the next start plays (or fills) the ring from its beginning.
  s.appl = s.hw = s.last_pos = 0;
}

/** Close: stopped (if it was not), synchronized, then the ring freed. Process context. */
export function pcm_close(s: pcm_stream): void {
  if (!s.chan || !s.area) return;
  const flags = spin_lock_irqsave(s.lock);
  pcm_stop(s);
  spin_unlock_irqrestore(s.lock, flags);
  // No callback runs, and the channel touches nothing, after this.
  dmaengine_synchronize(s.chan);
  s.need_sync = false;
  dma_free_coherent(s.chan.device.dev!, s.bytes, s.area, s.dma);
  s.area = 0;
}

// ---- probe and remove ---------------------------------------------------------------------------

/** The direction's channel by name (lesson 12's way): -EPROBE_DEFER goes back, no channel leaves
 *  the direction unavailable. */
function dsai_stream_init(d: dsai, dir: number): number {
  const dev = d.pdev.dev;
  const name = dir === PCM_PLAYBACK ? 'tx' : 'rx';
  const s: pcm_stream = { d, dir, chan: null, area: 0, dma: 0, bytes: 0, period: 0, cookie: 0, appl: 0, last_pos: 0,
    hw: 0, periods: 0, running: false, paused: false, need_sync: false, can_pause: false, residue_ok: false,
    lock: {} as spinlock_t };
  spin_lock_init(s.lock);
  d.streams[dir] = s;
  const chan = dma_request_chan(dev, name);
  if (IS_ERR(chan)) {
    if (PTR_ERR(chan) === -EPROBE_DEFER) return -EPROBE_DEFER;
    dev_info(dev, 'no %s channel: %s unavailable\n', name, dir === PCM_PLAYBACK ? 'playback' : 'capture');
    return 0;
  }
  s.chan = chan;
  dev_info(dev, '%s: %s\n', dir === PCM_PLAYBACK ? 'playback' : 'capture', dma_chan_name(chan));
  return 0;
}

function dsai_release(d: dsai): void {
  for (const s of d.streams) {
    if (!s?.chan) continue;
    pcm_close(s);
    dma_release_channel(s.chan);
    s.chan = null;
  }
}

function dsai_probe(pdev: platform_device): number {
  const regs = devm_platform_ioremap_resource(pdev, 0);
  if (IS_ERR(regs)) return PTR_ERR(regs);
  const d: dsai = { pdev, regs, phys: platform_get_resource(pdev, IORESOURCE_MEM, 0)!.start, streams: [] };
  writel(0, regs + I2S_CTRL);
  writel(0, regs + I2S_INTMASK);
  writel(DSAI_WATERMARK | DSAI_WATERMARK << 8, regs + I2S_FIFOCTL);
  let ret = dsai_stream_init(d, PCM_PLAYBACK);
  if (!ret) ret = dsai_stream_init(d, PCM_CAPTURE);
  if (ret) {
    dsai_release(d);
    return dev_err_probe(pdev.dev, ret, 'DMA channels\n');
  }
  platform_set_drvdata(pdev, d);
  return 0;
}

function dsai_remove(pdev: platform_device): number {
  const d = platform_get_drvdata<dsai>(pdev);
  // Every stream stopped and synchronized before its ring goes, then the channels.
  dsai_release(d);
  writel(0, d.regs + I2S_CTRL);
  return 0;
}

export const dsai_driver: platform_driver = {
  probe: dsai_probe,
  remove: dsai_remove,
  driver: { name: 'dsai', of_match_table: [{ compatible: 'dmalab,i2s' }] },
};
