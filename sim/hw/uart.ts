// A UART after ARM's PL011 (PrimeCell UART, DDI 0183; Linux drives the real one with
// drivers/tty/serial/amba-pl011.c), simplified: no modem lines, no IrDA, no framing, parity or
// break errors; the register offsets and bits are the PL011's, so amba-pl011.c reads alongside.
// Characters go out and come in at the programmed baud rate, in the machine's virtual time.
// The far end of the line is scripted (UartRemote: what it sends, what it heard, an echo), or
// LBE loops TX back to RX inside the UART.
//
// Registers (32-bit accesses; a DR access of any width moves one character):
//   0x000 RW  DR     write: [7:0] into the TX FIFO (dropped when full); read: pop the RX FIFO:
//                    [7:0] the character, bit 11 OE (an overrun followed it); 0 when empty
//   0x004 RW  RSR    read: bit 3 OE (sticky); write (ECR): any value clears it
//   0x018 RO  FR     bit 3 BUSY (transmitting, or TX FIFO not empty), 4 RXFE, 5 TXFF, 6 RXFF,
//                    7 TXFE
//   0x024 RW  IBRD   [15:0] integer part of the baud divisor: baud = UARTCLK / (16 * (IBRD +
//                    FBRD / 64)); IBRD = 0 stops the baud generator
//   0x028 RW  FBRD   [5:0] fractional part
//   0x02c RW  LCR_H  bit 1 PEN (a parity bit on the line), bit 3 STP2, bit 4 FEN (FIFOs on; off:
//                    one-character holding registers), [6:5] WLEN (5 + n data bits). Writing it
//                    latches IBRD and FBRD, as on the PL011.
//   0x030 RW  CR     bit 0 UARTEN, bit 7 LBE (loopback), bit 8 TXE, bit 9 RXE (reset: TXE|RXE)
//   0x034 RW  IFLS   [2:0] TX level (interrupt and DMA request at or below), [5:3] RX level (at
//                    or above): 0 1/8, 1 1/4, 2 1/2, 3 3/4, 4 7/8 of the FIFO (reset: 1/2, 1/2)
//   0x038 RW  IMSC   interrupt mask (1: enabled): bit 4 RX, 5 TX, 6 RT (receive timeout), 10 OE
//   0x03c RO  RIS    raw interrupt status, same bits
//   0x040 RO  MIS    RIS & IMSC
//   0x044 WO  ICR    write 1s to clear interrupts
//   0x048 RW  DMACR  bit 0 RXDMAE, bit 1 TXDMAE (request outputs on), bit 2 DMAONERR (no RX
//                    request while the overrun interrupt is raised)
//   0xfe0..0xffc RO  peripheral and PrimeCell ids (PL011 r1p5)
// Interrupts, one line (UARTINTR): RX while the RX FIFO holds its level or more (cleared by
// reading below it); TX when a character leaving the TX FIFO takes it to its level or below
// (cleared by writing above it), so an idle empty FIFO raises nothing until something went
// out; RT when characters wait in the RX FIFO and nothing arrived for 32 bit periods (cleared
// by emptying the FIFO); OE when a character arrived with the RX FIFO full (it is lost).
// DMA requests (burst requests only): rx while RXDMAE and the RX FIFO holds its level or more,
// tx while TXDMAE and the TX FIFO holds its level or less; a controller's burst must fit
// (no larger than the RX level, no larger than the room above the TX level), or it reads an
// empty FIFO or writes a full one, which dmalab reports. Whatever stays below the RX level
// waits for the RX timeout, as with the real part.
import { M } from '../kernel/machine.ts';
import type { Event } from './clock.ts';
import type { PlatformModel, PlatformNodeHw } from './platform.ts';
import type { MmioRegion } from './bus.ts';
import { DmaRequest, type DmaRequester } from './dmareq.ts';

export const UART_DR = 0x000, UART_RSR = 0x004, UART_FR = 0x018, UART_IBRD = 0x024, UART_FBRD = 0x028,
  UART_LCRH = 0x02c, UART_CR = 0x030, UART_IFLS = 0x034, UART_IMSC = 0x038, UART_RIS = 0x03c, UART_MIS = 0x040,
  UART_ICR = 0x044, UART_DMACR = 0x048;
export const UART_DR_OE = 1 << 11, UART_RSR_OE = 0x08;
export const UART_FR_BUSY = 0x08, UART_FR_RXFE = 0x10, UART_FR_TXFF = 0x20, UART_FR_RXFF = 0x40, UART_FR_TXFE = 0x80;
export const UART_LCRH_PEN = 0x02, UART_LCRH_STP2 = 0x08, UART_LCRH_FEN = 0x10, UART_LCRH_WLEN_8 = 0x60;
export const UART_CR_UARTEN = 0x001, UART_CR_LBE = 0x080, UART_CR_TXE = 0x100, UART_CR_RXE = 0x200;
export const UART_IFLS_TX_SHIFT = 0, UART_IFLS_RX_SHIFT = 3;
export const UART_RXIS = 1 << 4, UART_TXIS = 1 << 5, UART_RTIS = 1 << 6, UART_OEIS = 1 << 10;
export const UART_RXDMAE = 1 << 0, UART_TXDMAE = 1 << 1, UART_DMAONERR = 1 << 2;
/** The reference clock (UARTCLK), as on QEMU's virt board: 24 MHz. */
export const UART_CLK_HZ = 24_000_000;
export const UART_FIFO_DEPTH = 32;
/** Eighths of the FIFO that IFLS codes 0..4 select. */
const IFLS_EIGHTHS = [1, 2, 4, 6, 7];
const ID = [0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1];
const INTS = UART_RXIS | UART_TXIS | UART_RTIS | UART_OEIS;
/** At most this many dmalab lines a device about its overruns. */
const OVERRUN_LINES = 8;

export interface UartOptions {
  /** UARTCLK in Hz (default 24 MHz). */
  clk_hz?: number;
}

/** The far end of the line: it sends characters at the UART's rate and hears what it sends. */
export class UartRemote {
  /** Characters the UART transmitted that reached the far end, in order. */
  readonly heard: number[] = [];
  /** Send back every character heard (a loopback plug on the cable). */
  echo = false;
  /** @internal characters still to go on the line */
  readonly queue: number[] = [];
  constructor(private readonly uart: Uart) {}

  /** Put `bytes` on the line after `after_ns`, back to back at the UART's character time. */
  send(bytes: ArrayLike<number>, after_ns = 0): void {
    const go = () => {
      for (let i = 0; i < bytes.length; i++) this.queue.push(bytes[i]! & 0xff);
      this.uart._line_kick();
    };
    if (after_ns > 0) M.clock.schedule(after_ns, go, 'uart remote');
    else go();
  }
  /** Characters queued at the far end, not yet sent. */
  get pending(): number {
    return this.queue.length;
  }
}

export class Uart implements PlatformModel, DmaRequester {
  readonly name = 'serial';
  readonly compatible = ['dmalab,uart'];
  readonly regions: (MmioRegion & { size: number })[];
  readonly irqs = 1;
  readonly dma_requests: { rx: DmaRequest; tx: DmaRequest };
  readonly remote: UartRemote;
  readonly clk_hz: number;
  node!: PlatformNodeHw;

  // Registers.
  private ibrd = 0; private fbrd = 0; private lcrh = 0; private cr = UART_CR_TXE | UART_CR_RXE;
  private ifls = 2 << UART_IFLS_RX_SHIFT | 2 << UART_IFLS_TX_SHIFT; private imsc = 0; private ris = 0;
  private dmacr = 0; private rsr = 0;
  /** The divisor in use (latched at an LCR_H write): 64ths. */
  private div64 = 0;
  /** RX entries are 12 bits: the character and, at bit 11, OE. */
  private rx: number[] = [];
  private tx: number[] = [];
  private tx_ev: Event | null = null;
  private line_ev: Event | null = null;
  private rt_ev: Event | null = null;
  private overrunning = false;

  /** Counters for tests: characters lost to overruns, TX writes dropped, characters that came
   *  in with the receiver off, reads of an empty RX FIFO. */
  overruns = 0;
  tx_dropped = 0;
  rx_ignored = 0;
  empty_reads = 0;
  private said_overruns = 0;
  private said_empty = false;
  private said_full = false;

  constructor(o: UartOptions = {}) {
    this.clk_hz = o.clk_hz ?? UART_CLK_HZ;
    this.dma_requests = { rx: new DmaRequest(), tx: new DmaRequest() };
    this.remote = new UartRemote(this);
    this.regions = [{ size: 0x1000, read: (off) => this.read(off), write: (off, _s, v) => this.write(off, v) }];
  }
  attach(node: PlatformNodeHw): void {
    this.node = node;
  }
  private get devname(): string {
    return this.node?.dev?.init_name ?? 'uart';
  }

  // ---- timing --------------------------------------------------------------------------------
  /** One bit on the line in ns (Infinity while the baud generator is stopped). */
  bit_ns(): number {
    return this.div64 ? (16 * this.div64 / 64) * 1e9 / this.clk_hz : Infinity;
  }
  /** One character: start bit, data bits, parity, stop bits. */
  char_ns(): number {
    const bits = 1 + 5 + ((this.lcrh >> 5) & 3) + (this.lcrh & UART_LCRH_PEN ? 1 : 0) + (this.lcrh & UART_LCRH_STP2 ? 2 : 1);
    return Math.round(this.bit_ns() * bits);
  }
  private depth(): number {
    return this.lcrh & UART_LCRH_FEN ? UART_FIFO_DEPTH : 1;
  }
  /** RX level: interrupt and request at or above. */
  private rx_level(): number {
    return this.lcrh & UART_LCRH_FEN ? UART_FIFO_DEPTH * IFLS_EIGHTHS[Math.min(4, (this.ifls >> 3) & 7)]! / 8 : 1;
  }
  /** TX level: interrupt and request at or below. */
  private tx_level(): number {
    return this.lcrh & UART_LCRH_FEN ? UART_FIFO_DEPTH * IFLS_EIGHTHS[Math.min(4, this.ifls & 7)]! / 8 : 0;
  }
  private on(bits: number): boolean {
    return (this.cr & (UART_CR_UARTEN | bits)) === (UART_CR_UARTEN | bits);
  }

  // ---- registers -------------------------------------------------------------------------------
  private read(off: number): number {
    if (off >= 0xfe0 && off < 0x1000) return ID[(off - 0xfe0) >> 2]!;
    switch (off) {
      case UART_DR: return this.pop();
      case UART_RSR: return this.rsr;
      case UART_FR: {
        let fr = 0;
        if (this.tx_ev || this.tx.length) fr |= UART_FR_BUSY;
        if (!this.rx.length) fr |= UART_FR_RXFE;
        if (this.rx.length >= this.depth()) fr |= UART_FR_RXFF;
        if (this.tx.length >= this.depth()) fr |= UART_FR_TXFF;
        if (!this.tx.length) fr |= UART_FR_TXFE;
        return fr;
      }
      case UART_IBRD: return this.ibrd;
      case UART_FBRD: return this.fbrd;
      case UART_LCRH: return this.lcrh;
      case UART_CR: return this.cr;
      case UART_IFLS: return this.ifls;
      case UART_IMSC: return this.imsc;
      case UART_RIS: return this.ris;
      case UART_MIS: return this.ris & this.imsc;
      case UART_DMACR: return this.dmacr;
      default: return 0;
    }
  }

  private write(off: number, v: number): void {
    switch (off) {
      case UART_DR: this.push(v & 0xff); return;
      case UART_RSR: this.rsr = 0; return;
      case UART_IBRD: this.ibrd = v & 0xffff; return;
      case UART_FBRD: this.fbrd = v & 0x3f; return;
      case UART_LCRH:
        // Switching the FIFOs on or off flushes them, as the PL011 does.
        if ((v ^ this.lcrh) & UART_LCRH_FEN) { this.rx.length = 0; this.tx.length = 0; }
        this.lcrh = v & 0xff;
        this.div64 = this.ibrd ? this.ibrd * 64 + this.fbrd : 0;
        break;
      case UART_CR: this.cr = v & 0xffff; break;
      case UART_IFLS: this.ifls = v & 0x3f; break;
      case UART_IMSC: this.imsc = v & 0x7ff; break;
      case UART_ICR: this.ris &= ~v; break;
      case UART_DMACR: this.dmacr = v & 7; break;
      default: return;
    }
    this.update();
    this.tx_kick();
    this._line_kick();
  }

  // ---- the FIFOs -------------------------------------------------------------------------------
  private pop(): number {
    const c = this.rx.shift();
    if (c === undefined) {
      this.empty_reads++;
      if (!this.said_empty) {
        this.said_empty = true;
        M.printk(4, `dmalab: ${this.devname}: DR read with the RX FIFO empty (it reads 0): a read that did not check FR.RXFE, or a DMA burst larger than the RX FIFO level`);
      }
      return 0;
    }
    this.overrunning = false;
    if (this.rx.length < this.rx_level()) this.ris &= ~UART_RXIS;
    if (!this.rx.length) this.ris &= ~UART_RTIS;
    this.update();
    return c;
  }

  private push(c: number): void {
    if (this.tx.length >= this.depth()) {
      this.tx_dropped++;
      if (!this.said_full) {
        this.said_full = true;
        M.printk(4, `dmalab: ${this.devname}: DR written with the TX FIFO full: the character is dropped (a write that did not check FR.TXFF, or a DMA burst larger than the room above the TX FIFO level)`);
      }
      return;
    }
    this.tx.push(c);
    if (this.tx.length > this.tx_level()) this.ris &= ~UART_TXIS;
    this.update();
    this.tx_kick();
  }

  /** The transmitter: the next character leaves the FIFO for the shift register. */
  private tx_kick(): void {
    if (this.tx_ev || !this.tx.length || !this.on(UART_CR_TXE)) return;
    const t = this.char_ns();
    if (!Number.isFinite(t)) return;
    const c = this.tx.shift()!;
    if (this.tx.length <= this.tx_level()) this.ris |= UART_TXIS;
    this.tx_ev = M.clock.schedule(t, () => {
      this.tx_ev = null;
      if (this.cr & UART_CR_LBE) this.receive(c);
      else {
        this.remote.heard.push(c);
        if (this.remote.echo) this.remote.send([c]);
      }
      this.tx_kick();
    }, 'uart tx');
    // Last: the interrupt this raises may run the driver's handler at once, which writes DR.
    this.update();
  }

  /** @internal the far end's transmitter: its next character arrives one character time on. */
  _line_kick(): void {
    if (this.line_ev || !this.remote.queue.length) return;
    const t = this.char_ns();
    if (!Number.isFinite(t)) return;
    this.line_ev = M.clock.schedule(t, () => {
      this.line_ev = null;
      const c = this.remote.queue.shift()!;
      // In loopback the receiver listens to the transmitter, not to the line.
      if (this.cr & UART_CR_LBE) this.rx_ignored++;
      else this.receive(c);
      this._line_kick();
    }, 'uart rx');
  }

  /** A character at the receiver's input. */
  private receive(c: number): void {
    if (!this.on(UART_CR_RXE)) {
      this.rx_ignored++;
      return;
    }
    if (this.rx.length >= this.depth()) {
      this.overruns++;
      this.rsr |= UART_RSR_OE;
      this.ris |= UART_OEIS;
      this.rx[this.rx.length - 1]! |= UART_DR_OE;
      if (!this.overrunning) {
        this.overrunning = true;
        if (this.said_overruns++ < OVERRUN_LINES) {
          M.printk(4, `dmalab: ${this.devname}: RX FIFO overrun: a character arrived with the FIFO full and is lost (${this.overruns} lost so far): nothing drained the FIFO in time`);
        }
      }
    } else {
      this.rx.push(c);
      if (this.rx.length >= this.rx_level()) this.ris |= UART_RXIS;
    }
    // The receive timeout counts 32 bit periods from the last character in.
    M.clock.cancel(this.rt_ev);
    this.rt_ev = M.clock.schedule(Math.round(32 * this.bit_ns()), () => {
      this.rt_ev = null;
      if (this.rx.length) { this.ris |= UART_RTIS; this.update(); }
    }, 'uart rx timeout');
    this.update();
  }

  /** The interrupt line and the DMA request outputs follow the FIFOs and the registers. */
  private update(): void {
    this.node?.set_irq(0, (this.ris & this.imsc & INTS) !== 0);
    const rx_blocked = this.dmacr & UART_DMAONERR && this.ris & UART_OEIS;
    this.dma_requests.rx.set(!!(this.dmacr & UART_RXDMAE) && !rx_blocked && this.rx.length >= this.rx_level());
    this.dma_requests.tx.set(!!(this.dmacr & UART_TXDMAE) && this.tx.length <= this.tx_level());
  }

  /** For tests: the FIFO levels. */
  get rx_count(): number { return this.rx.length; }
  get tx_count(): number { return this.tx.length; }
}
