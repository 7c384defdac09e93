// An audio ring driver for sim/hw/i2s.ts, the shape of exercise 13: what
// sound/core/pcm_dmaengine.c does for an ALSA driver (one cyclic descriptor over the whole
// ring, a callback per period, the position from the residue, pause and resume when the
// controller can, terminate in the trigger and synchronize at close) and what the CPU DAI
// does (the serializer's clock and enables), without ALSA itself: an application writes
// frames into the playback ring or reads them from the capture ring through dpcm_write() and
// dpcm_read(), and an underrun or overrun of the ring stops the stream as ALSA's XRUN does.
//
// Device tree: compatible = "dmalab,i2s"; reg; interrupts; dmas + dma-names "tx", "rx".
import { devm_platform_ioremap_resource, platform_get_resource, platform_get_irq, platform_set_drvdata,
  platform_get_drvdata, IORESOURCE_MEM, type platform_device, type platform_driver } from '#linux/platform_device';
import { readl, writel, type iomem } from '#linux/io';
import { devm_request_irq, IRQ_HANDLED, IRQ_NONE } from '#linux/interrupt';
import { spin_lock_init, spin_lock_irqsave, spin_unlock_irqrestore, type spinlock_t } from '#linux/spinlock';
import { dma_alloc_coherent, dma_free_coherent, type dma_addr_t } from '#linux/dma-mapping';
import { dma_request_chan, dma_release_channel, dma_chan_name, dmaengine_slave_config, dma_get_slave_caps,
  dma_slave_caps_zero, dmaengine_prep_dma_cyclic, dmaengine_submit, dma_submit_error, dma_async_issue_pending,
  dmaengine_tx_status, dma_tx_state_zero, dmaengine_pause, dmaengine_resume, dmaengine_terminate_async,
  dmaengine_synchronize, DMA_MEM_TO_DEV, DMA_DEV_TO_MEM, DMA_PREP_INTERRUPT, DMA_CTRL_ACK, DMA_IN_PROGRESS,
  DMA_PAUSED, DMA_SLAVE_BUSWIDTH_4_BYTES, type dma_chan, type dma_cookie_t } from '#linux/dmaengine';
import { copy_from_mem, copy_to_mem } from '#dmalab/mem';
import { out } from '#dmalab/ref';
import { IS_ERR, PTR_ERR } from '#linux/err';
import { dev_info, dev_err_probe } from '#linux/device';
import { GFP_KERNEL } from '#linux/gfp';
import { EINVAL, EIO, ENODEV, ENOMEM, ENOSYS, EPROBE_DEFER } from '#linux/errno';
/** File descriptor in bad state (asm-generic/errno.h): ALSA's answer to a trigger in the wrong state. */
const EBADFD = 77;

// Registers (sim/hw/i2s.ts has the whole map).
const I2S_CTRL = 0x00, I2S_FIFOCTL = 0x08, I2S_INTMASK = 0x10, I2S_INTSTAT = 0x14, I2S_TXDATA = 0x40, I2S_RXDATA = 0x80;
const CTRL_EN = 1 << 0, CTRL_TXE = 1 << 1, CTRL_RXE = 1 << 2, CTRL_TXDMAE = 1 << 3, CTRL_RXDMAE = 1 << 4,
  CTRL_TXFLUSH = 1 << 6, CTRL_RXFLUSH = 1 << 7;
const INT_TXUR = 1 << 2, INT_RXOR = 1 << 3;
/** TXWM and RXWM, and the controller's burst: half the 16-frame FIFOs. */
const WATERMARK = 8;

export const SNDRV_PCM_STREAM_PLAYBACK = 0, SNDRV_PCM_STREAM_CAPTURE = 1;
export const SNDRV_PCM_TRIGGER_STOP = 0, SNDRV_PCM_TRIGGER_START = 1, SNDRV_PCM_TRIGGER_PAUSE_PUSH = 3,
  SNDRV_PCM_TRIGGER_PAUSE_RELEASE = 4;
export type dpcm_state = 'setup' | 'running' | 'paused' | 'xrun';
/** 16-bit stereo: 4 bytes a frame, one FIFO word. */
const FRAME_BYTES = 4;
export const DPCM_BUFFER_BYTES_MAX = 16384;

export interface dpcm_stream {
  d: dpcm;
  dir: number;
  chan: dma_chan | null;
  /** The ring: coherent, allocated for the controller's device at probe. */
  cpu: number;
  dma: dma_addr_t;
  buffer_bytes: number;
  period_bytes: number;
  cookie: dma_cookie_t;
  state: dpcm_state;
  /** pcm_dmaengine's prtd->pos: where the period callbacks say the DMA is (bytes). */
  pos: number;
  periods_elapsed: number;
  /** Frames the hardware has taken (playback) or given (capture), and the application's count;
   *  hw_base is hw_ptr at the start of the ring's current lap. */
  hw_ptr: number;
  hw_base: number;
  appl_ptr: number;
  xruns: number;
}

export interface dpcm {
  pdev: platform_device;
  base: iomem;
  phys: number;
  lock: spinlock_t;
  /** What the controller can do: pause and resume (SNDRV_PCM_INFO_PAUSE). */
  can_pause: boolean;
  streams: dpcm_stream[];
  /** The serializer's own underrun and overrun interrupts. */
  hw_xruns: number;
}

function bytes_to_frames(n: number): number {
  return n / FRAME_BYTES;
}

// ---- the DAI: the serializer -------------------------------------------------------------------

function dpcm_dai_start(s: dpcm_stream): void {
  const d = s.d;
  const on = s.dir === SNDRV_PCM_STREAM_PLAYBACK ? CTRL_TXE | CTRL_TXDMAE : CTRL_RXE | CTRL_RXDMAE;
  writel(readl(d.base + I2S_CTRL) | CTRL_EN | on, d.base + I2S_CTRL);
}

/** Stop the serializer's side of the stream. With `flush` its FIFO is emptied as well (STOP; a
 *  pause keeps what is in it). */
function dpcm_dai_stop(s: dpcm_stream, flush: boolean): void {
  const d = s.d;
  const play = s.dir === SNDRV_PCM_STREAM_PLAYBACK;
  let v = readl(d.base + I2S_CTRL) & ~(play ? CTRL_TXE : CTRL_RXE);
  if (flush) v &= ~(play ? CTRL_TXDMAE : CTRL_RXDMAE);
  // The clock runs while either direction does.
  if (!(v & (CTRL_TXE | CTRL_RXE))) v &= ~CTRL_EN;
  writel(v | (flush ? (play ? CTRL_TXFLUSH : CTRL_RXFLUSH) : 0), d.base + I2S_CTRL);
}

function dpcm_irq(_irq: number, d: dpcm): number {
  const st = readl(d.base + I2S_INTSTAT) & (INT_TXUR | INT_RXOR);
  if (!st) return IRQ_NONE;
  writel(st, d.base + I2S_INTSTAT);
  d.hw_xruns++;
  return IRQ_HANDLED;
}

// ---- the ring ------------------------------------------------------------------------------------

/** snd_pcm_update_hw_ptr(): the hardware position in frames since START, from the pointer. */
function dpcm_update_hw_ptr(s: dpcm_stream): void {
  const pos = dpcm_pointer_locked(s);
  const frames = bytes_to_frames(s.buffer_bytes);
  let hw = s.hw_base + pos;
  if (hw < s.hw_ptr) {
    s.hw_base += frames;
    hw += frames;
  }
  s.hw_ptr = hw;
}

/** The ring has run dry (playback) or over (capture): stop, as ALSA's XRUN. Lock held. */
function dpcm_check_xrun(s: dpcm_stream): void {
  const frames = bytes_to_frames(s.buffer_bytes);
  const over = s.dir === SNDRV_PCM_STREAM_PLAYBACK ? s.hw_ptr >= s.appl_ptr : s.hw_ptr - s.appl_ptr >= frames;
  if (!over || s.state !== 'running') return;
  s.xruns++;
  dpcm_stop_locked(s);
  s.state = 'xrun';
}

/** The period callback (dmaengine_pcm_dma_complete()): runs in the channel's tasklet. */
function dpcm_dma_complete(s: dpcm_stream): void {
  const flags = spin_lock_irqsave(s.d.lock);
  s.pos += s.period_bytes;
  if (s.pos >= s.buffer_bytes) s.pos = 0;
  s.periods_elapsed++;
  // snd_pcm_period_elapsed(): where the hardware really is, and whether the ring ran out.
  if (s.state === 'running') {
    dpcm_update_hw_ptr(s);
    dpcm_check_xrun(s);
  }
  spin_unlock_irqrestore(s.d.lock, flags);
}

/** snd_dmaengine_pcm_pointer(): the position in the ring (frames), from the residue when the
 *  controller gives one, from the period callbacks otherwise. Lock held. */
function dpcm_pointer_locked(s: dpcm_stream): number {
  let pos = 0;
  const state = dma_tx_state_zero();
  const status = dmaengine_tx_status(s.chan!, s.cookie, state);
  if ((status === DMA_IN_PROGRESS || status === DMA_PAUSED) && state.residue > 0 && state.residue <= s.buffer_bytes) {
    pos = s.buffer_bytes - state.residue;
  } else {
    pos = s.pos;
  }
  return bytes_to_frames(pos);
}

export function dpcm_pointer(s: dpcm_stream): number {
  const flags = spin_lock_irqsave(s.d.lock);
  const pos = dpcm_pointer_locked(s);
  spin_unlock_irqrestore(s.d.lock, flags);
  return pos;
}

/** dmaengine_pcm_prepare_and_submit(): one cyclic descriptor over the ring. Lock held. */
function dpcm_prepare_and_submit(s: dpcm_stream): number {
  const chan = s.chan!;
  const dir = s.dir === SNDRV_PCM_STREAM_PLAYBACK ? DMA_MEM_TO_DEV : DMA_DEV_TO_MEM;
  const desc = dmaengine_prep_dma_cyclic(chan, s.dma, s.buffer_bytes, s.period_bytes, dir, DMA_CTRL_ACK | DMA_PREP_INTERRUPT);
  if (!desc) return -ENOMEM;
  desc.callback = dpcm_dma_complete;
  desc.callback_param = s;
  s.cookie = dmaengine_submit(desc);
  return dma_submit_error(s.cookie) ? -EIO : 0;
}

function dpcm_stop_locked(s: dpcm_stream): void {
  dpcm_dai_stop(s, true);
  // Atomic context: the async form; dpcm_close() synchronizes before anything is freed.
  dmaengine_terminate_async(s.chan!);
}

/** snd_pcm_hw_params() + prepare: the ring's geometry (bytes), at most the buffer allocated.
 *  Process context. */
export function dpcm_prepare(s: dpcm_stream, period_bytes: number, periods: number): number {
  if (!s.chan) return -ENODEV;
  if (s.state === 'running' || s.state === 'paused') return -EBADFD;
  if (period_bytes % (FRAME_BYTES * WATERMARK) || periods < 2 || period_bytes * periods > DPCM_BUFFER_BYTES_MAX) return -EINVAL;
  // snd_pcm_sync_stop() (snd_dmaengine_pcm_sync_stop()): a STOP or an XRUN terminated the last
  // run asynchronously; it is over before the ring is reused and the channel issued again.
  dmaengine_synchronize(s.chan);
  s.period_bytes = period_bytes;
  s.buffer_bytes = period_bytes * periods;
  s.pos = 0;
  s.periods_elapsed = 0;
  s.hw_ptr = s.hw_base = s.appl_ptr = 0;
  s.state = 'setup';
  return 0;
}

/** snd_dmaengine_pcm_trigger(), with the DAI's part in the order a card runs them: on START the
 *  DMA first (the FIFO fills before the first frame clock), on STOP and PAUSE the DAI first. */
export function dpcm_trigger(s: dpcm_stream, cmd: number): number {
  const d = s.d;
  if (!s.chan) return -ENODEV;
  const flags = spin_lock_irqsave(d.lock);
  let ret = 0;
  switch (cmd) {
    case SNDRV_PCM_TRIGGER_START:
      if (s.state !== 'setup') { ret = -EBADFD; break; }
      ret = dpcm_prepare_and_submit(s);
      if (ret) break;
      dma_async_issue_pending(s.chan);
      s.state = 'running';
      dpcm_dai_start(s);
      break;
    case SNDRV_PCM_TRIGGER_PAUSE_PUSH:
      // Without SNDRV_PCM_INFO_PAUSE the ALSA core refuses the pause before any driver runs.
      if (!d.can_pause) { ret = -ENOSYS; break; }
      if (s.state !== 'running') { ret = -EBADFD; break; }
      dpcm_dai_stop(s, false);
      dmaengine_pause(s.chan);
      s.state = 'paused';
      break;
    case SNDRV_PCM_TRIGGER_PAUSE_RELEASE:
      if (!d.can_pause) { ret = -ENOSYS; break; }
      if (s.state !== 'paused') { ret = -EBADFD; break; }
      dmaengine_resume(s.chan);
      dpcm_dai_start(s);
      s.state = 'running';
      break;
    case SNDRV_PCM_TRIGGER_STOP:
      if (s.state === 'running' || s.state === 'paused') dpcm_stop_locked(s);
      s.state = 'setup';
      break;
    default:
      ret = -EINVAL;
  }
  spin_unlock_irqrestore(d.lock, flags);
  return ret;
}

/** The application writes frames into the playback ring (as much as there is room for, and
 *  never over what the hardware has not played yet): the count written. */
export function dpcm_write(s: dpcm_stream, frames: ArrayLike<number>): number {
  const flags = spin_lock_irqsave(s.d.lock);
  if (s.state === 'running') dpcm_update_hw_ptr(s);
  const size = bytes_to_frames(s.buffer_bytes);
  const n = Math.min(frames.length, s.hw_ptr + size - s.appl_ptr);
  const bytes = new Uint8Array(n * FRAME_BYTES);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) dv.setUint32(i * FRAME_BYTES, frames[i]! >>> 0, true);
  for (let done = 0; done < n;) {
    const at = (s.appl_ptr + done) % size, run = Math.min(n - done, size - at);
    copy_to_mem(s.cpu + at * FRAME_BYTES, bytes.subarray(done * FRAME_BYTES, (done + run) * FRAME_BYTES));
    done += run;
  }
  s.appl_ptr += n;
  spin_unlock_irqrestore(s.d.lock, flags);
  return n;
}

/** The application reads what the capture ring holds (up to `max` frames). */
export function dpcm_read(s: dpcm_stream, max: number): number[] {
  const flags = spin_lock_irqsave(s.d.lock);
  if (s.state === 'running') dpcm_update_hw_ptr(s);
  const size = bytes_to_frames(s.buffer_bytes);
  const n = Math.min(max, s.hw_ptr - s.appl_ptr);
  const got: number[] = [];
  for (let done = 0; done < n;) {
    const at = (s.appl_ptr + done) % size, run = Math.min(n - done, size - at);
    const b = copy_from_mem(s.cpu + at * FRAME_BYTES, run * FRAME_BYTES);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < run; i++) got.push(dv.getUint32(i * FRAME_BYTES, true));
    done += run;
  }
  s.appl_ptr += n;
  spin_unlock_irqrestore(s.d.lock, flags);
  return got;
}

/** snd_dmaengine_pcm_close(): stopped, then synchronized, so no callback runs on what the
 *  caller frees next. Process context. */
export function dpcm_close(s: dpcm_stream): void {
  if (!s.chan) return;
  dpcm_trigger(s, SNDRV_PCM_TRIGGER_STOP);
  dmaengine_synchronize(s.chan);
}

// ---- probe and remove ----------------------------------------------------------------------------

function dpcm_stream_init(d: dpcm, dir: number): number {
  const dev = d.pdev.dev;
  const s: dpcm_stream = { d, dir, chan: null, cpu: 0, dma: 0, buffer_bytes: 0, period_bytes: 0, cookie: 0, state: 'setup',
    pos: 0, periods_elapsed: 0, hw_ptr: 0, hw_base: 0, appl_ptr: 0, xruns: 0 };
  d.streams[dir] = s;
  const play = dir === SNDRV_PCM_STREAM_PLAYBACK;
  const chan = dma_request_chan(dev, play ? 'tx' : 'rx');
  if (IS_ERR(chan)) {
    if (PTR_ERR(chan) === -EPROBE_DEFER) return -EPROBE_DEFER;
    dev_info(dev, 'no %s channel: %s unavailable\n', play ? 'tx' : 'rx', play ? 'playback' : 'capture');
    return 0;
  }
  const fifo = d.phys + (play ? I2S_TXDATA : I2S_RXDATA);
  // Bursts of WATERMARK frames: the room above TXWM, what RXWM guarantees.
  const ret = dmaengine_slave_config(chan, play
    ? { dst_addr: fifo, dst_addr_width: DMA_SLAVE_BUSWIDTH_4_BYTES, dst_maxburst: WATERMARK }
    : { src_addr: fifo, src_addr_width: DMA_SLAVE_BUSWIDTH_4_BYTES, src_maxburst: WATERMARK });
  if (ret) {
    dma_release_channel(chan);
    return ret;
  }
  const h = out(0);
  s.cpu = dma_alloc_coherent(chan.device.dev!, DPCM_BUFFER_BYTES_MAX, h, GFP_KERNEL);
  if (!s.cpu) {
    dma_release_channel(chan);
    return -ENOMEM;
  }
  s.dma = h.value;
  s.chan = chan;
  dev_info(dev, '%s: %s\n', play ? 'playback' : 'capture', dma_chan_name(chan));
  return 0;
}

function dpcm_stream_free(s: dpcm_stream | undefined): void {
  if (!s?.chan) return;
  dpcm_close(s);
  dma_free_coherent(s.chan.device.dev!, DPCM_BUFFER_BYTES_MAX, s.cpu, s.dma);
  dma_release_channel(s.chan);
  s.chan = null;
}

function dpcm_probe(pdev: platform_device): number {
  const base = devm_platform_ioremap_resource(pdev, 0);
  if (IS_ERR(base)) return PTR_ERR(base);
  const irq = platform_get_irq(pdev, 0);
  if (irq < 0) return irq;
  const d: dpcm = { pdev, base, phys: platform_get_resource(pdev, IORESOURCE_MEM, 0)!.start, lock: {} as spinlock_t,
    can_pause: false, streams: [], hw_xruns: 0 };
  spin_lock_init(d.lock);
  writel(0, base + I2S_CTRL);
  writel(WATERMARK | WATERMARK << 8, base + I2S_FIFOCTL);

  let ret = dpcm_stream_init(d, SNDRV_PCM_STREAM_PLAYBACK);
  if (!ret) ret = dpcm_stream_init(d, SNDRV_PCM_STREAM_CAPTURE);
  if (ret) {
    d.streams.forEach(dpcm_stream_free);
    return dev_err_probe(pdev.dev, ret, 'DMA channels\n');
  }
  // snd_dmaengine_pcm_refine_runtime_hwparams(): pause only if the channel can both pause and
  // resume.
  const any = d.streams.find((s) => s.chan)?.chan;
  const caps = dma_slave_caps_zero();
  if (any && dma_get_slave_caps(any, caps) === 0) d.can_pause = caps.cmd_pause && caps.cmd_resume;

  ret = devm_request_irq(pdev.dev, irq, dpcm_irq, 0, 'dpcm', d);
  if (ret) {
    d.streams.forEach(dpcm_stream_free);
    return ret;
  }
  writel(INT_TXUR | INT_RXOR, base + I2S_INTMASK);
  platform_set_drvdata(pdev, d);
  return 0;
}

function dpcm_remove(pdev: platform_device): number {
  const d = platform_get_drvdata<dpcm>(pdev);
  d.streams.forEach(dpcm_stream_free);
  writel(0, d.base + I2S_INTMASK);
  writel(0, d.base + I2S_CTRL);
  return 0;
}

export const dpcm_driver: platform_driver = {
  probe: dpcm_probe,
  remove: dpcm_remove,
  driver: { name: 'dpcm', of_match_table: [{ compatible: 'dmalab,i2s' }] },
};

