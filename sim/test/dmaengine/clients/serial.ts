// A UART driver with DMA, the shape of exercise 12, for sim/hw/uart.ts; it follows
// drivers/tty/serial/amba-pl011.c (the pl011_dma_* functions) without the tty layer: received
// characters go to `port.rx`, characters to send come from `port.xmit`.
//  - probe asks for the "tx" and "rx" channels the device tree names; -EPROBE_DEFER goes back
//    to the driver core (which probes again once the controller has registered); no channel
//    at all means PIO; an RX channel whose residue cannot be trusted is given back.
//  - RX DMA runs into one of two coherent buffers (mapped for the controller's device). A full
//    buffer completes by callback; a partly filled one is found by the UART's receive timeout:
//    pause, read the residue, stop, take what the DMA wrote and what is left in the FIFO, start
//    again on the other buffer (pl011_dma_rx_irq()). That work sleeps (terminate_sync), so it is
//    the threaded half of the interrupt.
//  - TX copies from the xmit queue into a bounce buffer, maps it (dma_map_sg), and sends it with
//    a slave_sg descriptor; the callback unmaps and refills (pl011_dma_tx_refill()).
//  - remove stops both channels with dmaengine_terminate_sync() before the buffers go.
//
// Device tree: compatible = "dmalab,uart"; reg; interrupts; optional dmas + dma-names "rx", "tx".
import { devm_platform_ioremap_resource, platform_get_resource, platform_get_irq, platform_set_drvdata,
  platform_get_drvdata, IORESOURCE_MEM, type platform_device, type platform_driver } from '#linux/platform_device';
import { readl, writel, type iomem } from '#linux/io';
import { request_threaded_irq, free_irq, IRQ_HANDLED, IRQ_NONE, IRQ_WAKE_THREAD } from '#linux/interrupt';
import { spin_lock_init, spin_lock, spin_unlock, spin_lock_irqsave, spin_unlock_irqrestore, type spinlock_t } from '#linux/spinlock';
import { dma_alloc_coherent, dma_free_coherent, dma_map_sg, dma_unmap_sg, DMA_TO_DEVICE, type dma_addr_t } from '#linux/dma-mapping';
import { sg_array, sg_init_one, type scatterlist } from '#linux/scatterlist';
import { dma_request_chan, dma_release_channel, dma_chan_name, dmaengine_slave_config, dma_get_slave_caps,
  dma_slave_caps_zero, dmaengine_prep_slave_sg, dmaengine_prep_slave_single, dmaengine_submit, dma_async_issue_pending,
  dmaengine_pause, dmaengine_tx_status, dma_tx_state_zero, dmaengine_terminate_sync, DMA_MEM_TO_DEV, DMA_DEV_TO_MEM,
  DMA_PREP_INTERRUPT, DMA_CTRL_ACK, DMA_PAUSED, DMA_COMPLETE, DMA_SLAVE_BUSWIDTH_1_BYTE,
  DMA_RESIDUE_GRANULARITY_DESCRIPTOR, type dma_chan, type dma_cookie_t } from '#linux/dmaengine';
import { kmalloc, kfree, GFP_KERNEL } from '#linux/slab';
import { copy_from_mem, copy_to_mem } from '#dmalab/mem';
import { out } from '#dmalab/ref';
import { IS_ERR, PTR_ERR } from '#linux/err';
import { dev_err, dev_info, dev_dbg } from '#linux/device';
import { EPROBE_DEFER, ENOMEM, EIO } from '#linux/errno';

// Registers (sim/hw/uart.ts has the whole map; the offsets and bits are the PL011's).
const UART_DR = 0x000, UART_FR = 0x018, UART_IBRD = 0x024, UART_FBRD = 0x028, UART_LCRH = 0x02c, UART_CR = 0x030,
  UART_IFLS = 0x034, UART_IMSC = 0x038, UART_MIS = 0x040, UART_ICR = 0x044, UART_DMACR = 0x048;
const FR_RXFE = 0x10, FR_TXFF = 0x20, FR_BUSY = 0x08;
const LCRH_FEN = 0x10, LCRH_WLEN_8 = 0x60;
const CR_UARTEN = 0x001, CR_TXE = 0x100, CR_RXE = 0x200;
const IFLS_RX4_8 = 2 << 3, IFLS_TX4_8 = 2;
const RXIM = 1 << 4, TXIM = 1 << 5, RTIM = 1 << 6, OEIM = 1 << 10;
const RXDMAE = 1 << 0, TXDMAE = 1 << 1, DMAONERR = 1 << 2;
const DR_OE = 1 << 11;

const UART_CLK = 24_000_000;
const FIFO_SIZE = 32;
export const DSERIAL_DMA_BUFFER_SIZE = 4096;

/** Where received characters go and sent ones come from (the tty layer's place). */
export interface dserial_port {
  rx: number[];
  xmit: number[];
  icount: { rx: number; tx: number; overrun: number };
}

/** One RX DMA buffer: coherent, so the CPU reads what the controller wrote without syncs. */
interface dserial_rxbuf { d: dserial; cpu: number; dma: dma_addr_t }

export interface dserial {
  pdev: platform_device;
  base: iomem;
  irq: number;
  /** The data register's bus-side (physical) address, for the slave configs. */
  fifo_phys: number;
  lock: spinlock_t;
  im: number;
  dmacr: number;
  port: dserial_port;
  rx: { chan: dma_chan | null; buf: dserial_rxbuf[]; use_b: boolean; cookie: dma_cookie_t; running: boolean };
  tx: { chan: dma_chan | null; buf: number; sg: scatterlist | null; queued: boolean };
}

// ---- RX by DMA -------------------------------------------------------------------------------

/** Start a DMA job on the current buffer (pl011_dma_rx_trigger_dma()). Lock held. */
function dserial_dma_rx_trigger(d: dserial): number {
  const chan = d.rx.chan;
  if (!chan) return -EIO;
  const b = d.rx.buf[d.rx.use_b ? 1 : 0]!;
  const desc = dmaengine_prep_slave_single(chan, b.dma, DSERIAL_DMA_BUFFER_SIZE, DMA_DEV_TO_MEM,
    DMA_PREP_INTERRUPT | DMA_CTRL_ACK);
  if (!desc) {
    d.rx.running = false;
    return -EIO;
  }
  desc.callback = dserial_dma_rx_callback;
  desc.callback_param = b;
  d.rx.cookie = dmaengine_submit(desc);
  dma_async_issue_pending(chan);
  d.dmacr |= RXDMAE;
  writel(d.dmacr, d.base + UART_DMACR);
  d.rx.running = true;
  // The receive timeout still comes, to say a buffer is partly filled; RX itself is the DMA's.
  d.im = (d.im & ~RXIM) | RTIM;
  writel(d.im, d.base + UART_IMSC);
  return 0;
}

/** Characters from the RX FIFO, by PIO, with the overrun flag counted. Lock held. */
function dserial_fifo_to_port(d: dserial): number {
  let n = 0;
  while (!(readl(d.base + UART_FR) & FR_RXFE)) {
    const c = readl(d.base + UART_DR);
    if (c & DR_OE) d.port.icount.overrun++;
    d.port.rx.push(c & 0xff);
    n++;
  }
  d.port.icount.rx += n;
  return n;
}

/** Take `pending` characters from DMA buffer `b`, then (after a timeout) what waits in the
 *  FIFO (pl011_dma_rx_chars()). Lock held. */
function dserial_dma_rx_chars(d: dserial, b: dserial_rxbuf, pending: number, readfifo: boolean): void {
  if (pending) {
    d.port.rx.push(...copy_from_mem(b.cpu, pending));
    d.port.icount.rx += pending;
  }
  if (readfifo) dserial_fifo_to_port(d);
}

/** A buffer is full (the callback, in the channel's tasklet): start the other, then take it. */
function dserial_dma_rx_callback(b: dserial_rxbuf): void {
  const d = b.d;
  const flags = spin_lock_irqsave(d.lock);
  // The timeout handler may have taken this buffer over already.
  if (!d.rx.running || b !== d.rx.buf[d.rx.use_b ? 1 : 0]) {
    spin_unlock_irqrestore(d.lock, flags);
    return;
  }
  d.rx.running = false;
  d.rx.use_b = !d.rx.use_b;
  const ret = dserial_dma_rx_trigger(d);
  dserial_dma_rx_chars(d, b, DSERIAL_DMA_BUFFER_SIZE, false);
  if (ret) {
    dev_dbg(d.pdev.dev, 'could not retrigger RX DMA job, fall back to interrupt mode\n');
    d.im |= RXIM;
    writel(d.im, d.base + UART_IMSC);
  }
  spin_unlock_irqrestore(d.lock, flags);
}

/** The receive timeout while RX DMA runs (pl011_dma_rx_irq()): a buffer partly filled. Process
 *  context (the interrupt thread): terminate_sync may sleep. */
function dserial_dma_rx_timeout(d: dserial): void {
  const chan = d.rx.chan!;
  let flags = spin_lock_irqsave(d.lock);
  if (!d.rx.running) {
    spin_unlock_irqrestore(d.lock, flags);
    return;
  }
  const b = d.rx.buf[d.rx.use_b ? 1 : 0]!;
  // Pause first, so the residue holds still; then stop the UART's requests (characters wait in
  // the FIFO meanwhile).
  if (dmaengine_pause(chan)) dev_err(d.pdev.dev, 'unable to pause DMA transfer\n');
  const state = dma_tx_state_zero();
  const status = dmaengine_tx_status(chan, d.rx.cookie, state);
  if (status !== DMA_PAUSED && status !== DMA_COMPLETE) dev_err(d.pdev.dev, 'unable to pause DMA transfer\n');
  d.dmacr &= ~RXDMAE;
  writel(d.dmacr, d.base + UART_DMACR);
  d.rx.running = false;
  const pending = status === DMA_COMPLETE ? DSERIAL_DMA_BUFFER_SIZE : DSERIAL_DMA_BUFFER_SIZE - state.residue;
  spin_unlock_irqrestore(d.lock, flags);

  // Now we know the residue: stop the job (and wait out its callback) before touching the buffer.
  dmaengine_terminate_sync(chan);

  flags = spin_lock_irqsave(d.lock);
  dserial_dma_rx_chars(d, b, pending, true);
  d.rx.use_b = !d.rx.use_b;
  if (dserial_dma_rx_trigger(d)) {
    dev_dbg(d.pdev.dev, 'could not retrigger RX DMA job, fall back to interrupt mode\n');
    d.im |= RXIM | RTIM;
    writel(d.im, d.base + UART_IMSC);
  }
  spin_unlock_irqrestore(d.lock, flags);
}

// ---- TX ----------------------------------------------------------------------------------------

/** PIO: fill the TX FIFO from xmit; the TX interrupt asks for more while any is left. Lock held. */
function dserial_tx_chars(d: dserial): void {
  const x = d.port.xmit;
  while (x.length && !(readl(d.base + UART_FR) & FR_TXFF)) {
    writel(x.shift()!, d.base + UART_DR);
    d.port.icount.tx++;
  }
  d.im = x.length ? d.im | TXIM : d.im & ~TXIM;
  writel(d.im, d.base + UART_IMSC);
}

/** Send the next chunk of xmit by DMA (pl011_dma_tx_refill()): > 0 queued, 0 nothing to send,
 *  < 0 DMA cannot be used now (the caller falls back to PIO). Lock held. */
function dserial_dma_tx_refill(d: dserial): number {
  const chan = d.tx.chan!;
  const dma_dev = chan.device.dev!;
  const x = d.port.xmit;
  const count = Math.min(x.length, DSERIAL_DMA_BUFFER_SIZE);
  if (!count) return 0;
  copy_to_mem(d.tx.buf, Uint8Array.from(x.slice(0, count)));
  const sg = d.tx.sg!;
  sg_init_one(sg, d.tx.buf, count);
  if (dma_map_sg(dma_dev, sg, 1, DMA_TO_DEVICE) !== 1) {
    dev_dbg(d.pdev.dev, 'unable to map TX DMA\n');
    return -ENOMEM;
  }
  const desc = dmaengine_prep_slave_sg(chan, sg, 1, DMA_MEM_TO_DEV, DMA_PREP_INTERRUPT | DMA_CTRL_ACK);
  if (!desc) {
    dma_unmap_sg(dma_dev, sg, 1, DMA_TO_DEVICE);
    dev_dbg(d.pdev.dev, 'TX DMA busy\n');
    return -EIO;
  }
  desc.callback = dserial_dma_tx_callback;
  desc.callback_param = d;
  dmaengine_submit(desc);
  dma_async_issue_pending(chan);
  d.dmacr |= TXDMAE;
  writel(d.dmacr, d.base + UART_DMACR);
  d.tx.queued = true;
  x.splice(0, count);
  d.port.icount.tx += count;
  return 1;
}

/** A TX buffer has gone into the FIFO: unmap it, send more or stop (pl011_dma_tx_callback()). */
function dserial_dma_tx_callback(d: dserial): void {
  const flags = spin_lock_irqsave(d.lock);
  const sg = d.tx.sg!;
  if (d.tx.queued) dma_unmap_sg(d.tx.chan!.device.dev!, sg, 1, DMA_TO_DEVICE);
  d.tx.queued = false;
  d.dmacr &= ~TXDMAE;
  writel(d.dmacr, d.base + UART_DMACR);
  if (dserial_dma_tx_refill(d) < 0) dserial_tx_chars(d);
  spin_unlock_irqrestore(d.lock, flags);
}

/** Queue characters to send and start the transmitter (uart_write() then start_tx()). */
export function dserial_write(d: dserial, bytes: ArrayLike<number>): void {
  const flags = spin_lock_irqsave(d.lock);
  for (let i = 0; i < bytes.length; i++) d.port.xmit.push(bytes[i]! & 0xff);
  if (d.tx.chan) {
    if (!d.tx.queued && dserial_dma_tx_refill(d) < 0) dserial_tx_chars(d);
  } else {
    dserial_tx_chars(d);
  }
  spin_unlock_irqrestore(d.lock, flags);
}

/** Nothing left to send and the line idle. */
export function dserial_tx_empty(d: dserial): boolean {
  return !d.port.xmit.length && !d.tx.queued && !(readl(d.base + UART_FR) & FR_BUSY);
}

// ---- the interrupt -----------------------------------------------------------------------------

function dserial_irq(_irq: number, d: dserial): number {
  spin_lock(d.lock);
  const status = readl(d.base + UART_MIS);
  if (!status) {
    spin_unlock(d.lock);
    return IRQ_NONE;
  }
  let ret = IRQ_HANDLED;
  if (status & OEIM) {
    d.port.icount.overrun++;
    writel(OEIM, d.base + UART_ICR);
  }
  if (status & (RXIM | RTIM)) {
    if (d.rx.running) {
      // A partly filled DMA buffer: the thread deals with it (it sleeps). Hold the timeout off
      // until it has.
      d.im &= ~RTIM;
      writel(d.im, d.base + UART_IMSC);
      ret = IRQ_WAKE_THREAD;
    } else {
      writel(RXIM | RTIM, d.base + UART_ICR);
      dserial_fifo_to_port(d);
    }
  }
  if (status & TXIM) {
    writel(TXIM, d.base + UART_ICR);
    dserial_tx_chars(d);
  }
  spin_unlock(d.lock);
  return ret;
}

function dserial_irq_thread(_irq: number, d: dserial): number {
  dserial_dma_rx_timeout(d);
  return IRQ_HANDLED;
}

// ---- channels, probe, remove -------------------------------------------------------------------

/** Ask for the channels (pl011_dma_probe()). 0 (with or without DMA), or -EPROBE_DEFER. */
function dserial_dma_probe(d: dserial): number {
  const dev = d.pdev.dev;
  let chan = dma_request_chan(dev, 'tx');
  if (IS_ERR(chan)) {
    if (PTR_ERR(chan) === -EPROBE_DEFER) return -EPROBE_DEFER;
    dev_info(dev, 'no DMA channel, using PIO\n');
    return 0;
  }
  dmaengine_slave_config(chan, { dst_addr: d.fifo_phys, dst_addr_width: DMA_SLAVE_BUSWIDTH_1_BYTE, dst_maxburst: FIFO_SIZE >> 1 });
  d.tx.chan = chan;
  dev_info(dev, 'DMA channel TX %s\n', dma_chan_name(chan));

  chan = dma_request_chan(dev, 'rx');
  if (IS_ERR(chan)) {
    if (PTR_ERR(chan) === -EPROBE_DEFER) {
      dma_release_channel(d.tx.chan);
      d.tx.chan = null;
      return -EPROBE_DEFER;
    }
    dev_info(dev, 'no RX DMA channel, RX by PIO\n');
    return 0;
  }
  // Without a residue the receive timeout cannot say how much of a buffer arrived.
  const caps = dma_slave_caps_zero();
  if (dma_get_slave_caps(chan, caps) === 0 && caps.residue_granularity === DMA_RESIDUE_GRANULARITY_DESCRIPTOR) {
    dma_release_channel(chan);
    dev_info(dev, 'RX DMA disabled - no residue processing\n');
    return 0;
  }
  // Bursts of a quarter of the FIFO, below the RX level (half): what is left under it waits in
  // the FIFO for the receive timeout.
  dmaengine_slave_config(chan, { src_addr: d.fifo_phys, src_addr_width: DMA_SLAVE_BUSWIDTH_1_BYTE, src_maxburst: FIFO_SIZE >> 2 });
  d.rx.chan = chan;
  dev_info(dev, 'DMA channel RX %s\n', dma_chan_name(chan));
  return 0;
}

/** The DMA buffers: a TX bounce buffer (streaming-mapped per transfer), two coherent RX ones. */
function dserial_dma_startup(d: dserial): number {
  if (d.tx.chan) {
    d.tx.buf = kmalloc(DSERIAL_DMA_BUFFER_SIZE, GFP_KERNEL);
    if (!d.tx.buf) return -ENOMEM;
    d.tx.sg = sg_array(1)[0]!;
  }
  if (d.rx.chan) {
    const dma_dev = d.rx.chan.device.dev!;
    for (let i = 0; i < 2; i++) {
      const h = out(0);
      const cpu = dma_alloc_coherent(dma_dev, DSERIAL_DMA_BUFFER_SIZE, h, GFP_KERNEL);
      if (!cpu) {
        dev_err(d.pdev.dev, 'failed to init DMA RX buffer %s: %d\n', i ? 'B' : 'A', -ENOMEM);
        dserial_dma_free_rx(d);
        return 0;
      }
      d.rx.buf.push({ d, cpu, dma: h.value });
    }
  }
  return 0;
}

function dserial_dma_free_rx(d: dserial): void {
  const chan = d.rx.chan;
  if (!chan) return;
  for (const b of d.rx.buf) dma_free_coherent(chan.device.dev!, DSERIAL_DMA_BUFFER_SIZE, b.cpu, b.dma);
  d.rx.buf = [];
  dma_release_channel(chan);
  d.rx.chan = null;
}

/** Stop both channels, then let go of their buffers and the channels themselves. */
function dserial_dma_shutdown(d: dserial): void {
  let flags = spin_lock_irqsave(d.lock);
  d.dmacr &= ~(RXDMAE | TXDMAE);
  writel(d.dmacr, d.base + UART_DMACR);
  d.rx.running = false;
  spin_unlock_irqrestore(d.lock, flags);
  if (d.tx.chan) {
    // Nothing the controller may still read or write goes back before this returns.
    dmaengine_terminate_sync(d.tx.chan);
    flags = spin_lock_irqsave(d.lock);
    if (d.tx.queued) dma_unmap_sg(d.tx.chan.device.dev!, d.tx.sg!, 1, DMA_TO_DEVICE);
    d.tx.queued = false;
    spin_unlock_irqrestore(d.lock, flags);
    kfree(d.tx.buf);
    dma_release_channel(d.tx.chan);
    d.tx.chan = null;
  }
  if (d.rx.chan) {
    dmaengine_terminate_sync(d.rx.chan);
    dserial_dma_free_rx(d);
  }
}

/** 8N1 at `baud`: the divisor in 64ths is 4 * UARTCLK / baud, rounded. */
function dserial_set_baud(d: dserial, baud: number): void {
  const div = Math.round(4 * UART_CLK / baud);
  writel(div >> 6, d.base + UART_IBRD);
  writel(div & 0x3f, d.base + UART_FBRD);
  writel(LCRH_WLEN_8 | LCRH_FEN, d.base + UART_LCRH);
}

export const DSERIAL_BAUD = 921600;

function dserial_probe(pdev: platform_device): number {
  const base = devm_platform_ioremap_resource(pdev, 0);
  if (IS_ERR(base)) return PTR_ERR(base);
  const irq = platform_get_irq(pdev, 0);
  if (irq < 0) return irq;
  const d: dserial = {
    pdev, base, irq, fifo_phys: platform_get_resource(pdev, IORESOURCE_MEM, 0)!.start + UART_DR,
    lock: {} as spinlock_t, im: 0, dmacr: 0, port: { rx: [], xmit: [], icount: { rx: 0, tx: 0, overrun: 0 } },
    rx: { chan: null, buf: [], use_b: false, cookie: 0, running: false },
    tx: { chan: null, buf: 0, sg: null, queued: false },
  };
  spin_lock_init(d.lock);

  let ret = dserial_dma_probe(d);
  if (ret) return ret;
  ret = dserial_dma_startup(d);
  if (ret) {
    dserial_dma_shutdown(d);
    return ret;
  }

  writel(0, base + UART_CR);
  dserial_set_baud(d, DSERIAL_BAUD);
  writel(IFLS_RX4_8 | IFLS_TX4_8, base + UART_IFLS);
  writel(0x7ff, base + UART_ICR);
  ret = request_threaded_irq(irq, dserial_irq, dserial_irq_thread, 0, 'dserial', d);
  if (ret) {
    dserial_dma_shutdown(d);
    return ret;
  }
  platform_set_drvdata(pdev, d);
  writel(CR_UARTEN | CR_TXE | CR_RXE, base + UART_CR);

  const flags = spin_lock_irqsave(d.lock);
  d.dmacr = DMAONERR;
  writel(d.dmacr, base + UART_DMACR);
  d.im = OEIM | RTIM | RXIM;
  writel(d.im, base + UART_IMSC);
  if (d.rx.chan && dserial_dma_rx_trigger(d)) dev_dbg(pdev.dev, 'could not trigger initial RX DMA job, fall back to interrupt mode\n');
  spin_unlock_irqrestore(d.lock, flags);
  return 0;
}

function dserial_remove(pdev: platform_device): number {
  const d = platform_get_drvdata<dserial>(pdev);
  writel(0, d.base + UART_IMSC);
  writel(0, d.base + UART_CR);
  // No handler runs after this: the buffers can go.
  free_irq(d.irq, d);
  dserial_dma_shutdown(d);
  return 0;
}

export const dserial_driver: platform_driver = {
  probe: dserial_probe,
  remove: dserial_remove,
  driver: { name: 'dserial', of_match_table: [{ compatible: 'dmalab,uart' }] },
};

