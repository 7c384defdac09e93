// A test-only DMA controller whose "transfers" are a countdown: it moves no data, it only lets
// virtual time pass at 100 bytes per microsecond and raises its channel's interrupt at the end
// (or every period in cyclic mode). Enough to exercise the dmaengine framework, cookies,
// callbacks, residue, pause and terminate, before a real controller model exists.
//
// Channel n's registers at 0x20 * n (32-bit):
//   0x00  RW  LEN     bytes to count down (latched by START)
//   0x04  RO  LEFT    bytes left, counted in 16-byte bursts
//   0x08  RW  CTRL    bit 0 START, bit 1 PAUSE, bit 2 ABORT (stops, self-clearing), bit 3 IRQ_EN,
//                     bit 4 CYCLIC (starts over at the end)
//   0x0c  RW  PERIOD  cyclic: interrupt every PERIOD bytes (0: once per LEN)
//   0x10  RW1C STATUS bit 0 BUSY (RO), bit 1 DONE, bit 2 PAUSED (RO), bit 3 PERIOD
// One interrupt output per channel, level, while DONE or PERIOD is set and IRQ_EN.
import { M } from '../../kernel/machine.ts';
import type { Event } from '../../hw/clock.ts';
import type { PlatformModel, PlatformNodeHw } from '../../hw/platform.ts';
import type { BarModel } from '../../hw/pci.ts';

export const TK_LEN = 0x00, TK_LEFT = 0x04, TK_CTRL = 0x08, TK_PERIOD = 0x0c, TK_STATUS = 0x10;
export const TK_START = 1, TK_PAUSE = 2, TK_ABORT = 4, TK_IRQ_EN = 8, TK_CYCLIC = 16;
export const TK_BUSY = 1, TK_DONE = 2, TK_PAUSED = 4, TK_PERIOD_IRQ = 8;
const NS_PER_BYTE = 10, BURST = 16;

class Chan {
  len = 0; period = 0; ctrl = 0; status = 0;
  /** Bytes left at `since` (time of the last start or resume). */
  left = 0; since = 0; next_irq = 0;
  ev: Event | null = null;
}

export class Ticker implements PlatformModel {
  readonly name = 'dma-controller';
  readonly compatible = ['dmalab,ticker-dma'];
  readonly regions: BarModel[];
  readonly irqs: number;
  readonly ch: Chan[];
  node!: PlatformNodeHw;

  constructor(readonly nchan = 4) {
    this.irqs = nchan;
    this.ch = Array.from({ length: nchan }, () => new Chan());
    this.regions = [{ size: 0x1000, read: (o) => this.read(o), write: (o, _s, v) => this.write(o, v) }];
  }
  attach(node: PlatformNodeHw): void {
    this.node = node;
  }

  private now_left(c: Chan): number {
    if (!(c.status & TK_BUSY) || c.status & TK_PAUSED) return c.left;
    return Math.max(0, c.left - Math.floor((M.clock.now - c.since) / NS_PER_BYTE));
  }

  private read(off: number): number {
    const c = this.ch[off >> 5];
    if (!c) return 0xffffffff;
    switch (off & 0x1f) {
      case TK_LEN: return c.len;
      case TK_LEFT: return Math.ceil(this.now_left(c) / BURST) * BURST;
      case TK_CTRL: return c.ctrl;
      case TK_PERIOD: return c.period;
      case TK_STATUS: return c.status;
      default: return 0xffffffff;
    }
  }

  private write(off: number, v: number): void {
    const i = off >> 5, c = this.ch[i];
    if (!c) return;
    switch (off & 0x1f) {
      case TK_LEN: c.len = v; break;
      case TK_PERIOD: c.period = v; break;
      case TK_STATUS: c.status &= ~(v & (TK_DONE | TK_PERIOD_IRQ)); this.irq(i); break;
      case TK_CTRL: this.ctrl(i, c, v); break;
    }
  }

  private ctrl(i: number, c: Chan, v: number): void {
    if (v & TK_ABORT) {
      M.clock.cancel(c.ev);
      c.ev = null;
      c.status &= ~(TK_BUSY | TK_PAUSED);
      c.ctrl = 0;
      c.left = 0;
      this.irq(i);
      return;
    }
    const was = c.ctrl;
    c.ctrl = v & ~TK_ABORT;
    if (v & TK_START && !(c.status & TK_BUSY)) {
      c.status |= TK_BUSY;
      c.left = c.len;
      c.since = M.clock.now;
      c.next_irq = c.period && v & TK_CYCLIC ? c.period : c.len;
      this.arm(i, c);
    }
    if (v & TK_PAUSE && !(was & TK_PAUSE) && c.status & TK_BUSY) {
      c.left = this.now_left(c);
      c.status |= TK_PAUSED;
      M.clock.cancel(c.ev);
      c.ev = null;
    } else if (!(v & TK_PAUSE) && was & TK_PAUSE && c.status & TK_PAUSED) {
      c.status &= ~TK_PAUSED;
      c.since = M.clock.now;
      this.arm(i, c);
    }
  }

  /** The next event: the end of the current period (or of the whole length). */
  private arm(i: number, c: Chan): void {
    const done = c.len - c.left;
    const to = Math.max(0, c.next_irq - done);
    c.ev = M.clock.schedule(to * NS_PER_BYTE, () => this.tick(i, c), 'ticker');
  }

  private tick(i: number, c: Chan): void {
    c.ev = null;
    c.left = Math.max(0, c.len - c.next_irq);
    c.since = M.clock.now;
    if (c.ctrl & TK_CYCLIC) {
      c.status |= TK_PERIOD_IRQ;
      c.next_irq += c.period || c.len;
      if (c.left === 0) {
        c.left = c.len;
        c.next_irq = c.period || c.len;
      }
      this.arm(i, c);
    } else {
      c.status = (c.status & ~TK_BUSY) | TK_DONE;
      c.ctrl &= ~TK_START;
    }
    this.irq(i);
  }

  private irq(i: number): void {
    const c = this.ch[i]!;
    this.node.set_irq(i, !!(c.ctrl & TK_IRQ_EN) && !!(c.status & (TK_DONE | TK_PERIOD_IRQ)));
  }
}

/** A peripheral with one 4 KiB register window (a FIFO at 0x0) and nothing else: a DMA client. */
export class FifoPeripheral implements PlatformModel {
  readonly name = 'serial';
  readonly compatible = ['dmalab,fifo-client'];
  readonly regions: BarModel[] = [{ size: 0x1000, read: () => 0, write: () => {} }];
  readonly irqs = 0;
  node!: PlatformNodeHw;
  attach(node: PlatformNodeHw): void {
    this.node = node;
  }
}
