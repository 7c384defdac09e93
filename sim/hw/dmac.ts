// A DMA controller modelled on ARM's PL080 (PrimeCell DMAC, DDI 0196; the class Linux drives
// with drivers/dma/amba-pl08x.c), simplified: N channels, each programmed with source,
// destination, control (size, widths, bursts, increments, interrupt) and configuration (enable,
// peripheral request lines, flow, interrupt masks, halt), and a linked-list pointer to further
// descriptors (LLIs) in memory that the channel fetches and runs without the CPU. Every byte,
// and every LLI fetch, goes through the system's DMA accessor (hw/bus.ts), so an unmapped or
// freed buffer is caught, or faults behind an IOMMU, as any device's access would be. A bus
// error stops the channel and raises its error interrupt.
//
// Registers (32-bit; offsets from the window's base):
//   0x000 RO  INT_STATUS      bit n: channel n has a TC or error interrupt pending (unmasked)
//   0x004 RO  INT_TC_STATUS   bit n: terminal count interrupt pending (masked by CONFIG.ITC)
//   0x008 WO  INT_TC_CLEAR    write 1s to clear terminal count interrupts
//   0x00c RO  INT_ERR_STATUS  bit n: error interrupt pending (masked by CONFIG.IE)
//   0x010 WO  INT_ERR_CLEAR   write 1s to clear error interrupts
//   0x014 RO  RAW_TC_STATUS   before masking
//   0x018 RO  RAW_ERR_STATUS  before masking
//   0x01c RO  ENBLD_CHNS      bit n: channel n enabled
//   0x030 RW  CONFIG          bit 0 E: the controller is enabled (nothing runs without it)
//   0x034 RO  CAPS            [3:0] channels, [5:4] residue (0 descriptor, 1 segment, 2 burst),
//                             bit 6 the channels can halt (pause)
//   0x100 + 0x20 * n: channel n
//     +0x00 RW SRC      source bus address
//     +0x04 RW DST      destination bus address
//     +0x08 RW LLI      bus address of the next LLI (16-byte aligned; 0: this is the last)
//     +0x0c RW CONTROL  [11:0] TRANSFER_SIZE in source-width units (reads what is left, as the
//                       residue variant allows), [14:12] SBSIZE, [17:15] DBSIZE (burst of
//                       1, 4, 8, 16, 32, 64, 128, 256 beats), [20:18] SWIDTH, [23:21] DWIDTH
//                       (0: 1 byte, 1: 2, 2: 4), bit 26 SI, bit 27 DI (increment the address),
//                       bit 31 I (terminal count interrupt when this LLI completes)
//     +0x10 RW CONFIG   bit 0 E (enable: starts the channel; writing 0 aborts it), [4:1]
//                       SRC_PERIPH, [9:6] DST_PERIPH (request lines), [13:11] FLOW (0 mem to
//                       mem, 1 mem to peripheral, 2 peripheral to mem), bit 14 IE, bit 15 ITC
//                       (interrupt masks: 1 lets it through), bit 17 A (active, RO), bit 18 H
//                       (halt: no more requests are taken; needs CAPS bit 6), bit 19 (RO) the
//                       last bus error was on a write
// An LLI in memory is 16 bytes, little-endian: SRC, DST, LLI, CONTROL.
// Timing: a memory-to-memory channel moves a byte per ns; a peripheral flow moves a burst (20 ns
// a beat) whenever the peripheral's request line (Dmac.request()) asks for one. Data moves when
// a segment ends, or as far as it got when it is halted or aborted (TRANSFER_SIZE counts down
// by bursts meanwhile, as the residue variant shows it). One interrupt output per channel.
// Options: the number of channels, the residue granularity, whether channels can halt.
import { M } from '../kernel/machine.ts';
import type { Event } from './clock.ts';
import type { Site } from '../kernel/site.ts';
import type { device } from '../base/device.ts';
import type { PlatformModel, PlatformNodeHw } from './platform.ts';
import type { MmioRegion } from './bus.ts';
import { dma_read, dma_write, dma_copy, dma_transfer_begin, dma_transfer_end, type BusMaster, type DmaTransfer } from './bus.ts';

export const DMAC_INT_STATUS = 0x000, DMAC_INT_TC_STATUS = 0x004, DMAC_INT_TC_CLEAR = 0x008,
  DMAC_INT_ERR_STATUS = 0x00c, DMAC_INT_ERR_CLEAR = 0x010, DMAC_RAW_TC_STATUS = 0x014,
  DMAC_RAW_ERR_STATUS = 0x018, DMAC_ENBLD_CHNS = 0x01c, DMAC_CONFIG = 0x030, DMAC_CAPS = 0x034;
export const DMAC_CH_BASE = 0x100, DMAC_CH_STRIDE = 0x20;
export const DMAC_CH_SRC = 0x00, DMAC_CH_DST = 0x04, DMAC_CH_LLI = 0x08, DMAC_CH_CONTROL = 0x0c, DMAC_CH_CONFIG = 0x10;
export const DMAC_CONFIG_E = 1;
export const DMAC_CTL_SIZE_MASK = 0xfff, DMAC_CTL_SBSIZE_SHIFT = 12, DMAC_CTL_DBSIZE_SHIFT = 15,
  DMAC_CTL_SWIDTH_SHIFT = 18, DMAC_CTL_DWIDTH_SHIFT = 21, DMAC_CTL_SI = 1 << 26, DMAC_CTL_DI = 1 << 27,
  DMAC_CTL_I = 0x80000000;
export const DMAC_CFG_E = 1, DMAC_CFG_SRC_PERIPH_SHIFT = 1, DMAC_CFG_DST_PERIPH_SHIFT = 6, DMAC_CFG_FLOW_SHIFT = 11,
  DMAC_CFG_IE = 1 << 14, DMAC_CFG_ITC = 1 << 15, DMAC_CFG_A = 1 << 17, DMAC_CFG_H = 1 << 18, DMAC_CFG_ERR_WRITE = 1 << 19;
export const DMAC_FLOW_MEM2MEM = 0, DMAC_FLOW_MEM2PER = 1, DMAC_FLOW_PER2MEM = 2;
export const DMAC_CAPS_PAUSE = 1 << 6;
export const DMAC_LLI_SIZE = 16;
/** Burst sizes SBSIZE/DBSIZE select. */
export const DMAC_BURSTS = [1, 4, 8, 16, 32, 64, 128, 256];
/** Memory-to-memory speed: 1 byte per ns. */
const NS_PER_BYTE = 1;
/** A burst for a peripheral takes this long once requested. */
const NS_PER_BEAT = 20;

export type ResidueGranularity = 'descriptor' | 'segment' | 'burst';
export interface DmacOptions {
  channels?: number;
  /** What TRANSFER_SIZE shows while a segment runs (default 'burst'). */
  residue?: ResidueGranularity;
  /** Can a channel halt? (default true) */
  pause?: boolean;
}

/** One channel's working state: the registers, and the segment (LLI) in progress. */
class Chan {
  src = 0; dst = 0; lli = 0; control = 0; config = 0;
  /** Segment in progress: its size in bytes, the bytes moved, when it (re)started moving. */
  seg_bytes = 0; moved = 0; since = 0; running = false;
  /** The last bus error was on a write (CONFIG bit 19). */
  err_write = false;
  ev: Event | null = null;
  reads: DmaTransfer = null; writes: DmaTransfer = null;
  /** The event callbacks (made once: a segment's end, a burst's). */
  seg_end: () => void = () => {};
  burst_end: () => void = () => {};
  burst = 0;
  /** The names of its transfers in reports, kept while the segment size stays the same (an
   *  LLI chain of equal segments builds them once). */
  what_bytes = -1; what_read = ''; what_write = '';
}

export class Dmac implements PlatformModel, BusMaster {
  readonly name = 'dma-controller';
  readonly compatible = ['dmalab,dmac'];
  readonly regions: (MmioRegion & { size: number })[];
  readonly irqs: number;
  readonly residue: ResidueGranularity;
  readonly can_pause: boolean;
  private ch: Chan[];
  private enabled = false;
  private raw_tc = 0;
  private raw_err = 0;
  /** Request lines asserted by peripherals (bit n: line n). */
  private requests = 0;
  /** The interrupt outputs as last driven (bit n: channel n's). */
  private lines = 0;
  node!: PlatformNodeHw;
  dma_site: Site = 0;
  /** A scratch buffer for the bytes in flight. */
  private buf = new Uint8Array(1 << 16);
  /** Where an LLI fetch lands. */
  private lli = new Uint8Array(DMAC_LLI_SIZE);
  private lli_view = new DataView(this.lli.buffer);

  constructor(o: DmacOptions = {}) {
    const n = o.channels ?? 8;
    this.irqs = n;
    this.residue = o.residue ?? 'burst';
    this.can_pause = o.pause ?? true;
    this.ch = Array.from({ length: n }, (_, i) => {
      const c = new Chan();
      c.seg_end = () => { c.ev = null; this.step(i, c, c.seg_bytes); };
      c.burst_end = () => { c.ev = null; this.step(i, c, c.moved + c.burst); };
      return c;
    });
    this.regions = [{ size: 0x1000, read: (off: number) => this.read(off), write: (off: number, _s: number, v: number) => this.write(off, v) }];
  }
  attach(node: PlatformNodeHw): void {
    this.node = node;
  }

  // ---- BusMaster: the controller's own accesses ----------------------------------------------
  get dev(): device | null { return this.node?.dev ?? null; }
  master_enabled(): boolean { return true; }
  master_disabled(): void {}
  get bdf(): string { return this.dev?.init_name ?? 'dmac'; }
  get devfn(): number { return this.node?.stream_id ?? 0; }

  /** A peripheral asserts or releases request line `line` (its FIFO wants a burst). */
  request(line: number, on: boolean): void {
    const was = this.requests;
    this.requests = on ? this.requests | 1 << line : this.requests & ~(1 << line);
    if (this.requests !== was && on) this.ch.forEach((c, i) => { if (this.waits_on(c) === line) this.kick(i, c); });
  }

  // ---- registers -------------------------------------------------------------------------------
  private read(off: number): number {
    if (off >= DMAC_CH_BASE) {
      const i = (off - DMAC_CH_BASE) >> 5, c = this.ch[i];
      if (!c) return 0;
      switch ((off - DMAC_CH_BASE) & 0x1f) {
        case DMAC_CH_SRC: return c.src >>> 0;
        case DMAC_CH_DST: return c.dst >>> 0;
        case DMAC_CH_LLI: return c.lli >>> 0;
        case DMAC_CH_CONTROL: return ((c.control & ~DMAC_CTL_SIZE_MASK) | this.size_left(c)) >>> 0;
        case DMAC_CH_CONFIG: return (c.config | (c.running ? DMAC_CFG_A : 0) | (c.err_write ? DMAC_CFG_ERR_WRITE : 0)) >>> 0;
        default: return 0;
      }
    }
    const mask_tc = this.mask(DMAC_CFG_ITC), mask_err = this.mask(DMAC_CFG_IE);
    switch (off) {
      case DMAC_INT_STATUS: return ((this.raw_tc & mask_tc) | (this.raw_err & mask_err)) >>> 0;
      case DMAC_INT_TC_STATUS: return (this.raw_tc & mask_tc) >>> 0;
      case DMAC_INT_ERR_STATUS: return (this.raw_err & mask_err) >>> 0;
      case DMAC_RAW_TC_STATUS: return this.raw_tc >>> 0;
      case DMAC_RAW_ERR_STATUS: return this.raw_err >>> 0;
      case DMAC_ENBLD_CHNS: return this.ch.reduce((b, c, i) => (c.config & DMAC_CFG_E ? b | 1 << i : b), 0) >>> 0;
      case DMAC_CONFIG: return this.enabled ? DMAC_CONFIG_E : 0;
      case DMAC_CAPS: return this.ch.length | ['descriptor', 'segment', 'burst'].indexOf(this.residue) << 4 | (this.can_pause ? DMAC_CAPS_PAUSE : 0);
      default: return 0;
    }
  }

  private write(off: number, v: number): void {
    if (off >= DMAC_CH_BASE) {
      const i = (off - DMAC_CH_BASE) >> 5, c = this.ch[i];
      if (!c) return;
      const reg = (off - DMAC_CH_BASE) & 0x1f;
      // The programming registers are not to be written while the channel is enabled: here
      // such a write is ignored.
      if (reg !== DMAC_CH_CONFIG && c.config & DMAC_CFG_E) return;
      switch (reg) {
        case DMAC_CH_SRC: c.src = v >>> 0; break;
        case DMAC_CH_DST: c.dst = v >>> 0; break;
        case DMAC_CH_LLI: c.lli = (v & ~0xf) >>> 0; break;
        case DMAC_CH_CONTROL: c.control = v >>> 0; break;
        case DMAC_CH_CONFIG: this.config(i, c, v >>> 0); break;
      }
      return;
    }
    switch (off) {
      case DMAC_INT_TC_CLEAR: this.raw_tc &= ~v; this.irqs_changed(); break;
      case DMAC_INT_ERR_CLEAR: this.raw_err &= ~v; this.irqs_changed(); break;
      case DMAC_CONFIG: this.enabled = (v & DMAC_CONFIG_E) !== 0; break;
    }
  }

  private mask(bit: number): number {
    return this.ch.reduce((b, c, i) => (c.config & bit ? b | 1 << i : b), 0);
  }

  private config(i: number, c: Chan, v: number): void {
    const was = c.config;
    // How far it got under the old configuration (a halt or an abort keeps that much).
    const upto = this.done(c);
    if (!this.can_pause) v &= ~DMAC_CFG_H;
    c.config = v & ~DMAC_CFG_A;
    if (!(v & DMAC_CFG_E)) {
      // Disabled: an abort; what is in flight is lost.
      if (was & DMAC_CFG_E) this.stop(c, true, upto);
      return;
    }
    if (!(was & DMAC_CFG_E)) {
      this.dma_site = this.node.last_write_site;
      c.err_write = false;
      this.begin_segment(i, c);
      return;
    }
    if (v & DMAC_CFG_H && !(was & DMAC_CFG_H)) this.halt(c, upto);
    else if (!(v & DMAC_CFG_H) && was & DMAC_CFG_H) this.kick(i, c);
  }

  // ---- the engine ------------------------------------------------------------------------------
  private swidth(c: Chan): number { return 1 << ((c.control >>> DMAC_CTL_SWIDTH_SHIFT) & 7); }
  private dwidth(c: Chan): number { return 1 << ((c.control >>> DMAC_CTL_DWIDTH_SHIFT) & 7); }
  private flow(c: Chan): number { return (c.config >>> DMAC_CFG_FLOW_SHIFT) & 7; }
  private burst(c: Chan): number {
    const per = this.flow(c) === DMAC_FLOW_PER2MEM ? DMAC_CTL_SBSIZE_SHIFT : DMAC_CTL_DBSIZE_SHIFT;
    return DMAC_BURSTS[(c.control >>> per) & 7]! * (this.flow(c) === DMAC_FLOW_PER2MEM ? this.swidth(c) : this.dwidth(c));
  }
  /** The request line a peripheral flow waits on (-1 for memory to memory). */
  private waits_on(c: Chan): number {
    const f = this.flow(c);
    if (f === DMAC_FLOW_MEM2PER) return (c.config >>> DMAC_CFG_DST_PERIPH_SHIFT) & 0xf;
    if (f === DMAC_FLOW_PER2MEM) return (c.config >>> DMAC_CFG_SRC_PERIPH_SHIFT) & 0xf;
    return -1;
  }

  /** TRANSFER_SIZE as software reads it: what is left, as the residue variant reports it. */
  private size_left(c: Chan): number {
    const units = (c.control & DMAC_CTL_SIZE_MASK);
    if (!c.running) return units;
    if (this.residue === 'descriptor') return 0;
    if (this.residue === 'segment') return units;
    const w = this.swidth(c);
    return Math.max(0, Math.ceil((c.seg_bytes - this.done(c)) / w));
  }

  /** Bytes of the segment done by now (whole bursts). */
  private done(c: Chan): number {
    // Not moving: halted, a peripheral flow (it moves by bursts), or waiting for the
    // controller's enable (nothing scheduled).
    if (!c.running || !c.ev || c.config & DMAC_CFG_H || this.flow(c) !== DMAC_FLOW_MEM2MEM) return c.moved;
    const b = this.burst(c);
    const t = Math.floor((M.clock.now - c.since) / NS_PER_BYTE);
    return Math.min(c.seg_bytes, c.moved + Math.floor(t / b) * b);
  }

  private begin_segment(i: number, c: Chan): void {
    c.seg_bytes = (c.control & DMAC_CTL_SIZE_MASK) * this.swidth(c);
    c.moved = 0;
    c.since = M.clock.now;
    c.running = true;
    if (!this.enabled) return; // it waits for the controller to be enabled
    const f = this.flow(c);
    if (c.what_bytes !== c.seg_bytes) {
      const what = `${this.dev?.init_name ?? 'dmac'} channel ${i}`;
      c.what_bytes = c.seg_bytes;
      c.what_read = `${what} read of ${c.seg_bytes} bytes`;
      c.what_write = `${what} write of ${c.seg_bytes} bytes`;
    }
    if (f !== DMAC_FLOW_PER2MEM) c.reads = dma_transfer_begin(this, c.src, c.control & DMAC_CTL_SI ? c.seg_bytes : this.swidth(c), false, c.what_read);
    if (f !== DMAC_FLOW_MEM2PER) c.writes = dma_transfer_begin(this, c.dst, c.control & DMAC_CTL_DI ? c.seg_bytes : this.dwidth(c), true, c.what_write);
    this.kick(i, c);
  }

  /** Schedule the next step: the end of the segment (memory), or a burst (peripheral). */
  private kick(i: number, c: Chan): void {
    if (!c.running || c.config & DMAC_CFG_H || c.ev) return;
    const line = this.waits_on(c);
    if (line < 0) {
      c.since = M.clock.now;
      c.ev = M.clock.schedule((c.seg_bytes - c.moved) * NS_PER_BYTE, c.seg_end, 'dmac');
    } else if (this.requests & 1 << line) {
      const b = Math.min(this.burst(c), c.seg_bytes - c.moved);
      c.burst = b;
      c.ev = M.clock.schedule(NS_PER_BEAT * Math.max(1, b / (this.flow(c) === DMAC_FLOW_PER2MEM ? this.swidth(c) : this.dwidth(c))),
        c.burst_end, 'dmac burst');
    }
  }

  private halt(c: Chan, upto: number): void {
    if (!c.running) return;
    M.clock.cancel(c.ev);
    c.ev = null;
    this.move(c, upto);
  }

  /** Move the segment's bytes [moved, upto) through the accessor; false on a bus error. */
  private move(c: Chan, upto: number): boolean {
    const n = upto - c.moved;
    if (n <= 0) return true;
    const si = (c.control & DMAC_CTL_SI) !== 0, di = (c.control & DMAC_CTL_DI) !== 0;
    if (this.buf.length < n) this.buf = new Uint8Array(Math.max(n, this.buf.length * 2));
    const buf = this.buf;
    if (si && di) {
      const r = dma_copy(this, c.dst + c.moved, c.src + c.moved, n, buf);
      if (r) return this.error(c, r === 2);
      c.moved = upto;
      return true;
    }
    let ok = true;
    if (si) ok = dma_read(this, c.src + c.moved, buf, 0, n);
    else for (let o = 0, w = this.swidth(c); o < n && ok; o += w) ok = dma_read(this, c.src, buf, o, Math.min(w, n - o));
    if (!ok) return this.error(c, false);
    if (di) ok = dma_write(this, c.dst + c.moved, buf, 0, n);
    else for (let o = 0, w = this.dwidth(c); o < n && ok; o += w) ok = dma_write(this, c.dst, buf, o, Math.min(w, n - o));
    if (!ok) return this.error(c, true);
    c.moved = upto;
    return true;
  }

  private step(i: number, c: Chan, upto: number): void {
    if (!this.move(c, upto)) return;
    if (c.moved < c.seg_bytes) {
      this.kick(i, c);
      return;
    }
    // The segment is done: its interrupt, then the next LLI, or the end.
    this.end_transfers(c);
    if (c.control & DMAC_CTL_I) this.raw_tc |= 1 << i;
    const next = c.lli;
    c.control &= ~DMAC_CTL_SIZE_MASK;
    if (next) {
      if (!dma_read(this, next, this.lli, 0, DMAC_LLI_SIZE)) {
        this.error(c, false);
        this.irqs_changed();
        return;
      }
      const dv = this.lli_view;
      c.src = dv.getUint32(0, true);
      c.dst = dv.getUint32(4, true);
      c.lli = (dv.getUint32(8, true) & ~0xf) >>> 0;
      c.control = dv.getUint32(12, true);
      this.begin_segment(i, c);
    } else {
      c.running = false;
      c.config &= ~DMAC_CFG_E;
    }
    this.irqs_changed();
  }

  private end_transfers(c: Chan): void {
    dma_transfer_end(c.reads);
    dma_transfer_end(c.writes);
    c.reads = c.writes = null;
  }

  /** A bus error (an IOMMU fault, nothing at the address): the channel stops, error raised. */
  private error(c: Chan, write: boolean): false {
    const i = this.ch.indexOf(c);
    c.err_write = write;
    this.stop(c, false);
    this.raw_err |= 1 << i;
    this.irqs_changed();
    return false;
  }

  private stop(c: Chan, abort: boolean, upto = this.done(c)): void {
    M.clock.cancel(c.ev);
    c.ev = null;
    if (abort && c.running) this.move(c, upto);
    this.end_transfers(c);
    c.running = false;
    c.config &= ~DMAC_CFG_E;
  }

  /** Each channel's line: its raw terminal count or error, where its mask lets it through. */
  private irqs_changed(): void {
    if (!(this.raw_tc | this.raw_err | this.lines)) return; // all low, and staying low
    let lines = 0;
    for (let i = 0; i < this.ch.length; i++) {
      const cfg = this.ch[i]!.config, bit = 1 << i;
      if ((this.raw_tc & bit && cfg & DMAC_CFG_ITC) || (this.raw_err & bit && cfg & DMAC_CFG_IE)) lines |= bit;
    }
    const changed = lines ^ this.lines;
    this.lines = lines;
    for (let i = 0; changed >> i; i++) if (changed & 1 << i) this.node.set_irq(i, (lines & 1 << i) !== 0);
  }
}
