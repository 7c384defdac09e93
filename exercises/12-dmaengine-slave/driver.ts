// Exercise 12: duart, a driver for the sim's PL011-flavoured UART (sim/hw/uart.ts) wired to two
// channels of the machine's DMA controller (dmas, dma-names = "rx", "tx")
// (lessons/12-dmaengine-slave.md). Written: the registers, the UART's set-up, the interrupt
// handler, the PIO paths and the struct. Yours: the channels in probe (deferral, PIO fallback,
// caps, slave configs), sending and receiving by DMA (the receive timeout's residue), and remove's
// order. The TODOs say what; the lesson says how. Compare drivers/tty/serial/amba-pl011.c.
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
import { EPROBE_DEFER, ENOMEM, EIO, ETIMEDOUT, EINVAL, ENOSYS } from '#linux/errno';

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
  // TODO: the controller is done with the buffer (tasklet context): unmap it (u.tx_buf, u.tx_dma,
  //       u.tx_len) on the channel's device, clear TXDMAE, note whether res says it worked
  //       (u.tx_ok), complete(u.tx_done).
}

/** Start sending len bytes of buf by DMA (lesson 12's port_tx_start()); 0, or an error for the
 *  caller to fall back to PIO. */
export function duart_tx_start(u: duart, buf: number, len: number): number {
  // TODO: lesson 12's port_tx_start(): map buf DMA_TO_DEVICE for the controller, prep
  //       DMA_MEM_TO_DEV (dmaengine_prep_slave_single), callback_result = duart_tx_callback with u,
  //       keep buf/dma/len in u.tx_buf/tx_dma/tx_len, reinit_completion(u.tx_done), submit (check
  //       the cookie), issue, then TXDMAE in DMACR. Any failure: undo, return an error (the caller
  //       sends by PIO).
  return -ENOSYS;
}

/** Send len bytes of the kmalloc'ed buf: by DMA where there is a channel, else (or when the
 *  DMA cannot be set up) by PIO. Returns len, or a negative errno. Sleeps. */
export function duart_write(u: duart, buf: number, len: number): number {
  if (len <= 0) return len ? -EINVAL : 0;
  // TODO: by DMA when u.tx is set and duart_tx_start() succeeds: wait for u.tx_done up to
  //       DUART_TX_TIMEOUT_MS (a timeout: stop the channel, then unmap, -ETIMEDOUT); len, or -EIO
  //       if the callback said it failed.
  return duart_pio_write(u, buf, len);
}

// ---- RX by DMA -------------------------------------------------------------------------------

/** The receive buffer is full (the channel's tasklet): wake the reader. */
function duart_rx_callback(u: duart, _res: dmaengine_result | null): void {
  // TODO: the buffer is full: say so (u.rx_full) and wake the reader (u.rt_done).
}

/** Arm a DMA receive of len bytes into the kmalloc'ed buf; 0, or an error (PIO then). */
export function duart_rx_start(u: duart, buf: number, len: number): number {
  // TODO: map buf DMA_FROM_DEVICE for the controller, prep DMA_DEV_TO_MEM, callback_result =
  //       duart_rx_callback with u, reinit_completion(u.rt_done), u.rx_full = u.rt_seen = false,
  //       submit (keep the cookie in u.rx_cookie, buf/dma/len in u.rx_buf/rx_dma/rx_len), issue,
  //       RXDMAE in DMACR, then clear and unmask RT (the line went quiet). Failures: undo, error.
  return -ENOSYS;
}

/** The armed receive ends (full, or the line went quiet): how many characters are in the
 *  buffer, the DMA'd ones and then the stragglers drained from the FIFO (lesson 12's
 *  port_rx_collect()). Process context. */
function duart_rx_collect(u: duart): number {
  // TODO: lesson 12's port_rx_collect(): mask RT; unless u.rx_full, pause the channel and read
  //       the residue of u.rx_cookie (DMA_PAUSED: len - residue); RXDMAE off; stop the channel;
  //       unmap; drain the FIFO after the characters that came by DMA (duart_drain()); the count.
  return 0;
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
  // TODO: lesson 12's port_request_dma(): "rx" and "tx" with dma_request_chan(u.pdev.dev, ...);
  //       -EPROBE_DEFER returned with nothing held; any other error: PIO (u.rx = u.tx = null).
  //       The slave configs: the FIFO's physical address (u.mapbase + UART_DR), one-byte width,
  //       UART_TX_BURST / UART_RX_BURST. RX DMA only if dma_get_slave_caps() says the channel can
  //       pause and resume and reports residue per burst (else release rx and say
  //       'RX DMA disabled - no residue processing').
  dev_info(u.pdev.dev, 'TODO: no DMA channels requested, using PIO\n');
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
  writel(0, u.regs + UART_IMSC);
  writel(0, u.regs + UART_DMACR);
  // TODO: stop both channels, then unmap a receive (u.rx_buf) or a send (u.tx_buf) still armed.
  writel(0, u.regs + UART_CR);
  duart_release_dma(u);
  return 0;
}

export const duart_driver: platform_driver = {
  probe: duart_probe,
  remove: duart_remove,
  driver: { name: 'duart', of_match_table: [{ compatible: 'dmalab,uart' }] },
};
