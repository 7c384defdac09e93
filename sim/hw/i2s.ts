// An I2S-like audio serializer (the CPU side of an SoC's I2S block, as Linux's ASoC CPU DAI
// drivers drive them, e.g. sound/soc/dwc/dwc-i2s.c), simplified: one stereo frame of two 16-bit
// samples is one 32-bit FIFO word; a frame clock derived from MCLK takes one word from the TX
// FIFO to the codec and brings one from it into the RX FIFO, steadily, whether the driver kept
// up or not. So a late driver is heard: the TX FIFO empty at a frame clock plays silence (an
// underrun), the RX FIFO full loses the frame (an overrun); both are counted, flagged, raise
// an interrupt, and dmalab says so. The codec (I2sCodec) records what was played and delivers
// what the microphone hears (a deterministic ramp unless a test gives its own).
//
// Registers (32-bit):
//   0x00 RW  CTRL      bit 0 EN (the frame clock runs; CLKDIV is latched when it is set), bit 1
//                      TXE (frames go out), bit 2 RXE (frames come in), bit 3 TXDMAE, bit 4 RXDMAE
//                      (request outputs on), bit 5 LOOP (RX hears TX instead of the codec), bit 6
//                      TXFLUSH, bit 7 RXFLUSH (empty the FIFO; they read 0)
//   0x04 RW  CLKDIV    MCLK (12.288 MHz) cycles per frame: 256 gives 48 kHz (reset); below 32 the
//                      clock does not run
//   0x08 RW  FIFOCTL   [3:0] TXWM: the TX request and interrupt while the TX level is at or below
//                      it; [11:8] RXWM: the RX ones while the RX level is at or above it (0 as 1)
//   0x0c RO  STATUS    [4:0] TX level, [12:8] RX level (0..16), bit 16 TXUR, bit 17 RXOR (as in
//                      INTSTAT)
//   0x10 RW  INTMASK   1 enables: bit 0 TX, bit 1 RX, bit 2 TXUR, bit 3 RXOR
//   0x14 RW  INTSTAT   bit 0 TX, bit 1 RX (follow the levels), bit 2 TXUR (an underrun), bit 3
//                      RXOR (an overrun): write 1s to clear those two
//   0x18 RW  TXUR_CNT  frames played as silence because the TX FIFO was empty (a write clears)
//   0x1c RW  RXOR_CNT  frames lost because the RX FIFO was full (a write clears)
//   0x20 RO  FRAMES    frame clocks since EN was last set
//   0x40 WO  TXDATA    push a frame: [15:0] left, [31:16] right (dropped when the FIFO is full)
//   0x80 RO  RXDATA    pop a frame (0 when the FIFO is empty)
// FIFOs of 16 frames. One interrupt line; request outputs 'tx' and 'rx' (burst requests: a
// controller's burst must fit in the room above TXWM, and in what RXWM guarantees).
import { M } from '../kernel/machine.ts';
import type { Event } from './clock.ts';
import type { PlatformModel, PlatformNodeHw } from './platform.ts';
import type { MmioRegion } from './bus.ts';
import { DmaRequest, type DmaRequester } from './dmareq.ts';

export const I2S_CTRL = 0x00, I2S_CLKDIV = 0x04, I2S_FIFOCTL = 0x08, I2S_STATUS = 0x0c, I2S_INTMASK = 0x10,
  I2S_INTSTAT = 0x14, I2S_TXUR_CNT = 0x18, I2S_RXOR_CNT = 0x1c, I2S_FRAMES = 0x20, I2S_TXDATA = 0x40, I2S_RXDATA = 0x80;
export const I2S_CTRL_EN = 1 << 0, I2S_CTRL_TXE = 1 << 1, I2S_CTRL_RXE = 1 << 2, I2S_CTRL_TXDMAE = 1 << 3,
  I2S_CTRL_RXDMAE = 1 << 4, I2S_CTRL_LOOP = 1 << 5, I2S_CTRL_TXFLUSH = 1 << 6, I2S_CTRL_RXFLUSH = 1 << 7;
export const I2S_FIFOCTL_TXWM_SHIFT = 0, I2S_FIFOCTL_RXWM_SHIFT = 8;
export const I2S_STATUS_TXUR = 1 << 16, I2S_STATUS_RXOR = 1 << 17;
export const I2S_INT_TX = 1 << 0, I2S_INT_RX = 1 << 1, I2S_INT_TXUR = 1 << 2, I2S_INT_RXOR = 1 << 3;
export const I2S_FIFO_DEPTH = 16;
export const I2S_MCLK_HZ = 12_288_000;
/** At most this many dmalab lines a device about its underruns (and as many about overruns). */
const XRUN_LINES = 8;

/** The codec at the other end of the serial link. */
export class I2sCodec {
  /** Frames played, in order (an underrun plays 0). */
  readonly played: number[] = [];
  /** The frame the microphone gives at the n-th RX frame clock (default: a ramp, left n, right
   *  its complement). */
  capture: (n: number) => number = (n) => ((n & 0xffff) | ((~n & 0xffff) << 16)) >>> 0;
  /** RX frame clocks so far (the argument to capture). */
  captured = 0;
}

export class I2s implements PlatformModel, DmaRequester {
  readonly name = 'i2s';
  readonly compatible = ['dmalab,i2s'];
  readonly regions: (MmioRegion & { size: number })[];
  readonly irqs = 1;
  readonly dma_requests: { tx: DmaRequest; rx: DmaRequest };
  readonly codec = new I2sCodec();
  node!: PlatformNodeHw;

  private ctrl = 0; private clkdiv = 256; private fifoctl = 0; private intmask = 0; private sticky = 0;
  private tx: number[] = [];
  private rx: number[] = [];
  /** The frame clock: when EN was set, the divisor latched then, frames since. */
  private t0 = 0; private div = 256; private ev: Event | null = null;
  /** Frame clocks since EN, underrun and overrun counts (TXUR_CNT, RXOR_CNT). */
  frames = 0;
  underruns = 0;
  overruns = 0;
  private in_underrun = false; private in_overrun = false;
  private said_ur = 0; private said_or = 0; private said_full = false; private said_empty = false;

  constructor() {
    this.dma_requests = { tx: new DmaRequest(), rx: new DmaRequest() };
    this.regions = [{ size: 0x1000, read: (off) => this.read(off), write: (off, _s, v) => this.write(off, v) }];
  }
  attach(node: PlatformNodeHw): void {
    this.node = node;
  }
  private get devname(): string {
    return this.node?.dev?.init_name ?? 'i2s';
  }

  /** One frame in ns at the latched divisor (48 kHz: 20833.3). */
  frame_ns(): number {
    return this.div * 1e9 / I2S_MCLK_HZ;
  }
  private txwm(): number { return (this.fifoctl >> I2S_FIFOCTL_TXWM_SHIFT) & 0xf; }
  private rxwm(): number { return Math.max(1, (this.fifoctl >> I2S_FIFOCTL_RXWM_SHIFT) & 0xf); }

  private read(off: number): number {
    switch (off) {
      case I2S_CTRL: return this.ctrl;
      case I2S_CLKDIV: return this.clkdiv;
      case I2S_FIFOCTL: return this.fifoctl;
      case I2S_STATUS: return (this.tx.length | this.rx.length << 8 | (this.sticky & I2S_INT_TXUR ? I2S_STATUS_TXUR : 0) |
        (this.sticky & I2S_INT_RXOR ? I2S_STATUS_RXOR : 0)) >>> 0;
      case I2S_INTMASK: return this.intmask;
      case I2S_INTSTAT: return this.intstat();
      case I2S_TXUR_CNT: return this.underruns >>> 0;
      case I2S_RXOR_CNT: return this.overruns >>> 0;
      case I2S_FRAMES: return this.frames >>> 0;
      case I2S_RXDATA: return this.pop();
      default: return 0;
    }
  }

  private write(off: number, v: number): void {
    switch (off) {
      case I2S_CTRL: this.set_ctrl(v); break;
      case I2S_CLKDIV: this.clkdiv = v & 0xffff; break;
      case I2S_FIFOCTL: this.fifoctl = v & 0xf0f; break;
      case I2S_INTMASK: this.intmask = v & 0xf; break;
      case I2S_INTSTAT: this.sticky &= ~(v & (I2S_INT_TXUR | I2S_INT_RXOR)); break;
      case I2S_TXUR_CNT: this.underruns = 0; break;
      case I2S_RXOR_CNT: this.overruns = 0; break;
      case I2S_TXDATA: this.push(v >>> 0); break;
      default: return;
    }
    this.update();
  }

  private set_ctrl(v: number): void {
    if (v & I2S_CTRL_TXFLUSH) this.tx.length = 0;
    if (v & I2S_CTRL_RXFLUSH) this.rx.length = 0;
    const was = this.ctrl;
    this.ctrl = v & 0x3f;
    if (v & ~was & I2S_CTRL_TXE) this.in_underrun = false;
    if (v & ~was & I2S_CTRL_RXE) this.in_overrun = false;
    if (v & I2S_CTRL_EN && !(was & I2S_CTRL_EN)) {
      this.div = this.clkdiv;
      this.t0 = M.clock.now;
      this.frames = 0;
      this.in_underrun = this.in_overrun = false;
      this.arm();
    } else if (!(v & I2S_CTRL_EN) && was & I2S_CTRL_EN) {
      M.clock.cancel(this.ev);
      this.ev = null;
    }
  }

  /** The next frame clock, on the grid from EN (so the rate never drifts). */
  private arm(): void {
    if (this.div < 32) return;
    const at = this.t0 + Math.round((this.frames + 1) * this.frame_ns());
    this.ev = M.clock.schedule(at - M.clock.now, () => this.frame(), 'i2s frame');
  }

  private frame(): void {
    this.ev = null;
    this.frames++;
    let out = 0;
    if (this.ctrl & I2S_CTRL_TXE) {
      const f = this.tx.shift();
      if (f !== undefined) {
        out = f;
        this.in_underrun = false;
      } else {
        this.underruns++;
        this.sticky |= I2S_INT_TXUR;
        if (!this.in_underrun) {
          this.in_underrun = true;
          if (this.said_ur++ < XRUN_LINES) {
            M.printk(4, `dmalab: ${this.devname}: TX underrun: the FIFO was empty at a frame clock, silence played (${this.underruns} frame${this.underruns === 1 ? '' : 's'} so far): the driver (or its DMA) was late refilling it`);
          }
        }
      }
      this.codec.played.push(out);
    }
    if (this.ctrl & I2S_CTRL_RXE) {
      const f = this.ctrl & I2S_CTRL_LOOP ? out : this.codec.capture(this.codec.captured++);
      if (this.rx.length < I2S_FIFO_DEPTH) {
        this.rx.push(f >>> 0);
        this.in_overrun = false;
      } else {
        this.overruns++;
        this.sticky |= I2S_INT_RXOR;
        if (!this.in_overrun) {
          this.in_overrun = true;
          if (this.said_or++ < XRUN_LINES) {
            M.printk(4, `dmalab: ${this.devname}: RX overrun: a frame arrived with the FIFO full and is lost (${this.overruns} frame${this.overruns === 1 ? '' : 's'} so far): the driver (or its DMA) was late draining it`);
          }
        }
      }
    }
    // The next clock first: the interrupt may run the driver's handler at once, which may stop it.
    this.arm();
    this.update();
  }

  private push(f: number): void {
    if (this.tx.length >= I2S_FIFO_DEPTH) {
      if (!this.said_full) {
        this.said_full = true;
        M.printk(4, `dmalab: ${this.devname}: TXDATA written with the TX FIFO full: the frame is dropped (a write that did not check the level, or a DMA burst larger than the room above TXWM)`);
      }
      return;
    }
    this.tx.push(f);
  }

  private pop(): number {
    const f = this.rx.shift();
    if (f === undefined) {
      if (!this.said_empty) {
        this.said_empty = true;
        M.printk(4, `dmalab: ${this.devname}: RXDATA read with the RX FIFO empty (it reads 0): a read that did not check the level, or a DMA burst larger than RXWM`);
      }
      return 0;
    }
    this.update();
    return f;
  }

  private intstat(): number {
    return (this.tx.length <= this.txwm() ? I2S_INT_TX : 0) | (this.rx.length >= this.rxwm() ? I2S_INT_RX : 0) | this.sticky;
  }

  /** The interrupt line and the request outputs follow the levels. */
  private update(): void {
    this.node?.set_irq(0, (this.intstat() & this.intmask) !== 0);
    this.dma_requests.tx.set(!!(this.ctrl & I2S_CTRL_TXDMAE) && this.tx.length <= this.txwm());
    this.dma_requests.rx.set(!!(this.ctrl & I2S_CTRL_RXDMAE) && this.rx.length >= this.rxwm());
  }

  /** For tests: the FIFO levels. */
  get tx_count(): number { return this.tx.length; }
  get rx_count(): number { return this.rx.length; }
}
