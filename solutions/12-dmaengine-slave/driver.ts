// Exercise 12, reference solution: duart, a driver for the sim's PL011-flavoured UART
// (sim/hw/uart.ts) wired to two channels of the machine's DMA controller (dmas, dma-names =
// "rx", "tx"). Probe asks for both channels (-EPROBE_DEFER goes back to the driver core, any
// other error means PIO), keeps RX DMA only where the controller can pause and reports residue
// per burst, and configures both with the FIFO's physical address, its width and the bursts that
// match the FIFO levels. A write maps its buffer for the controller and sends it with a slave
// transfer; a read arms a receive into its buffer and collects at the callback (full) or at the
// receive timeout (pause, residue, terminate, unmap, drain the FIFO). Remove stops both channels
// before anything is unmapped. Compare drivers/tty/serial/amba-pl011.c: pl011_dma_probe(),
// pl011_dma_tx_refill(), pl011_dma_rx_irq(), pl011_dma_remove().
import { devm_platform_ioremap_resource, platform_get_resource, platform_get_irq, platform_set_drvdata,
  platform_get_drvdata, IORESOURCE_MEM, type platform_device, type platform_driver } from '#linux/platform_device';
import { readl, writel, type iomem } from '#linux/io';
import { devm_request_irq, IRQ_HANDLED, IRQ_NONE } from '#linux/interrupt';
import { spin_lock_init, spin_lock, spin_unlock, spin_lock_irqsave, spin_unlock_irqrestore, type spinlock_t } from '#linux/spinlock';
import { dma_map_single, dma_unmap_single, dma_mapping_error, DMA_TO_DEVICE, DMA_FROM_DEVICE,
  type dma_addr_t } from '#linux/dma-mapping';
import { dma_request_chan, dma_release_channel, dma_chan_name, dmaengine_slave_config, dma_get_slave_caps,
  dma_slave_caps_zero, dmaengine_prep_slave_single, dmaengine_submit, dma_submit_error, dma_async_issue_pending,
  dmaengine_pause, dmaengine_tx_status, dma_tx_state_zero, dmaengine_terminate_sync, DMA_MEM_TO_DEV, DMA_DEV_TO_MEM,
  DMA_PREP_INTERRUPT, DMA_CTRL_ACK, DMA_PAUSED, DMA_COMPLETE, DMA_TRANS_NOERROR, DMA_SLAVE_BUSWIDTH_1_BYTE,
  DMA_RESIDUE_GRANULARITY_BURST, type dma_chan, type dma_cookie_t, type dmaengine_result } from '#linux/dmaengine';
import { DECLARE_COMPLETION, reinit_completion, complete, wait_for_completion_timeout, type completion } from '#linux/completion';
import { msecs_to_jiffies } from '#linux/jiffies';
import { get_u8, put_u8 } from '#dmalab/mem';
import { IS_ERR, PTR_ERR } from '#linux/err';
import { dev_info, dev_err, dev_err_probe } from '#linux/device';
import { EPROBE_DEFER, ENOMEM, EIO, ETIMEDOUT, EINVAL } from '#linux/errno';

// Registers (sim/hw/uart.ts has the whole map; the offsets and bits are the PL011's).
const UART_DR = 0x000, UART_FR = 0x018, UART_IBRD = 0x024, UART_FBRD = 0x028, UART_LCRH = 0x02c, UART_CR = 0x030,
  UART_IFLS = 0x034, UART_IMSC = 0x038, UART_MIS = 0x040, UART_ICR = 0x044, UART_DMACR = 0x048;
const UART_FR_RXFE = 0x10, UART_FR_TXFF = 0x20;
const UART_LCRH_FEN = 0x10, UART_LCRH_WLEN_8 = 0x60;
const UART_CR_UARTEN = 0x001, UART_CR_TXE = 0x100, UART_CR_RXE = 0x200;
const UART_IFLS_RX1_4 = 1 << 3, UART_IFLS_TX1_2 = 2;
const UART_RXIS = 1 << 4, UART_TXIS = 1 << 5, UART_RTIS = 1 << 6, UART_OEIS = 1 << 10;
const UART_RXDMAE = 1 << 0, UART_TXDMAE = 1 << 1, UART_DMAONERR = 1 << 2;

const UART_CLK = 24_000_000;
export const DUART_BAUD = 115200;
const UART_FIFO_DEPTH = 32;
const UART_RX_BURST = UART_FIFO_DEPTH / 4;   // IFLS RX level 1/4: a request means 8 are waiting
const UART_TX_BURST = UART_FIFO_DEPTH / 2;   // IFLS TX level 1/2: a request means 16 are free
export const DUART_TX_TIMEOUT_MS = 2000;

export interface duart {
  pdev: platform_device;
  regs: iomem;
  /** The register window's physical start: the slave configs' FIFO address. */
  mapbase: number;
  irq: number;
  rx: dma_chan | null;
  tx: dma_chan | null;
  lock: spinlock_t;
  /** The interrupt mask as last written. */
  im: number;
  /** An armed receive: its buffer, mapping, length and cookie (rx_buf 0: none). */
  rx_buf: number;
  rx_dma: dma_addr_t;
  rx_len: number;
  rx_cookie: dma_cookie_t;
  /** The receive's callback came (the buffer is full). */
  rx_full: boolean;
  /** The RT (or, in PIO, the RX) interrupt woke the reader; the DMA callback does too. */
  rt_done: completion;
  rt_seen: boolean;
  /** A send in flight: its buffer, mapping and length (tx_buf 0: none). */
  tx_buf: number;
  tx_dma: dma_addr_t;
  tx_len: number;
  tx_ok: boolean;
  tx_done: completion;
  /** PIO: the TX interrupt says there is room. */
  tx_room: completion;
}

// ---- the UART (PIO and interrupts) ----------------------------------------------------------

function duart_set_im(u: duart, set: number, clear: number): void {
  const flags = spin_lock_irqsave(u.lock);
  u.im = (u.im | set) & ~clear;
  writel(u.im, u.regs + UART_IMSC);
  spin_unlock_irqrestore(u.lock, flags);
}

function duart_set_dmacr(u: duart, set: number, clear: number): void {
  const flags = spin_lock_irqsave(u.lock);
  writel((readl(u.regs + UART_DMACR) | set) & ~clear, u.regs + UART_DMACR);
  spin_unlock_irqrestore(u.lock, flags);
}

/** The interrupt: RT (and RX in PIO) wakes the reader, TX wakes the PIO writer. Each is masked
 *  here and unmasked by whoever it woke. */
function duart_irq(_irq: number, u: duart): number {
  spin_lock(u.lock);
  const status = readl(u.regs + UART_MIS);
  if (!status) {
    spin_unlock(u.lock);
    return IRQ_NONE;
  }
  if (status & UART_OEIS) writel(UART_OEIS, u.regs + UART_ICR);
  if (status & (UART_RXIS | UART_RTIS)) {
    u.im &= ~(UART_RXIS | UART_RTIS);
    u.rt_seen ||= !!(status & UART_RTIS);
    complete(u.rt_done);
  }
  if (status & UART_TXIS) {
    u.im &= ~UART_TXIS;
    complete(u.tx_room);
  }
  writel(u.im, u.regs + UART_IMSC);
  spin_unlock(u.lock);
  return IRQ_HANDLED;
}

/** Send by PIO: fill the TX FIFO, wait for the TX interrupt when it is full. Returns len. */
export function duart_pio_write(u: duart, buf: number, len: number): number {
  for (let i = 0; i < len;) {
    if (!(readl(u.regs + UART_FR) & UART_FR_TXFF)) {
      writel(get_u8(buf + i++), u.regs + UART_DR);
      continue;
    }
    reinit_completion(u.tx_room);
    duart_set_im(u, UART_TXIS, 0);
    if (!wait_for_completion_timeout(u.tx_room, msecs_to_jiffies(DUART_TX_TIMEOUT_MS))) return -ETIMEDOUT;
  }
  return len;
}

/** Characters waiting in the RX FIFO into buf[n..len); the new n. */
function duart_drain(u: duart, buf: number, n: number, len: number): number {
  while (n < len && !(readl(u.regs + UART_FR) & UART_FR_RXFE)) put_u8(readl(u.regs + UART_DR) & 0xff, buf + n++);
  return n;
}

/** Receive by PIO until buf is full or the line has been quiet for the receive timeout after
 *  something came; 0 after timeout_ms with nothing. */
export function duart_pio_read(u: duart, buf: number, len: number, timeout_ms: number): number {
  let n = 0;
  for (;;) {
    reinit_completion(u.rt_done);
    u.rt_seen = false;
    duart_set_im(u, UART_RXIS | UART_RTIS, 0);
    const woke = wait_for_completion_timeout(u.rt_done, msecs_to_jiffies(timeout_ms));
    duart_set_im(u, 0, UART_RXIS | UART_RTIS);
    n = duart_drain(u, buf, n, len);
    writel(UART_RXIS | UART_RTIS, u.regs + UART_ICR);
    if (!woke || n === len || (u.rt_seen && n)) return n;
  }
}

// ---- TX by DMA -------------------------------------------------------------------------------

/** The transmit is in the FIFO (the channel's tasklet): the buffer is the CPU's again. */
function duart_tx_callback(u: duart, res: dmaengine_result | null): void {
  const flags = spin_lock_irqsave(u.lock);
  if (u.tx_buf) {
    dma_unmap_single(u.tx!.device.dev!, u.tx_dma, u.tx_len, DMA_TO_DEVICE);
    u.tx_buf = 0;
  }
  writel(readl(u.regs + UART_DMACR) & ~UART_TXDMAE, u.regs + UART_DMACR);
  u.tx_ok = !res || res.result === DMA_TRANS_NOERROR;
  spin_unlock_irqrestore(u.lock, flags);
  complete(u.tx_done);
}

/** Start sending len bytes of buf by DMA (lesson 12's port_tx_start()); 0, or an error for the
 *  caller to fall back to PIO. */
export function duart_tx_start(u: duart, buf: number, len: number): number {
  const chan = u.tx;
  if (!chan) return -EINVAL;
  const dev = chan.device.dev!;
  const dma = dma_map_single(dev, buf, len, DMA_TO_DEVICE);
  if (dma_mapping_error(dev, dma)) return -ENOMEM;
  const desc = dmaengine_prep_slave_single(chan, dma, len, DMA_MEM_TO_DEV, DMA_PREP_INTERRUPT | DMA_CTRL_ACK);
  if (!desc) {
    dma_unmap_single(dev, dma, len, DMA_TO_DEVICE);
    return -EIO;
  }
  desc.callback_result = duart_tx_callback;
  desc.callback_param = u;
  u.tx_buf = buf;
  u.tx_dma = dma;
  u.tx_len = len;
  reinit_completion(u.tx_done);
  if (dma_submit_error(dmaengine_submit(desc))) {
    u.tx_buf = 0;
    dma_unmap_single(dev, dma, len, DMA_TO_DEVICE);
    return -EIO;
  }
  dma_async_issue_pending(chan);
  duart_set_dmacr(u, UART_TXDMAE, 0);   // now the UART asks for bursts
  return 0;
}

/** Send len bytes of the kmalloc'ed buf: by DMA where there is a channel, else (or when the
 *  DMA cannot be set up) by PIO. Returns len, or a negative errno. Sleeps. */
export function duart_write(u: duart, buf: number, len: number): number {
  if (len <= 0) return len ? -EINVAL : 0;
  if (!u.tx || duart_tx_start(u, buf, len)) return duart_pio_write(u, buf, len);
  if (!wait_for_completion_timeout(u.tx_done, msecs_to_jiffies(DUART_TX_TIMEOUT_MS))) {
    dev_err(u.pdev.dev, 'TX DMA timed out\n');
    // Stop the channel before the buffer goes back: it may still be reading it.
    dmaengine_terminate_sync(u.tx);
    duart_set_dmacr(u, 0, UART_TXDMAE);
    if (u.tx_buf) dma_unmap_single(u.tx.device.dev!, u.tx_dma, u.tx_len, DMA_TO_DEVICE);
    u.tx_buf = 0;
    return -ETIMEDOUT;
  }
  return u.tx_ok ? len : -EIO;
}

// ---- RX by DMA -------------------------------------------------------------------------------

/** The receive buffer is full (the channel's tasklet): wake the reader. */
function duart_rx_callback(u: duart, _res: dmaengine_result | null): void {
  u.rx_full = true;
  complete(u.rt_done);
}

/** Arm a DMA receive of len bytes into the kmalloc'ed buf; 0, or an error (PIO then). */
export function duart_rx_start(u: duart, buf: number, len: number): number {
  const chan = u.rx;
  if (!chan || u.rx_buf) return -EINVAL;
  const dev = chan.device.dev!;
  const dma = dma_map_single(dev, buf, len, DMA_FROM_DEVICE);
  if (dma_mapping_error(dev, dma)) return -ENOMEM;
  const desc = dmaengine_prep_slave_single(chan, dma, len, DMA_DEV_TO_MEM, DMA_PREP_INTERRUPT | DMA_CTRL_ACK);
  if (!desc) {
    dma_unmap_single(dev, dma, len, DMA_FROM_DEVICE);
    return -EIO;
  }
  desc.callback_result = duart_rx_callback;
  desc.callback_param = u;
  reinit_completion(u.rt_done);
  u.rx_full = false;
  u.rt_seen = false;
  const cookie = dmaengine_submit(desc);
  if (dma_submit_error(cookie)) {
    dma_unmap_single(dev, dma, len, DMA_FROM_DEVICE);
    return -EIO;
  }
  Object.assign(u, { rx_buf: buf, rx_dma: dma, rx_len: len, rx_cookie: cookie });
  dma_async_issue_pending(chan);
  duart_set_dmacr(u, UART_RXDMAE, 0);
  // The receive timeout says the line went quiet with a buffer partly filled.
  writel(UART_RTIS, u.regs + UART_ICR);
  duart_set_im(u, UART_RTIS, 0);
  return 0;
}

/** The armed receive ends (full, or the line went quiet): how many characters are in the
 *  buffer, the DMA'd ones and then the stragglers drained from the FIFO (lesson 12's
 *  port_rx_collect()). Process context. */
function duart_rx_collect(u: duart): number {
  const chan = u.rx!;
  const buf = u.rx_buf, len = u.rx_len;
  duart_set_im(u, 0, UART_RTIS);
  let n: number;
  if (u.rx_full) {
    n = len;
  } else {
    // Pause first so the residue holds still, then read it, then stop the transfer.
    const state = dma_tx_state_zero();
    if (dmaengine_pause(chan)) dev_err(u.pdev.dev, 'unable to pause DMA transfer\n');
    const status = dmaengine_tx_status(chan, u.rx_cookie, state);
    n = status === DMA_COMPLETE ? len : status === DMA_PAUSED ? len - state.residue : 0;
  }
  duart_set_dmacr(u, 0, UART_RXDMAE);
  dmaengine_terminate_sync(chan);
  // Only now is the buffer the CPU's: unmap, then add what waits in the FIFO.
  dma_unmap_single(chan.device.dev!, u.rx_dma, len, DMA_FROM_DEVICE);
  u.rx_buf = 0;
  n = duart_drain(u, buf, n, len);
  writel(UART_RTIS | UART_RXIS, u.regs + UART_ICR);
  return n;
}

/** Wait for the armed receive: the callback (full), the receive timeout, or timeout_ms. */
export function duart_rx_wait(u: duart, timeout_ms: number): number {
  wait_for_completion_timeout(u.rt_done, msecs_to_jiffies(timeout_ms));
  return duart_rx_collect(u);
}

/** Receive into the kmalloc'ed buf until it is full or the line has been quiet for the receive
 *  timeout; 0 after timeout_ms with nothing received. Sleeps. */
export function duart_read(u: duart, buf: number, len: number, timeout_ms: number): number {
  if (len <= 0) return len ? -EINVAL : 0;
  if (!u.rx || duart_rx_start(u, buf, len)) return duart_pio_read(u, buf, len, timeout_ms);
  return duart_rx_wait(u, timeout_ms);
}

// ---- channels, probe, remove -------------------------------------------------------------------

/** Both channels, or none (PIO); -EPROBE_DEFER with nothing held (lesson 12's port_request_dma()). */
function duart_request_dma(u: duart): number {
  const dev = u.pdev.dev;
  const rx = dma_request_chan(dev, 'rx');
  if (IS_ERR(rx)) {
    if (PTR_ERR(rx) === -EPROBE_DEFER) return dev_err_probe(dev, -EPROBE_DEFER, 'rx channel\n');
    dev_info(dev, 'no rx DMA channel (%d), using PIO\n', PTR_ERR(rx));
    return 0;
  }
  const tx = dma_request_chan(dev, 'tx');
  if (IS_ERR(tx)) {
    dma_release_channel(rx);
    if (PTR_ERR(tx) === -EPROBE_DEFER) return dev_err_probe(dev, -EPROBE_DEFER, 'tx channel\n');
    dev_info(dev, 'no tx DMA channel (%d), using PIO\n', PTR_ERR(tx));
    return 0;
  }
  // The FIFO's physical address, one-byte characters, bursts that match the FIFO levels.
  if (dmaengine_slave_config(tx, { dst_addr: u.mapbase + UART_DR, dst_addr_width: DMA_SLAVE_BUSWIDTH_1_BYTE,
    dst_maxburst: UART_TX_BURST })) {
    dev_info(dev, 'tx DMA channel cannot be configured, using PIO\n');
    dma_release_channel(tx);
    dma_release_channel(rx);
    return 0;
  }
  u.tx = tx;
  // A receive ends at the timeout, mid-buffer: without pause and a per-burst residue the driver
  // cannot tell how much arrived.
  const caps = dma_slave_caps_zero();
  if (dma_get_slave_caps(rx, caps) || !caps.cmd_pause || !caps.cmd_resume ||
    caps.residue_granularity !== DMA_RESIDUE_GRANULARITY_BURST ||
    dmaengine_slave_config(rx, { src_addr: u.mapbase + UART_DR, src_addr_width: DMA_SLAVE_BUSWIDTH_1_BYTE,
      src_maxburst: UART_RX_BURST })) {
    dma_release_channel(rx);
    dev_info(dev, 'RX DMA disabled - no residue processing\n');
  } else {
    u.rx = rx;
  }
  dev_info(dev, 'DMA channel TX %s, RX %s\n', dma_chan_name(tx), u.rx ? dma_chan_name(u.rx) : 'PIO');
  return 0;
}

function duart_release_dma(u: duart): void {
  if (u.rx) dma_release_channel(u.rx);
  if (u.tx) dma_release_channel(u.tx);
  u.rx = u.tx = null;
}

/** 8N1 at `baud`: the divisor in 64ths is 4 * UARTCLK / baud, rounded. */
function duart_hw_init(u: duart): void {
  const div = Math.round(4 * UART_CLK / DUART_BAUD);
  writel(0, u.regs + UART_CR);
  writel(div >> 6, u.regs + UART_IBRD);
  writel(div & 0x3f, u.regs + UART_FBRD);
  writel(UART_LCRH_WLEN_8 | UART_LCRH_FEN, u.regs + UART_LCRH);
  writel(UART_IFLS_RX1_4 | UART_IFLS_TX1_2, u.regs + UART_IFLS);
  writel(0, u.regs + UART_IMSC);
  writel(0x7ff, u.regs + UART_ICR);
  writel(UART_DMAONERR, u.regs + UART_DMACR);
  writel(UART_CR_UARTEN | UART_CR_TXE | UART_CR_RXE, u.regs + UART_CR);
}

function duart_probe(pdev: platform_device): number {
  const regs = devm_platform_ioremap_resource(pdev, 0);
  if (IS_ERR(regs)) return PTR_ERR(regs);
  const irq = platform_get_irq(pdev, 0);
  if (irq < 0) return irq;
  const u: duart = {
    pdev, regs, mapbase: platform_get_resource(pdev, IORESOURCE_MEM, 0)!.start, irq, rx: null, tx: null,
    lock: {} as spinlock_t, im: 0, rx_buf: 0, rx_dma: 0, rx_len: 0, rx_cookie: 0, rx_full: false,
    rt_done: DECLARE_COMPLETION(), rt_seen: false, tx_buf: 0, tx_dma: 0, tx_len: 0, tx_ok: false,
    tx_done: DECLARE_COMPLETION(), tx_room: DECLARE_COMPLETION(),
  };
  spin_lock_init(u.lock);
  duart_hw_init(u);
  let ret = devm_request_irq(pdev.dev, irq, duart_irq, 0, 'duart', u);
  if (ret) return ret;
  ret = duart_request_dma(u);
  if (ret) return ret;
  platform_set_drvdata(pdev, u);
  dev_info(pdev.dev, 'duart at %d baud, %s\n', DUART_BAUD, u.tx ? 'DMA' : 'PIO');
  return 0;
}

function duart_remove(pdev: platform_device): number {
  const u = platform_get_drvdata<duart>(pdev);
  // No new interrupts, no new requests.
  writel(0, u.regs + UART_IMSC);
  writel(0, u.regs + UART_DMACR);
  // Both channels stopped before any buffer they may touch goes back.
  if (u.rx) dmaengine_terminate_sync(u.rx);
  if (u.tx) dmaengine_terminate_sync(u.tx);
  if (u.rx && u.rx_buf) dma_unmap_single(u.rx.device.dev!, u.rx_dma, u.rx_len, DMA_FROM_DEVICE);
  if (u.tx && u.tx_buf) dma_unmap_single(u.tx.device.dev!, u.tx_dma, u.tx_len, DMA_TO_DEVICE);
  u.rx_buf = u.tx_buf = 0;
  writel(0, u.regs + UART_CR);
  duart_release_dma(u);
  return 0;
}

export const duart_driver: platform_driver = {
  probe: duart_probe,
  remove: duart_remove,
  driver: { name: 'duart', of_match_table: [{ compatible: 'dmalab,uart' }] },
};
