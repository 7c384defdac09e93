// "cmdq": dmalab's command-queue PCI device (1b36:5100), in the shape of an NVMe submission
// queue whose commands point at EHCI-style descriptor chains: a ring of commands in memory the
// driver allocates, each naming a chain of small descriptors (one per <= 4 KiB piece of a data
// buffer) and, for FILL, a 64-byte parameter block. Exercise 09 (dma-pools) drives it.
//
// BAR 0, 4 KiB, 4-byte accesses only (another width reads all ones; the write is dropped):
//   0x00  RO   ID       0x434d4451 ('CMDQ')
//   0x04  RW   CTRL     bit 0 EN: fetch and run commands; bit 1 RST (self-clearing): drop every
//                       command, QHEAD = QTAIL = 0, ISR = 0, FATAL cleared
//   0x08  RO   STATUS   bit 0 RDY (EN, not FATAL), bit 1 BUSY (a command fetched and running, or
//                       QHEAD != QTAIL while EN), bit 2 FATAL (a command failed: stopped until RST)
//   0x0c  RW1C ISR      bit 0 DONE (a command completed), bit 1 ERR (a command failed)
//   0x10  RW   IMR      interrupt enable, ISR's bits; INTx (level) while ISR & IMR
//   0x20  RW   QBASE_LO command ring bus address (32-byte aligned), low / high 32 bits;
//   0x24  RW   QBASE_HI   ignored while EN
//   0x28  RW   QSIZE    slots, a power of two in 2..256; ignored while EN
//   0x2c  RW   QTAIL    doorbell: the driver's next free slot; a write starts fetching
//   0x30  RO   QHEAD    the next slot the device fetches
//   0x34  RO   ERRINFO  slot << 16 | error code of the last failed command
//
// Command (32 bytes in the ring): u64 desc (first descriptor), u64 param (parameter block or 0),
// u16 tag, u8 opcode, u8 flags (bit 0: interrupt when done), u16 status (device: bit 0 DONE,
// bits 15..8 error code), u16 rsvd, u32 total (device: the command's result), u32 rsvd.
// Descriptor (32 bytes, 32-byte aligned, never across 4 KiB): u64 buf, u32 len (1..4096),
// u32 ctrl (0), u64 next (0 ends the chain; at most 16), u32 result (device: bytes done),
// u32 csum (device: FNV-1a of the piece, CHECKSUM only).
// Parameter block (64 bytes, 64-byte aligned): u32 seed, then reserved; FILL needs one.
// Opcodes: 1 CHECKSUM (read the pieces; total = sum of their csums), 2 FILL (write the pieces
// with the seed's pattern, cmdq_fill_pattern(); total = bytes written).
//
// Timing: a command is fetched (slot, chain, parameter block read) CMDQ_FETCH_NS after the
// doorbell or the previous completion, and completes CMDQ_RUN_NS + 1 ns per byte later, when
// its data moves and the results are written back (descriptors, then the command's status,
// last). A failed command sets its status' error code, ERRINFO, ISR.ERR|DONE, and FATAL; the
// device's own line is a DEVICE_GUEST_ERROR, as QEMU's LOG_GUEST_ERROR.
import { M } from '../kernel/machine.ts';
import type { BarModel, PciFn, PciModel } from './pci.ts';
import type { Event } from './clock.ts';

export const CMDQ_VENDOR = 0x1b36, CMDQ_DEVICE = 0x5100, CMDQ_ID_VALUE = 0x434d4451;
export const CMDQ_ID = 0x00, CMDQ_CTRL = 0x04, CMDQ_STATUS = 0x08, CMDQ_ISR = 0x0c, CMDQ_IMR = 0x10,
  CMDQ_QBASE_LO = 0x20, CMDQ_QBASE_HI = 0x24, CMDQ_QSIZE = 0x28, CMDQ_QTAIL = 0x2c, CMDQ_QHEAD = 0x30,
  CMDQ_ERRINFO = 0x34;
export const CMDQ_CTRL_EN = 0x1, CMDQ_CTRL_RST = 0x2;
export const CMDQ_STATUS_RDY = 0x1, CMDQ_STATUS_BUSY = 0x2, CMDQ_STATUS_FATAL = 0x4;
export const CMDQ_INT_DONE = 0x1, CMDQ_INT_ERR = 0x2;
export const CMDQ_OP_CHECKSUM = 1, CMDQ_OP_FILL = 2;
export const CMDQ_CMD_BYTES = 32, CMDQ_DESC_BYTES = 32, CMDQ_PARAM_BYTES = 64;
export const CMDQ_DESC_ALIGN = 32, CMDQ_DESC_BOUNDARY = 4096, CMDQ_PARAM_ALIGN = 64;
export const CMDQ_MAX_PIECE = 4096, CMDQ_MAX_CHAIN = 16;
export const CMDQ_ERR_ALIGN = 1, CMDQ_ERR_BOUNDARY = 2, CMDQ_ERR_CHAIN = 3, CMDQ_ERR_LEN = 4,
  CMDQ_ERR_OPCODE = 5, CMDQ_ERR_ABORT = 6, CMDQ_ERR_PARAM = 7;
export const CMDQ_FETCH_NS = 2000, CMDQ_RUN_NS = 5000;

const ERR_TEXT: Record<number, string> = {
  [CMDQ_ERR_ALIGN]: 'not aligned', [CMDQ_ERR_BOUNDARY]: 'crosses a 4 KiB boundary',
  [CMDQ_ERR_CHAIN]: 'chain longer than 16 descriptors', [CMDQ_ERR_LEN]: 'length not in 1..4096',
  [CMDQ_ERR_OPCODE]: 'unknown opcode', [CMDQ_ERR_ABORT]: 'fetch failed (nothing answered, or the IOMMU blocked it)',
  [CMDQ_ERR_PARAM]: 'FILL without a parameter block',
};

/** FNV-1a over bytes: the checksum the device writes per piece. */
export function cmdq_fnv1a(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193) >>> 0;
  return h;
}

/** The bytes FILL writes: a stream seeded by the parameter block's seed, across the pieces. */
export function cmdq_fill_pattern(seed: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = seed >>> 0;
  for (let i = 0; i < len; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

interface Piece { buf: number; len: number; desc: number }
type Transfer = ReturnType<typeof M.own.begin>;
interface Running { slot: number; cmd: number; op: number; flags: number; pieces: Piece[]; seed: number; xfers: Transfer[] }

const hex = (x: number) => '0x' + x.toString(16).padStart(16, '0');
const u64 = (v: DataView, off: number) => Number(v.getBigUint64(off, true) & 0x1fffffffffffffn);

export class Cmdq implements PciModel {
  readonly name = 'cmdq';
  readonly vendor = CMDQ_VENDOR;
  readonly device = CMDQ_DEVICE;
  readonly revision = 1;
  readonly class_code = 0x018000;   // mass storage, other
  readonly msi_vectors = 0;
  readonly bars: BarModel[];
  fn!: PciFn;

  ctrl = 0;
  fatal = false;
  isr = 0;
  imr = 0;
  qbase = 0;
  qsize = 0;
  qtail = 0;
  qhead = 0;
  errinfo = 0;
  private running: Running | null = null;
  private timer: Event | null = null;
  /** Commands completed without error (for tests). */
  completed = 0;

  constructor() {
    this.bars = [{ size: 4096, read: (o, s) => this.mmio_read(o, s), write: (o, s, v) => this.mmio_write(o, s, v) }];
  }
  attach(fn: PciFn): void {
    this.fn = fn;
  }

  private mmio_read(off: number, size: number): number {
    if (size !== 4) return size === 8 ? -1 : 2 ** (size * 8) - 1;
    switch (off) {
      case CMDQ_ID: return CMDQ_ID_VALUE;
      case CMDQ_CTRL: return this.ctrl;
      case CMDQ_STATUS: return this.status();
      case CMDQ_ISR: return this.isr;
      case CMDQ_IMR: return this.imr;
      case CMDQ_QBASE_LO: return this.qbase % 2 ** 32;
      case CMDQ_QBASE_HI: return Math.floor(this.qbase / 2 ** 32);
      case CMDQ_QSIZE: return this.qsize;
      case CMDQ_QTAIL: return this.qtail;
      case CMDQ_QHEAD: return this.qhead;
      case CMDQ_ERRINFO: return this.errinfo;
      default: return 0xffffffff;
    }
  }

  status(): number {
    const en = (this.ctrl & CMDQ_CTRL_EN) !== 0;
    return (en && !this.fatal ? CMDQ_STATUS_RDY : 0) | (this.busy() ? CMDQ_STATUS_BUSY : 0) |
      (this.fatal ? CMDQ_STATUS_FATAL : 0);
  }
  busy(): boolean {
    return this.running !== null || ((this.ctrl & CMDQ_CTRL_EN) !== 0 && !this.fatal && this.qhead !== this.qtail);
  }

  private mmio_write(off: number, size: number, v: number): void {
    if (size !== 4) {
      this.fn.guest_error(`${size}-byte write to 0x${off.toString(16)} ignored: registers take 4-byte accesses`);
      return;
    }
    v >>>= 0;
    const en = (this.ctrl & CMDQ_CTRL_EN) !== 0;
    switch (off) {
      case CMDQ_CTRL:
        if (v & CMDQ_CTRL_RST) { this.reset(); v &= ~CMDQ_CTRL_RST; }
        this.ctrl = v & CMDQ_CTRL_EN;
        if (this.ctrl && !en) this.kick();
        break;
      case CMDQ_ISR: this.isr &= ~v; this.update_irq(); break;
      case CMDQ_IMR: this.imr = v & (CMDQ_INT_DONE | CMDQ_INT_ERR); this.update_irq(); break;
      case CMDQ_QBASE_LO: if (en) this.ignored(off); else this.qbase = Math.floor(this.qbase / 2 ** 32) * 2 ** 32 + v; break;
      case CMDQ_QBASE_HI: if (en) this.ignored(off); else this.qbase = (v & 0x1fffff) * 2 ** 32 + this.qbase % 2 ** 32; break;
      case CMDQ_QSIZE:
        if (en) this.ignored(off);
        else if (v < 2 || v > 256 || v & (v - 1)) this.fn.guest_error(`QSIZE ${v} ignored: a power of two in 2..256`);
        else this.qsize = v;
        break;
      case CMDQ_QTAIL:
        if (v >= this.qsize) { this.fn.guest_error(`QTAIL ${v} ignored: the ring has ${this.qsize} slots`); break; }
        this.qtail = v;
        this.fn.dma_site = this.fn.last_write_site;
        this.kick();
        break;
    }
  }

  private ignored(off: number): void {
    this.fn.guest_error(`write to 0x${off.toString(16)} ignored while the queue is enabled (clear CTRL.EN first)`);
  }

  private update_irq(): void {
    this.fn.set_irq((this.isr & this.imr) !== 0);
  }

  /** Schedule the next fetch if there is work and nothing runs. */
  private kick(): void {
    if (this.running || this.timer || this.fatal || !(this.ctrl & CMDQ_CTRL_EN) || this.qhead === this.qtail) return;
    if (this.qbase % 32) {
      this.fn.guest_error(`command ring at ${hex(this.qbase)} is not 32-byte aligned: nothing fetched`);
      this.fatal = true;
      return;
    }
    this.timer = M.clock.schedule(CMDQ_FETCH_NS, () => this.fetch(), 'cmdq fetch');
  }

  private read(addr: number, len: number): DataView | null {
    const b = new Uint8Array(len);
    return this.fn.dma_read(addr, b, 0, len) ? new DataView(b.buffer) : null;
  }
  private write(addr: number, bytes: Uint8Array): boolean {
    return this.fn.dma_write(addr, bytes, 0, bytes.length);
  }

  /** Fetch the command at QHEAD, its chain and its parameter block. */
  private fetch(): void {
    this.timer = null;
    if (!(this.ctrl & CMDQ_CTRL_EN) || this.fatal || this.qhead === this.qtail) return;
    const slot = this.qhead;
    const cmd = this.qbase + slot * CMDQ_CMD_BYTES;
    const c = this.read(cmd, CMDQ_CMD_BYTES);
    if (!c) return this.fail(slot, cmd, CMDQ_ERR_ABORT, `command at ${hex(cmd)}`);
    const op = c.getUint8(18), flags = c.getUint8(19);
    if (op !== CMDQ_OP_CHECKSUM && op !== CMDQ_OP_FILL) return this.fail(slot, cmd, CMDQ_ERR_OPCODE, `opcode ${op}`);
    let seed = 0;
    const param = u64(c, 8);
    if (op === CMDQ_OP_FILL) {
      if (!param) return this.fail(slot, cmd, CMDQ_ERR_PARAM, 'FILL');
      if (param % CMDQ_PARAM_ALIGN) return this.fail(slot, cmd, CMDQ_ERR_ALIGN, `parameter block ${hex(param)} (needs 64-byte alignment)`);
      const p = this.read(param, CMDQ_PARAM_BYTES);
      if (!p) return this.fail(slot, cmd, CMDQ_ERR_ABORT, `parameter block ${hex(param)}`);
      seed = p.getUint32(0, true);
    }
    const pieces: Piece[] = [];
    for (let d = u64(c, 0); d; ) {
      if (pieces.length === CMDQ_MAX_CHAIN) return this.fail(slot, cmd, CMDQ_ERR_CHAIN, `chain from ${hex(u64(c, 0))}`);
      if (Math.floor(d / CMDQ_DESC_BOUNDARY) !== Math.floor((d + CMDQ_DESC_BYTES - 1) / CMDQ_DESC_BOUNDARY))
        return this.fail(slot, cmd, CMDQ_ERR_BOUNDARY, `descriptor ${hex(d)}`);
      if (d % CMDQ_DESC_ALIGN) return this.fail(slot, cmd, CMDQ_ERR_ALIGN, `descriptor ${hex(d)} (needs 32-byte alignment)`);
      const v = this.read(d, CMDQ_DESC_BYTES);
      if (!v) return this.fail(slot, cmd, CMDQ_ERR_ABORT, `descriptor ${hex(d)}`);
      const len = v.getUint32(8, true);
      if (len < 1 || len > CMDQ_MAX_PIECE) return this.fail(slot, cmd, CMDQ_ERR_LEN, `descriptor ${hex(d)} length ${len}`);
      pieces.push({ buf: u64(v, 0), len, desc: d });
      d = u64(v, 16);
    }
    const write = op === CMDQ_OP_FILL;
    // The data moves at completion; until then each piece is a transfer in flight (an unmap of
    // it is DMA_UNMAP_IN_FLIGHT). The descriptors were read now, as a fetch.
    const xfers = pieces.map((p) => M.own.begin(this.fn.dev!, p.buf, p.len, write,
      `cmdq ${write ? 'FILL' : 'CHECKSUM'} of ${p.len} bytes (slot ${slot})`, this.fn.dma_site));
    this.running = { slot, cmd, op, flags, pieces, seed, xfers };
    const bytes = pieces.reduce((n, p) => n + p.len, 0);
    this.timer = M.clock.schedule(CMDQ_RUN_NS + bytes, () => this.complete(), 'cmdq run');
  }

  /** Move the data, write the results back (descriptors, then the status), interrupt. */
  private complete(): void {
    this.timer = null;
    const r = this.running!;
    this.running = null;
    for (const t of r.xfers) M.own.end(t);
    let total = 0;
    let at = 0;
    const fill = r.op === CMDQ_OP_FILL ? cmdq_fill_pattern(r.seed, r.pieces.reduce((n, p) => n + p.len, 0)) : null;
    for (const p of r.pieces) {
      const back = new Uint8Array(8);
      const bv = new DataView(back.buffer);
      bv.setUint32(0, p.len, true);
      if (fill) {
        this.write(p.buf, fill.subarray(at, at + p.len));
        total += p.len;
      } else {
        const data = new Uint8Array(p.len);
        this.fn.dma_read(p.buf, data, 0, p.len);
        const h = cmdq_fnv1a(data);
        bv.setUint32(4, h, true);
        total = (total + h) >>> 0;
      }
      at += p.len;
      this.write(p.desc + 24, back);
    }
    const tot = new Uint8Array(4);
    new DataView(tot.buffer).setUint32(0, total >>> 0, true);
    this.write(r.cmd + 24, tot);
    this.write(r.cmd + 20, Uint8Array.of(0x1, 0));   // status last: DONE, no error
    this.qhead = (this.qhead + 1) % this.qsize;
    this.completed++;
    if (r.flags & 1) { this.isr |= CMDQ_INT_DONE; this.update_irq(); }
    this.kick();
  }

  private fail(slot: number, cmd: number, code: number, what: string): void {
    this.fn.guest_error(`slot ${slot}: ${what}: ${ERR_TEXT[code]}; the queue stops (FATAL) until CTRL.RST`);
    const st = new Uint8Array(2);
    st[0] = 0x1; st[1] = code;
    this.write(cmd + 20, st);
    this.errinfo = (slot << 16 | code) >>> 0;
    this.fatal = true;
    this.isr |= CMDQ_INT_DONE | CMDQ_INT_ERR;
    this.update_irq();
  }

  /** CTRL.RST, and device removal. */
  reset(): void {
    M.clock.cancel(this.timer);
    this.timer = null;
    if (this.running) for (const t of this.running.xfers) M.own.end(t);
    this.running = null;
    this.qhead = this.qtail = 0;
    this.isr = 0;
    this.fatal = false;
    this.errinfo = 0;
    this.update_irq();
  }
}
