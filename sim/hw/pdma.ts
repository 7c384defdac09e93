// A DMA controller modelled on ARM's PL330 (DMA-330, DDI 0424; Linux drives the real one with
// drivers/dma/pl330.c, QEMU models it in hw/dma/pl330.c). Unlike the PL080-class dmac (told what
// to move in registers and linked-list items), each pdma channel is a thread that executes a
// program of DMA instructions it fetches from memory; the CPU cannot write a channel's registers
// at all: it starts a thread with DMAGO and stops it with DMAKILL through the debug interface.
// Register offsets, instruction encodings and CCR bits are the PL330's as pl330.c defines them.
// Every instruction fetch and data burst goes through the system's DMA accessor (hw/bus.ts), so
// a program or buffer not mapped for the controller is caught, or faults behind an IOMMU.
//
// Registers (32-bit; other widths read 0 and drop writes, with a guest error):
//   0x000 RO  DSR           [3:0] manager: 0 stopped, 1 executing (while a debug DMAGO runs)
//   0x020 RW  INTEN         bit e: DMASEV e raises interrupt line e (else it only sets the event)
//   0x024 RO  INT_EVENT_RIS bit e: event e pending
//   0x028 RO  INTMIS        INT_EVENT_RIS & INTEN
//   0x02c WO  INTCLR        1s clear events (and lower their lines)
//   0x030 RO  FSRD          bit 0: the manager faulted (a DMAGO on a thread that is not stopped)
//   0x034 RO  FSRC          bit n: channel n is faulting
//   0x038 RO  FTRD          the manager's fault type (bit 0 undefined instruction, 1 operand invalid)
//   0x040 + 4n  RO FTRn     channel fault type: bit 0 undefined instruction, 1 operand invalid (a
//                           loop counter in use, a jump back out of the program, DMAST with an empty
//                           FIFO, source and destination bursts of different sizes, a bad register
//                           or event), 6 peripheral (a request line out of range), 16 instruction
//                           fetch error, 17 data write error, 18 data read error; DMAKILL clears it
//   0x100 + 8n  RO CSRn     [3:0] 0 stopped, 1 executing, 2 halted (dmalab), 7 waiting for a
//                           peripheral, 8 killing, 0xf faulting; [8:4] the request line waited on
//   0x104 + 8n  RO CPCn     program counter (bus address)
//   0x400 + 0x20n RO SARn, +4 DARn, +8 CCRn, +0xc LC0n, +0x10 LC1n: source and destination (they
//                           advance per burst when CCR says so), channel control, loop counters
//   0x500 + 4n  RW CHHALTn  dmalab's: bit 0 halts the thread at the next instruction or burst
//                           boundary (CSR reads 2 within one burst time); 0 resumes it. Reads 0 and
//                           ignores writes with `pause: false`. (A real PL330 cannot pause a thread:
//                           pl330_pause() stops it for good and the driver offers no resume.)
//   0xd00 RO  DBGSTATUS     bit 0: busy (a debug instruction takes `dbg_ns`, 100 ns)
//   0xd04 WO  DBGCMD        0: execute DBGINST0/1 at the end of the busy time; written while busy:
//                           dropped, with the guest error "DBGCMD while busy"
//   0xd08 WO  DBGINST0      bit 0 thread (0 manager, 1 channel), [10:8] channel, [23:16] byte 0,
//                           [31:24] byte 1
//   0xd0c WO  DBGINST1      instruction bytes 2-5
//   0xe00 RO  CR0           bit 0 peripheral requests, [6:4] channels - 1, [16:12] request lines
//                           - 1, [21:17] events - 1
//   0xe14 RO  CRD           [2:0] data width (2: 32-bit), [29:20] data buffer depth (lines)
//   0xfe0-0xfec RO PERIPH_ID0-3: 0x30, 0x13, 0x04, 0x00 (PERIPH_ID_VAL 0x41330, revision 0)
// Debug instructions: on the manager DMAGO (a0|ns<<1, channel, imm32 program address; a thread
// that is not stopped makes a manager fault, FTRD operand invalid) and DMAKILL (clears a manager
// fault); on a channel DMAKILL (the thread is killing while the burst on the bus completes, then
// stopped: FTR, its FSRC bit and the loop counters cleared).
// Channel instructions: 00 DMAEND; bc r imm32 DMAMOV SAR/CCR/DAR (r 0/1/2); 20|l<<1 n-1 DMALP;
// 38|l<<2 j DMALPEND (back j bytes while --counter); 28 j DMALPFE (back for ever); 04 DMALD and
// 08 DMAST (one burst into the one-burst FIFO from SAR, out of it to DAR); 32 p<<3 DMAWFP p
// (burst); 35 p<<3 DMAFLUSHP; 34 e<<3 DMASEV; 13 DMAWMB, 12 DMARMB, 18 DMANOP (no-ops here: the
// bursts complete in order). Anything else: an undefined instruction fault.
// CCR: bit 0 SRC_INC, [3:1] source burst size (log2 bytes, 0-2), [7:4] source burst length - 1,
// bit 14 DST_INC, [17:15] and [21:18] the same for the destination.
// Timing (virtual): a debug instruction 100 ns, an instruction 10 ns, a burst's memory side 1 ns
// for every 2 bytes on each of DMALD and DMAST (a copy moves a byte per ns, as the dmac), its
// peripheral side (the address that does not increment) 20 ns a beat.
// Interrupts: one line per event, then the abort line (raised while a channel or the manager
// faults). Request lines are DmaRequestSink's (hw/dmareq.ts), as the dmac's.
// How it runs: a thread executes ahead of virtual time up to a few microseconds of bursts at a
// time, but its bursts reach the bus at the time each one completes (in order), so a halt or kill
// lands the burst in flight and nothing after it; a barrier (DMASEV, DMAEND, DMAWFP) waits for
// the bursts before it. Instructions are fetched 32 bytes at a time, refetched after every stop.
// Simplifications against the PL330: no secure/non-secure split (DMAGO's ns bit ignored), no
// instruction cache beyond the one fetch line, no DMALDP/DMASTP, no single transfers
// (DMALDS/DMASTS) and no DMAADDH or DMAWFE, one burst (at most 64 bytes) of buffering, CHHALT added.
// Options: channels (1-8, default 8), events (default = channels), requests (default 16), pause
// (CHHALT works, default true), dbg_ns (the debug interface's latency, default 100).
import { M } from '../kernel/machine.ts';
import type { Event } from './clock.ts';
import type { Site } from '../kernel/site.ts';
import type { device } from '../base/device.ts';
import type { PlatformModel, PlatformNodeHw } from './platform.ts';
import type { MmioRegion } from './bus.ts';
import type { DmaRequestSink } from './dmareq.ts';
import { dma_read, dma_write, dma_transfer_begin, dma_transfer_end, type BusMaster, type DmaTransfer } from './bus.ts';

export const PDMA_DSR = 0x000, PDMA_INTEN = 0x020, PDMA_INT_EVENT_RIS = 0x024, PDMA_INTMIS = 0x028,
  PDMA_INTCLR = 0x02c, PDMA_FSRD = 0x030, PDMA_FSRC = 0x034, PDMA_FTRD = 0x038;
export const PDMA_FTR = (n: number) => 0x040 + 4 * n, PDMA_CSR = (n: number) => 0x100 + 8 * n,
  PDMA_CPC = (n: number) => 0x104 + 8 * n, PDMA_SAR = (n: number) => 0x400 + 0x20 * n,
  PDMA_DAR = (n: number) => 0x404 + 0x20 * n, PDMA_CCR = (n: number) => 0x408 + 0x20 * n,
  PDMA_LC0 = (n: number) => 0x40c + 0x20 * n, PDMA_LC1 = (n: number) => 0x410 + 0x20 * n,
  PDMA_CHHALT = (n: number) => 0x500 + 4 * n;
export const PDMA_DBGSTATUS = 0xd00, PDMA_DBGCMD = 0xd04, PDMA_DBGINST0 = 0xd08, PDMA_DBGINST1 = 0xd0c,
  PDMA_CR0 = 0xe00, PDMA_CRD = 0xe14, PDMA_PERIPH_ID = 0xfe0;
export const PDMA_CS_STOPPED = 0, PDMA_CS_EXECUTING = 1, PDMA_CS_HALTED = 2, PDMA_CS_WFP = 7, PDMA_CS_KILLING = 8,
  PDMA_CS_FAULTING = 0xf;
export const PDMA_FT_UNDEF_INSTR = 1 << 0, PDMA_FT_OPERAND_INVALID = 1 << 1, PDMA_FT_PERIPH = 1 << 6,
  PDMA_FT_INSTR_FETCH = 1 << 16, PDMA_FT_DATA_WRITE = 1 << 17, PDMA_FT_DATA_READ = 1 << 18;
export const PDMA_CMD_DMAEND = 0x00, PDMA_CMD_DMAKILL = 0x01, PDMA_CMD_DMALD = 0x04, PDMA_CMD_DMAST = 0x08,
  PDMA_CMD_DMARMB = 0x12, PDMA_CMD_DMAWMB = 0x13, PDMA_CMD_DMANOP = 0x18, PDMA_CMD_DMALP = 0x20,
  PDMA_CMD_DMALPFE = 0x28, PDMA_CMD_DMALPEND = 0x38, PDMA_CMD_DMAWFP_BURST = 0x32, PDMA_CMD_DMASEV = 0x34,
  PDMA_CMD_DMAFLUSHP = 0x35, PDMA_CMD_DMAGO = 0xa0, PDMA_CMD_DMAMOV = 0xbc;
export const PDMA_CC_SRCINC = 1 << 0, PDMA_CC_DSTINC = 1 << 14, PDMA_CC_SRCBRSTSIZE_SHFT = 1,
  PDMA_CC_SRCBRSTLEN_SHFT = 4, PDMA_CC_DSTBRSTSIZE_SHFT = 15, PDMA_CC_DSTBRSTLEN_SHFT = 18;
export const PDMA_PERIPH_ID_VAL = 0x41330;
/** The most a burst can hold (16 beats of 4 bytes): the thread's one burst of buffering. */
export const PDMA_FIFO_BYTES = 64;

const INSN_NS = 10, PERIPH_BEAT_NS = 20;
/** How far (ns) a thread plans its bursts ahead of the clock at most. */
const QUANTUM_NS = 4096;
const LINE = 32;
const ONE_BYTE = new Set([PDMA_CMD_DMAEND, PDMA_CMD_DMALD, PDMA_CMD_DMAST, PDMA_CMD_DMAWMB, PDMA_CMD_DMARMB, PDMA_CMD_DMANOP]);

export interface PdmaOptions {
  channels?: number;
  events?: number;
  requests?: number;
  /** Does CHHALT work? (default true) */
  pause?: boolean;
  /** The debug interface's latency (ns, default 100). */
  dbg_ns?: number;
}

/** What a thread's registers say at an instant (the visible state, and the planner's). */
interface Regs { pc: number; sar: number; dar: number; ccr: number; lc0: number; lc1: number;
  /** Loop counters in use (bit l: a DMALP without its last DMALPEND yet) and the FIFO's bytes. */
  busy: number; fifo: number }
/** A burst planned ahead of time: it reaches the bus at t1; `after` is the state it leaves. */
interface Op { st: boolean; pc: number; t0: number; t1: number; addr: number; n: number; beat: number; inc: boolean; after: Regs }
/** A range the planned bursts will touch, declared to the bus as a transfer. */
interface Span { addr: number; end: number; write: boolean; inc: boolean }

class Thread {
  state = PDMA_CS_STOPPED;
  /** The planner's registers (ahead of time while bursts are pending) and the visible ones. */
  r: Regs = { pc: 0, sar: 0, dar: 0, ccr: 0, lc0: 0, lc1: 0, busy: 0, fifo: 0 };
  seen: Regs = { ...this.r };
  /** Where the program began (DMAGO's address): no jump back before it. */
  start = 0;
  ftr = 0;
  halt = false;
  /** The request line a DMAWFP waits on. */
  line = 0;
  /** The FIFO's bytes (as the committed bursts left them). */
  fifo = new Uint8Array(PDMA_FIFO_BYTES);
  ops: Op[] = [];
  spans: Span[] = [];
  xfers: DmaTransfer[] = [];
  ev: Event | null = null;
  /** The fetch line: its bus address and bytes (-1: none). */
  line_at = -1;
  line_buf = new Uint8Array(LINE);
  line_len = 0;
  constructor(readonly id: number) {}
}

export class Pdma implements PlatformModel, BusMaster, DmaRequestSink {
  readonly name = 'dma-controller';
  readonly compatible = ['dmalab,pdma'];
  readonly regions: (MmioRegion & { size: number })[];
  readonly irqs: number;
  readonly channels: number;
  readonly events: number;
  readonly requests: number;
  readonly can_pause: boolean;
  dbg_ns: number;
  private th: Thread[];
  private inten = 0;
  private ris = 0;
  private fsrd = 0;
  private ftrd = 0;
  private dbg_busy_until = -1;
  private dbg_manager_go = false;
  private dbginst0 = 0;
  private dbginst1 = 0;
  private req_lines = 0;
  private irqs_dirty = false;
  private in_step = 0;
  node!: PlatformNodeHw;
  dma_site: Site = 0;
  /** Bursts that reached the bus, per channel (for tests: the model's own count of bytes). */
  readonly moved: number[];
  /** A run of bursts in flight at once. */
  private buf = new Uint8Array(1 << 14);

  constructor(o: PdmaOptions = {}) {
    this.channels = Math.min(8, Math.max(1, o.channels ?? 8));
    this.events = Math.min(32, Math.max(1, o.events ?? this.channels));
    this.requests = Math.min(32, Math.max(1, o.requests ?? 16));
    this.can_pause = o.pause ?? true;
    this.dbg_ns = o.dbg_ns ?? 100;
    this.irqs = this.events + 1;
    this.th = Array.from({ length: this.channels }, (_, i) => new Thread(i));
    this.moved = this.th.map(() => 0);
    this.regions = [{ size: 0x1000, read: (off, size) => this.read(off, size), write: (off, size, v) => this.write(off, size, v) }];
  }
  attach(node: PlatformNodeHw): void {
    this.node = node;
  }

  // ---- BusMaster --------------------------------------------------------------------------------
  get dev(): device | null { return this.node?.dev ?? null; }
  master_enabled(): boolean { return true; }
  master_disabled(): void {}
  get bdf(): string { return this.dev?.init_name ?? 'pdma'; }
  get devfn(): number { return this.node?.stream_id ?? 0; }

  /** A peripheral asserts or releases request line `line`. */
  request(line: number, on: boolean): void {
    const was = this.req_lines;
    this.req_lines = on ? this.req_lines | 1 << line : this.req_lines & ~(1 << line);
    if (!on || this.req_lines === was) return;
    for (const t of this.th) if (t.state === PDMA_CS_WFP && t.line === line && !t.ev) this.later(t, 0);
  }

  /** Channel n's state for tests: CSR's [3:0]. */
  state_of(n: number): number {
    return this.th[n]!.state;
  }

  private guest_error(text: string): void {
    M.diag.report('DEVICE_GUEST_ERROR', [`PDMA: ${text}`]);
  }

  // ---- registers ----------------------------------------------------------------------------------
  private read(off: number, size: number): number {
    if (size !== 4) {
      this.guest_error(`${size}-byte read of 0x${off.toString(16)}: registers take 32-bit accesses (it reads 0)`);
      return 0;
    }
    const n = off >= 0x400 && off < 0x500 ? (off - 0x400) >> 5 : -1;
    if (n >= 0) {
      const t = this.th[n];
      if (!t) return 0;
      const s = this.visible(t);
      switch ((off - 0x400) & 0x1f) {
        case 0x00: return s.sar >>> 0;
        case 0x04: return s.dar >>> 0;
        case 0x08: return s.ccr >>> 0;
        case 0x0c: return s.lc0;
        case 0x10: return s.lc1;
        default: return 0;
      }
    }
    if (off >= 0x100 && off < 0x140) {
      const t = this.th[(off - 0x100) >> 3];
      if (!t) return 0;
      if (off & 4) return this.visible(t).pc >>> 0;
      return (t.state | (t.state === PDMA_CS_WFP ? t.line << 4 : 0)) >>> 0;
    }
    if (off >= 0x040 && off < 0x060) return (this.th[(off - 0x40) >> 2]?.ftr ?? 0) >>> 0;
    if (off >= 0x500 && off < 0x520) return this.can_pause && this.th[(off - 0x500) >> 2]?.halt ? 1 : 0;
    switch (off) {
      case PDMA_DSR: return this.dbg_manager_go && this.busy() ? 1 : 0;
      case PDMA_INTEN: return this.inten >>> 0;
      case PDMA_INT_EVENT_RIS: return this.ris >>> 0;
      case PDMA_INTMIS: return (this.ris & this.inten) >>> 0;
      case PDMA_FSRD: return this.fsrd;
      case PDMA_FSRC: return this.th.reduce((b, t) => (t.state === PDMA_CS_FAULTING ? b | 1 << t.id : b), 0) >>> 0;
      case PDMA_FTRD: return this.ftrd;
      case PDMA_DBGSTATUS: return this.busy() ? 1 : 0;
      case PDMA_CR0: return (1 | (this.channels - 1) << 4 | (this.requests - 1) << 12 | (this.events - 1) << 17) >>> 0;
      case PDMA_CRD: return (2 | 16 << 20) >>> 0;
      case PDMA_PERIPH_ID: return 0x30;
      case PDMA_PERIPH_ID + 4: return 0x13;
      case PDMA_PERIPH_ID + 8: return 0x04;
      default: return 0;
    }
  }

  private write(off: number, size: number, v: number): void {
    if (size !== 4) {
      this.guest_error(`${size}-byte write to 0x${off.toString(16)} dropped: registers take 32-bit accesses`);
      return;
    }
    v >>>= 0;
    if (off >= 0x500 && off < 0x520) {
      const t = this.th[(off - 0x500) >> 2];
      if (t && this.can_pause) this.set_halt(t, (v & 1) !== 0);
      return;
    }
    switch (off) {
      case PDMA_INTEN: this.inten = v; this.irqs_changed(); break;
      case PDMA_INTCLR: this.ris &= ~v; this.irqs_changed(); break;
      case PDMA_DBGINST0: this.dbginst0 = v; break;
      case PDMA_DBGINST1: this.dbginst1 = v; break;
      case PDMA_DBGCMD: this.dbgcmd(v); break;
    }
  }

  /** The registers as of now: the state the last burst to complete by now left. */
  private visible(t: Thread): Regs {
    const now = M.clock.now;
    let s = t.seen;
    for (const op of t.ops) {
      if (op.t1 > now) break;
      s = op.after;
    }
    return s;
  }

  private busy(): boolean {
    return M.clock.now < this.dbg_busy_until;
  }

  // ---- the debug interface ----------------------------------------------------------------------
  private dbgcmd(v: number): void {
    if (v & 3) return;
    if (this.busy()) {
      this.guest_error('DBGCMD while busy: the command is dropped (wait for DBGSTATUS bit 0 to clear first)');
      return;
    }
    const i0 = this.dbginst0, i1 = this.dbginst1;
    const site = this.node.last_write_site;
    this.dbg_busy_until = M.clock.now + this.dbg_ns;
    this.dbg_manager_go = !(i0 & 1) && ((i0 >>> 16) & 0xfd) === PDMA_CMD_DMAGO;
    M.clock.schedule(this.dbg_ns, () => this.dbg_exec(i0, i1, site), 'pdma debug');
  }

  private dbg_exec(i0: number, i1: number, site: Site): void {
    const b0 = (i0 >>> 16) & 0xff, b1 = (i0 >>> 24) & 0xff;
    if (i0 & 1) {
      const t = this.th[(i0 >>> 8) & 7];
      if (!t) return;
      if (b0 === PDMA_CMD_DMAKILL) this.kill(t);
      else this.guest_error(`debug instruction 0x${b0.toString(16).padStart(2, '0')} on channel ${t.id} ignored: a channel thread takes DMAKILL only`);
      return;
    }
    if (b0 === PDMA_CMD_DMAKILL) {
      this.fsrd = 0;
      this.ftrd = 0;
      this.irqs_changed();
      return;
    }
    if ((b0 & 0xfd) !== PDMA_CMD_DMAGO) {
      this.guest_error(`debug instruction 0x${b0.toString(16).padStart(2, '0')} on the manager ignored: it takes DMAGO and DMAKILL`);
      return;
    }
    const t = this.th[b1 & 7];
    if (!t || t.state !== PDMA_CS_STOPPED) {
      // DMAGO on a thread that is running, halted, waiting or faulting: the manager faults.
      this.fsrd = 1;
      this.ftrd = PDMA_FT_OPERAND_INVALID;
      this.irqs_changed();
      return;
    }
    this.dma_site = site;
    t.r.pc = t.start = i1 >>> 0;
    t.ftr = 0;
    t.r.busy = t.r.fifo = 0;
    t.line_at = -1;
    t.seen = { ...t.r };
    t.state = t.halt ? PDMA_CS_HALTED : PDMA_CS_EXECUTING;
    if (!t.halt) this.later(t, 0);
  }

  // ---- a thread ---------------------------------------------------------------------------------
  private later(t: Thread, ns: number): void {
    M.clock.cancel(t.ev);
    t.ev = M.clock.schedule(ns, () => { t.ev = null; this.step(t); }, 'pdma channel');
  }

  /** Run: commit the bursts that are due, then plan more until a barrier, a wait or the quantum. */
  private step(t: Thread): void {
    this.in_step++;
    try {
      if (t.ops.length && !this.commit(t, t.ops.length)) return;
      if (t.state === PDMA_CS_EXECUTING || t.state === PDMA_CS_WFP) this.plan(t);
    } finally {
      this.in_step--;
      if (!this.in_step && this.irqs_dirty) this.irqs_changed();
    }
  }

  /** Put the first `n` planned bursts on the bus, in order; false if one faulted. */
  private commit(t: Thread, n: number): boolean {
    const ops = t.ops.splice(0, n);
    for (let i = 0; i < ops.length;) {
      const op = ops[i]!;
      // A run of LD/ST pairs walking two separate memory ranges moves as one read and one write.
      const k = this.pairs(ops, i);
      let ok: boolean, st = op.st;
      if (k > 1) {
        const len = k * op.n, ld = op, sto = ops[i + 1]!;
        if (this.buf.length < len) this.buf = new Uint8Array(Math.max(len, this.buf.length * 2));
        ok = dma_read(this, ld.addr, this.buf, 0, len);
        st = ok;
        if (ok) ok = dma_write(this, sto.addr, this.buf, 0, len);
        if (ok) { t.fifo.set(this.buf.subarray(len - op.n, len)); this.moved[t.id]! += len; }
      } else {
        ok = this.burst(t, op);
        if (ok && op.st) this.moved[t.id]! += op.n;
      }
      if (!ok) {
        // The state is the one before this burst: SAR/DAR where it failed, CPC at it.
        t.seen = { ...t.seen, pc: op.pc };
        t.ops.length = 0;
        this.end_spans(t);
        this.fault(t, st ? PDMA_FT_DATA_WRITE : PDMA_FT_DATA_READ);
        return false;
      }
      i += k > 1 ? 2 * k : 1;
      t.seen = ops[i - 1]!.after;
    }
    if (!t.ops.length) {
      this.end_spans(t);
      t.r = { ...t.seen };
    }
    return true;
  }

  /** How many LD/ST pairs from ops[i] continue each other on two ranges that do not overlap. */
  private pairs(ops: Op[], i: number): number {
    const a = ops[i]!, b = ops[i + 1];
    if (a.st || !a.inc || !b || !b.st || !b.inc || b.n !== a.n) return 0;
    let k = 1;
    while (i + 2 * k + 1 < ops.length) {
      const l = ops[i + 2 * k]!, s = ops[i + 2 * k + 1]!;
      if (l.st || !l.inc || !s.st || !s.inc || l.n !== a.n || s.n !== a.n || l.addr !== a.addr + k * a.n || s.addr !== b.addr + k * a.n) break;
      k++;
    }
    const len = k * a.n;
    return a.addr < b.addr + len && b.addr < a.addr + len ? 0 : k;
  }

  /** One burst through the accessor: the memory side at once, a FIFO beat by beat. */
  private burst(t: Thread, op: Op): boolean {
    if (op.inc) return op.st ? dma_write(this, op.addr, t.fifo, 0, op.n) : dma_read(this, op.addr, t.fifo, 0, op.n);
    let ok = true;
    for (let o = 0; o < op.n && ok; o += op.beat) ok = op.st ? dma_write(this, op.addr, t.fifo, o, op.beat) : dma_read(this, op.addr, t.fifo, o, op.beat);
    return ok;
  }

  private end_spans(t: Thread): void {
    for (const x of t.xfers) dma_transfer_end(x);
    t.xfers.length = 0;
    t.spans.length = 0;
  }

  private fault(t: Thread, why: number): void {
    M.clock.cancel(t.ev);
    t.ev = null;
    t.ftr |= why;
    t.state = PDMA_CS_FAULTING;
    t.r = { ...t.seen };
    this.irqs_dirty = true;
    if (!this.in_step) this.irqs_changed();
  }

  /** The bytes of the instruction at pc (through the fetch line), or null on a fetch fault. */
  private fetch(t: Thread, pc: number, len: number): Uint8Array | null {
    if (t.line_at < 0 || pc < t.line_at || pc + len > t.line_at + t.line_len) {
      const room = 4096 - (pc % 4096);
      t.line_len = Math.max(len, Math.min(LINE, room));
      t.line_at = pc;
      if (!dma_read(this, pc, t.line_buf, 0, t.line_len)) {
        t.line_at = -1;
        return null;
      }
    }
    return t.line_buf.subarray(pc - t.line_at, pc - t.line_at + len);
  }

  private plan(t: Thread): void {
    const r = t.r;
    const now = M.clock.now;
    let at = now;
    t.line_at = -1;
    t.state = PDMA_CS_EXECUTING;
    run: for (;;) {
      if (t.ops.length && (at - now >= QUANTUM_NS || t.ops.length >= 256)) break;
      if (t.halt) {
        if (t.ops.length) break;
        t.state = PDMA_CS_HALTED;
        return;
      }
      // A fault waits for the bursts before it to land (they may fault first).
      let why = 0;
      const op = this.fetch(t, r.pc, 1);
      const b0 = op ? op[0]! : -1;
      const size = b0 === PDMA_CMD_DMAMOV ? 6 : ONE_BYTE.has(b0) ? 1 : 2;
      const insn = op ? this.fetch(t, r.pc, size) : null;
      if (!insn) why = PDMA_FT_INSTR_FETCH;
      const b1 = insn?.[1] ?? 0;
      // The barriers wait for the bursts before them.
      if ((b0 === PDMA_CMD_DMAEND || b0 === PDMA_CMD_DMASEV || b0 === PDMA_CMD_DMAWFP_BURST) && t.ops.length) break;
      at += INSN_NS;
      if (!why) {
        switch (b0) {
          case PDMA_CMD_DMAEND:
            r.pc += 1;
            t.seen = { ...r };
            t.state = PDMA_CS_STOPPED;
            return;
          case PDMA_CMD_DMAMOV: {
            const v = (insn![2]! | insn![3]! << 8 | insn![4]! << 16 | insn![5]! << 24) >>> 0;
            if (b1 > 2) { why = PDMA_FT_OPERAND_INVALID; break; }
            if (b1 === 0) r.sar = v; else if (b1 === 1) r.ccr = v; else r.dar = v;
            r.pc += 6;
            break;
          }
          case PDMA_CMD_DMALP: case PDMA_CMD_DMALP | 2: {
            const l = (b0 >> 1) & 1;
            if (r.busy & 1 << l) { why = PDMA_FT_OPERAND_INVALID; break; }
            r.busy |= 1 << l;
            if (l) r.lc1 = b1 + 1; else r.lc0 = b1 + 1;
            r.pc += 2;
            break;
          }
          case PDMA_CMD_DMALPEND: case PDMA_CMD_DMALPEND | 4: case PDMA_CMD_DMALPFE: case PDMA_CMD_DMALPFE | 4: {
            const forever = (b0 & 0x10) === 0, l = (b0 >> 2) & 1;
            const back = r.pc - b1;
            if (back < t.start || b1 === 0 || (!forever && !(r.busy & 1 << l))) { why = PDMA_FT_OPERAND_INVALID; break; }
            if (forever) { r.pc = back; break; }
            const c = (l ? r.lc1 : r.lc0) - 1;
            if (l) r.lc1 = c; else r.lc0 = c;
            if (c > 0) r.pc = back;
            else { r.busy &= ~(1 << l); r.pc += 2; }
            break;
          }
          case PDMA_CMD_DMALD: case PDMA_CMD_DMAST: {
            const st = b0 === PDMA_CMD_DMAST;
            const ssz = 1 << ((r.ccr >>> PDMA_CC_SRCBRSTSIZE_SHFT) & 7), slen = ((r.ccr >>> PDMA_CC_SRCBRSTLEN_SHFT) & 0xf) + 1;
            const dsz = 1 << ((r.ccr >>> PDMA_CC_DSTBRSTSIZE_SHFT) & 7), dlen = ((r.ccr >>> PDMA_CC_DSTBRSTLEN_SHFT) & 0xf) + 1;
            if (ssz > 4 || dsz > 4 || ssz * slen !== dsz * dlen || (st && !r.fifo)) { why = PDMA_FT_OPERAND_INVALID; break; }
            const inc = st ? (r.ccr & PDMA_CC_DSTINC) !== 0 : (r.ccr & PDMA_CC_SRCINC) !== 0;
            const beat = st ? dsz : ssz, n = ssz * slen;
            const addr = st ? r.dar : r.sar;
            const ns = inc ? n / 2 : PERIPH_BEAT_NS * (n / beat);
            const pc = r.pc;
            if (st) { r.dar = (r.dar + (inc ? n : 0)) >>> 0; r.fifo = 0; } else { r.sar = (r.sar + (inc ? n : 0)) >>> 0; r.fifo = n; }
            r.pc += 1;
            at += ns - INSN_NS;
            t.ops.push({ st, pc, t0: at - ns, t1: at, addr, n, beat, inc, after: { ...r } });
            this.span(t, addr, inc ? n : beat, st, inc);
            break;
          }
          case PDMA_CMD_DMAWFP_BURST: {
            const p = b1 >> 3;
            if (p >= this.requests) { why = PDMA_FT_PERIPH; break; }
            if (!(this.req_lines & 1 << p)) {
              t.line = p;
              t.state = PDMA_CS_WFP;
              t.seen = { ...r };
              return;
            }
            r.pc += 2;
            break;
          }
          case PDMA_CMD_DMAFLUSHP:
            if (b1 >> 3 >= this.requests) { why = PDMA_FT_PERIPH; break; }
            r.pc += 2;
            break;
          case PDMA_CMD_DMASEV: {
            const e = b1 >> 3;
            if (e >= this.events) { why = PDMA_FT_OPERAND_INVALID; break; }
            this.ris |= 1 << e;
            this.irqs_dirty = true;
            r.pc += 2;
            break;
          }
          case PDMA_CMD_DMAWMB: case PDMA_CMD_DMARMB: case PDMA_CMD_DMANOP:
            r.pc += 1;
            break;
          default:
            why = PDMA_FT_UNDEF_INSTR;
        }
      }
      if (why) {
        if (t.ops.length) break run;
        this.fault(t, why);
        return;
      }
      if (!t.ops.length) t.seen = { ...r };
    }
    // Bursts are pending: declare what they touch, and come back when the last has landed.
    this.declare(t);
    this.later(t, t.ops[t.ops.length - 1]!.t1 - now);
  }

  /** Merge a burst's bytes into the spans it extends (contiguous, same direction). */
  private span(t: Thread, addr: number, len: number, write: boolean, inc: boolean): void {
    for (const s of t.spans) {
      if (s.write !== write || s.inc !== inc) continue;
      if (!inc && s.addr === addr) return;
      if (inc && s.end === addr) { s.end += len; return; }
    }
    t.spans.push({ addr, end: addr + len, write, inc });
  }

  private declare(t: Thread): void {
    const name = this.dev?.init_name ?? 'pdma';
    for (const s of t.spans.splice(0)) {
      const n = s.end - s.addr;
      t.xfers.push(dma_transfer_begin(this, s.addr, n, s.write, `${name} channel ${t.id} ${s.write ? 'write' : 'read'} of ${n} bytes`));
    }
  }

  /** Bursts whose time has come land now; the one on the bus lands at its end. -1: none. */
  private settle(t: Thread): number {
    const now = M.clock.now;
    let due = 0;
    while (due < t.ops.length && t.ops[due]!.t1 <= now) due++;
    if (due && !this.commit(t, due)) return -2;
    const cur = t.ops[0];
    if (cur && cur.t0 <= now) {
      t.ops.length = 1;
      return cur.t1 - now;
    }
    t.ops.length = 0;
    this.end_spans(t);
    t.r = { ...t.seen };
    return -1;
  }

  private kill(t: Thread): void {
    M.clock.cancel(t.ev);
    t.ev = null;
    const finish = () => {
      this.end_spans(t);
      t.r = { ...t.seen, lc0: 0, lc1: 0, busy: 0, fifo: 0 };
      t.seen = { ...t.r };
      t.state = PDMA_CS_STOPPED;
      t.ftr = 0;
      this.irqs_changed();
    };
    const busy = t.state === PDMA_CS_EXECUTING ? this.settle(t) : -1;
    if (busy === -2) { t.ops.length = 0; finish(); return; }
    if (busy < 0) { finish(); return; }
    t.state = PDMA_CS_KILLING;
    t.ev = M.clock.schedule(busy, () => {
      t.ev = null;
      if (t.ops.length) this.commit(t, 1);
      finish();
    }, 'pdma kill');
  }

  private set_halt(t: Thread, on: boolean): void {
    if (on === t.halt) return;
    t.halt = on;
    if (on) {
      if (t.state === PDMA_CS_WFP) { t.state = PDMA_CS_HALTED; M.clock.cancel(t.ev); t.ev = null; return; }
      if (t.state !== PDMA_CS_EXECUTING) return;
      M.clock.cancel(t.ev);
      t.ev = null;
      const busy = this.settle(t);
      if (busy === -2) return;
      if (busy < 0) { t.state = PDMA_CS_HALTED; return; }
      // CSR says executing until the burst on the bus has landed.
      t.ev = M.clock.schedule(busy, () => {
        t.ev = null;
        if (t.ops.length && !this.commit(t, 1)) return;
        t.state = t.halt ? PDMA_CS_HALTED : PDMA_CS_EXECUTING;
        if (!t.halt) this.later(t, 0);
      }, 'pdma halt');
      return;
    }
    if (t.state === PDMA_CS_HALTED) {
      t.state = PDMA_CS_EXECUTING;
      this.later(t, 0);
    }
  }

  /** The event lines (INTMIS), then the abort line (a faulting channel or manager). */
  private irqs_changed(): void {
    this.irqs_dirty = false;
    if (!this.node) return;
    const mis = this.ris & this.inten;
    for (let e = 0; e < this.events; e++) this.node.set_irq(e, (mis & 1 << e) !== 0);
    this.node.set_irq(this.events, this.fsrd !== 0 || this.th.some((t) => t.state === PDMA_CS_FAULTING));
  }
}
