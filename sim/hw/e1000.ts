// Intel 82540EM gigabit Ethernet (PCI 8086:100e), the subset QEMU's hw/net/e1000.c models and
// drivers/net/ethernet/intel/e1000/e1000_main.c drives, with legacy descriptors only. Names,
// offsets and bits are e1000_hw.h's. Exercise 10 (nic-rings) drives it.
//
// BAR 0, 128 KiB of MMIO, 4-byte accesses (another width: a guest error, the write dropped):
//   0x0000  CTRL    bit 26 RST (self-clearing: every register to its default, rings off, frames
//                   on the chip dropped), bit 6 SLU (set link up)
//   0x0008  STATUS  RO: bit 0 FD, bit 1 LU (SLU and the peer is there), bit 4 TXOFF (the peer
//                   sent PAUSE), bit 7 SPEED_1000
//   0x00C0  ICR     interrupt causes; reading returns them and clears them; writing 1s clears
//   0x00C8  ICS     WO: set causes
//   0x00D0  IMS     reads the mask; writing 1s enables those causes
//   0x00D8  IMC     WO: writing 1s disables those causes. INTx (level) while ICR & IMS.
//           causes: TXDW 0x01, TXQE 0x02, LSC 0x04, RXDMT0 0x10, RXO 0x40, RXT0 0x80
//   0x0100  RCTL    bit 1 EN, bit 15 BAM, bits 17:16 BSIZE and bit 25 BSEX (2048 bytes only: 0),
//                   bits 9:8 RDMTS (RXDMT0 at 1/2, 1/4, 1/8 of the ring free), bit 26 SECRC
//   0x0400  TCTL    bit 1 EN, bit 3 PSP
//   0x2800  RDBAL   RX ring bus address, low 32 bits (bits 3:0 read as 0)
//   0x2804  RDBAH   high 32 bits
//   0x2808  RDLEN   RX ring bytes, a multiple of 128 (bits 6:0 read as 0)
//   0x2810  RDH     head: the next descriptor the NIC fills
//   0x2818  RDT     tail: one past the last descriptor the driver gave; a write may deliver
//                   frames waiting on the chip at once (QEMU's set_rdt)
//   0x3800  TDBAL / 0x3804 TDBAH / 0x3808 TDLEN / 0x3810 TDH / 0x3818 TDT: the TX ring alike;
//                   a TDT write fetches the descriptors up to it at once (QEMU's start_xmit)
//   0x4010  MPC     missed packets: frames dropped for want of a descriptor (clears on read)
//
// Descriptors (16 bytes, little-endian). TX: u64 buffer_addr, u16 length, u8 cso, u8 cmd (EOP
// 0x01, IFCS 0x02, RS 0x08), u8 status (DD 0x01, written back when RS), u8 css, u16 special.
// RX: u64 buffer_addr, u16 length, u16 csum, u8 status (DD 0x01, EOP 0x02), u8 errors,
// u16 special, all but buffer_addr written back in one 16-byte write.
//
// Timing (seeded): as QEMU, a TDT write reads the new descriptors through the bus at once; unlike
// QEMU, which also copies the packet then, each packet's bytes are read when it goes on the wire,
// one after another (1 us + 8 ns a byte, plus up to 2 us), the buffer a transfer in flight until
// then: DD comes back after that, with TXDW. Frames from the peer arrive at seeded times; with no
// free descriptor a frame waits on the chip (16 at most, then RXO and MPC). A frame longer than
// 2048 bytes spans descriptors, EOP on the last. On the arm64 shapes the NIC also takes a step
// during some CPU loads of coherent memory (sim/mm/order.ts): the next frame arrives, or the
// packet on the wire finishes, between two of the driver's loads, as on hardware.
import { M } from '../kernel/machine.ts';
import { Rng } from '../kernel/random.ts';
import type { BarModel, PciFn, PciModel } from './pci.ts';
import type { Event } from './clock.ts';
import { dma_transfer_begin, dma_transfer_end, type DmaTransfer } from './bus.ts';
import { NetPeer, type NetPort } from './netpeer.ts';

export const E1000_VENDOR = 0x8086, E1000_DEV_ID_82540EM = 0x100e;
export const E1000_CTRL = 0x0000, E1000_STATUS = 0x0008, E1000_ICR = 0x00c0, E1000_ICS = 0x00c8,
  E1000_IMS = 0x00d0, E1000_IMC = 0x00d8, E1000_RCTL = 0x0100, E1000_TCTL = 0x0400,
  E1000_RDBAL = 0x2800, E1000_RDBAH = 0x2804, E1000_RDLEN = 0x2808, E1000_RDH = 0x2810, E1000_RDT = 0x2818,
  E1000_TDBAL = 0x3800, E1000_TDBAH = 0x3804, E1000_TDLEN = 0x3808, E1000_TDH = 0x3810, E1000_TDT = 0x3818,
  E1000_MPC = 0x4010;
export const E1000_CTRL_SLU = 0x00000040, E1000_CTRL_RST = 0x04000000;
export const E1000_STATUS_FD = 0x1, E1000_STATUS_LU = 0x2, E1000_STATUS_TXOFF = 0x10, E1000_STATUS_SPEED_1000 = 0x80;
export const E1000_ICR_TXDW = 0x01, E1000_ICR_TXQE = 0x02, E1000_ICR_LSC = 0x04, E1000_ICR_RXDMT0 = 0x10,
  E1000_ICR_RXO = 0x40, E1000_ICR_RXT0 = 0x80;
export const E1000_RCTL_EN = 0x2, E1000_RCTL_RDMTS = 0x300, E1000_RCTL_BAM = 0x8000, E1000_RCTL_SZ = 0x30000,
  E1000_RCTL_BSEX = 0x02000000, E1000_RCTL_SECRC = 0x04000000;
export const E1000_TCTL_EN = 0x2, E1000_TCTL_PSP = 0x8;
export const E1000_TXD_CMD_EOP = 0x01, E1000_TXD_CMD_IFCS = 0x02, E1000_TXD_CMD_RS = 0x08, E1000_TXD_STAT_DD = 0x01;
export const E1000_RXD_STAT_DD = 0x01, E1000_RXD_STAT_EOP = 0x02;
export const E1000_DESC_BYTES = 16, E1000_RXBUFFER_2048 = 2048, E1000_MAX_TX_LEN = 16288;
/** Frames the chip holds while it has no descriptor for them. */
export const E1000_RX_FIFO_FRAMES = 16;
export const E1000_TX_BASE_NS = 1000, E1000_TX_NS_PER_BYTE = 8, E1000_TX_JITTER_NS = 2000;
const ALL_CAUSES = E1000_ICR_TXDW | E1000_ICR_TXQE | E1000_ICR_LSC | E1000_ICR_RXDMT0 | E1000_ICR_RXO | E1000_ICR_RXT0;
const P_STEP_TX = 1 / 2;

interface TxPacket { idx: number; addr: number; len: number; cmd: number; upper: DataView; xfer: DmaTransfer }

const hex = (x: number) => '0x' + x.toString(16).padStart(16, '0');

export class E1000 implements PciModel, NetPort {
  readonly name = 'e1000';
  readonly vendor = E1000_VENDOR;
  readonly device = E1000_DEV_ID_82540EM;
  readonly revision = 3;
  readonly class_code = 0x020000;   // Ethernet controller
  readonly subsystem_vendor = 0x1af4;
  readonly subsystem_device = 0x1100;
  readonly msi_vectors = 0;
  readonly bars: BarModel[];
  fn!: PciFn;
  readonly peer: NetPeer;

  ctrl = 0; icr = 0; ims = 0; rctl = 0; tctl = 0; mpc = 0;
  rdba = 0; rdlen = 0; rdh = 0; rdt = 0;
  tdba = 0; tdlen = 0; tdh = 0; tdt = 0;
  /** The next TX descriptor to fetch (TDH trails it while packets are on the chip). */
  private tx_fetch = 0;
  private tx_queue: TxPacket[] = [];
  private tx_frame: Uint8Array[] = [];
  private tx_timer: Event | null = null;
  private rx_fifo: Uint8Array[] = [];
  private rx_timer: Event | null = null;
  private link = false;
  private readonly rng: Rng;
  /** Counters for tests: frames the NIC put on the wire, frames written to the ring. */
  sent = 0;
  received = 0;

  constructor(peer?: NetPeer) {
    this.bars = [{ size: 128 * 1024, read: (o, s) => this.mmio_read(o, s), write: (o, s, v) => this.mmio_write(o, s, v) }];
    this.peer = peer ?? new NetPeer();
    this.peer.connect(this);
    this.rng = new Rng(M.seed ^ 0xe1000);
  }
  attach(fn: PciFn): void {
    this.fn = fn;
    M.order?.add_step(() => this.step());
  }

  // ---- registers ----------------------------------------------------------------------------

  private mmio_read(off: number, size: number): number {
    if (size !== 4) return size === 8 ? -1 : 2 ** (size * 8) - 1;
    switch (off) {
      case E1000_CTRL: return this.ctrl;
      case E1000_STATUS: return this.status();
      case E1000_ICR: { const v = this.icr; this.icr = 0; this.update_irq(); return v; }
      case E1000_IMS: return this.ims;
      case E1000_RCTL: return this.rctl;
      case E1000_TCTL: return this.tctl;
      case E1000_RDBAL: return this.rdba % 2 ** 32;
      case E1000_RDBAH: return Math.floor(this.rdba / 2 ** 32);
      case E1000_RDLEN: return this.rdlen;
      case E1000_RDH: return this.rdh;
      case E1000_RDT: return this.rdt;
      case E1000_TDBAL: return this.tdba % 2 ** 32;
      case E1000_TDBAH: return Math.floor(this.tdba / 2 ** 32);
      case E1000_TDLEN: return this.tdlen;
      case E1000_TDH: return this.tdh;
      case E1000_TDT: return this.tdt;
      case E1000_MPC: { const v = this.mpc; this.mpc = 0; return v; }
      default: return 0;
    }
  }

  status(): number {
    return E1000_STATUS_FD | E1000_STATUS_SPEED_1000 | (this.link ? E1000_STATUS_LU : 0) |
      (this.peer.paused ? E1000_STATUS_TXOFF : 0);
  }

  private mmio_write(off: number, size: number, v: number): void {
    if (size !== 4) {
      this.fn.guest_error(`${size}-byte write to 0x${off.toString(16)} ignored: registers take 4-byte accesses`);
      return;
    }
    v >>>= 0;
    switch (off) {
      case E1000_CTRL:
        if (v & E1000_CTRL_RST) { this.reset(); v &= ~E1000_CTRL_RST; }
        this.ctrl = v;
        this.update_link();
        break;
      case E1000_ICR: this.icr &= ~v; this.update_irq(); break;
      case E1000_ICS: this.set_ics(v & ALL_CAUSES); break;
      case E1000_IMS: this.ims |= v & ALL_CAUSES; this.update_irq(); break;
      case E1000_IMC: this.ims &= ~v; this.update_irq(); break;
      case E1000_RCTL: {
        if ((v & (E1000_RCTL_SZ | E1000_RCTL_BSEX)) !== 0) {
          this.fn.guest_error(`RCTL 0x${v.toString(16)}: only 2048-byte receive buffers are modelled (BSIZE 0, BSEX 0); receive stays off`);
          v &= ~E1000_RCTL_EN;
        }
        const was = this.rctl & E1000_RCTL_EN;
        this.rctl = v;
        if (!(v & E1000_RCTL_EN)) this.rx_fifo.length = 0;
        else if (!was) this.rx_flush();
        break;
      }
      case E1000_TCTL: {
        const was = this.tctl & E1000_TCTL_EN;
        this.tctl = v;
        if (!(v & E1000_TCTL_EN) && was) this.tx_stop();
        else if (v & E1000_TCTL_EN && !was) this.tx_start();
        break;
      }
      case E1000_RDBAL: this.rdba = Math.floor(this.rdba / 2 ** 32) * 2 ** 32 + ((v & ~0xf) >>> 0); break;
      case E1000_RDBAH: this.rdba = (v & 0x1fffff) * 2 ** 32 + this.rdba % 2 ** 32; break;
      case E1000_RDLEN: this.rdlen = v & 0xfff80; break;
      case E1000_RDH: this.rdh = v & 0xffff; break;
      case E1000_RDT:
        if ((v & 0xffff) >= this.rx_count()) { this.fn.guest_error(`RDT ${v} ignored: the receive ring has ${this.rx_count()} descriptors`); break; }
        this.rdt = v & 0xffff;
        this.fn.dma_site = this.fn.last_write_site;
        this.rx_flush();
        break;
      case E1000_TDBAL: this.tdba = Math.floor(this.tdba / 2 ** 32) * 2 ** 32 + ((v & ~0xf) >>> 0); break;
      case E1000_TDBAH: this.tdba = (v & 0x1fffff) * 2 ** 32 + this.tdba % 2 ** 32; break;
      case E1000_TDLEN: this.tdlen = v & 0xfff80; break;
      case E1000_TDH: this.tdh = this.tx_fetch = v & 0xffff; break;
      case E1000_TDT:
        if ((v & 0xffff) >= this.tx_count()) { this.fn.guest_error(`TDT ${v} ignored: the transmit ring has ${this.tx_count()} descriptors`); break; }
        this.tdt = v & 0xffff;
        this.fn.dma_site = this.fn.last_write_site;
        this.tx_start();
        break;
      default: break;
    }
  }

  private rx_count(): number { return this.rdlen / E1000_DESC_BYTES; }
  private tx_count(): number { return this.tdlen / E1000_DESC_BYTES; }

  private set_ics(cause: number): void {
    this.icr |= cause;
    this.update_irq();
  }
  private update_irq(): void {
    this.fn.set_irq((this.icr & this.ims) !== 0);
  }
  private update_link(): void {
    const up = (this.ctrl & E1000_CTRL_SLU) !== 0 && this.peer.up;
    if (up === this.link) return;
    this.link = up;
    this.set_ics(E1000_ICR_LSC);
    if (up) this.rx_flush();
  }

  /** CTRL.RST (and device removal): every register to its default, nothing left on the chip. */
  reset(): void {
    this.tx_drop();
    M.clock.cancel(this.rx_timer);
    this.rx_timer = null;
    this.rx_fifo.length = 0;
    this.ctrl = this.icr = this.ims = this.rctl = this.tctl = this.mpc = 0;
    this.rdba = this.rdlen = this.rdh = this.rdt = 0;
    this.tdba = this.tdlen = this.tdh = this.tdt = this.tx_fetch = 0;
    this.link = false;
    this.update_irq();
    this.wire_changed();
  }

  // ---- transmit -----------------------------------------------------------------------------

  private tx_on(): boolean {
    return (this.tctl & E1000_TCTL_EN) !== 0 && this.tx_count() > 0;
  }

  /** Fetch every descriptor up to TDT (QEMU's start_xmit reads them at the TDT write). */
  private tx_start(): void {
    if (!this.tx_on()) return;
    const n = this.tx_count();
    while (this.tx_fetch !== this.tdt) {
      const idx = this.tx_fetch;
      const b = new Uint8Array(E1000_DESC_BYTES);
      const at = this.tdba + idx * E1000_DESC_BYTES;
      this.tx_fetch = (idx + 1) % n;
      if (!this.fn.dma_read(at, b, 0, E1000_DESC_BYTES)) {
        this.fn.guest_error(`TX descriptor ${idx} at ${hex(at)}: the fetch failed (nothing answered, or the IOMMU blocked it)`);
        this.tx_queue.push({ idx, addr: 0, len: 0, cmd: 0, upper: new DataView(b.buffer, 12, 4), xfer: null });
        continue;
      }
      const d = new DataView(b.buffer);
      const addr = Number(d.getBigUint64(0, true) & 0x1fffffffffffffn);
      let len = d.getUint16(8, true);
      const cmd = d.getUint8(11);
      if (len === 0 || len > E1000_MAX_TX_LEN) {
        this.fn.guest_error(`TX descriptor ${idx}: length ${len} (1..${E1000_MAX_TX_LEN}): descriptor skipped`);
        len = 0;
      }
      const xfer = len ? dma_transfer_begin(this.fn, addr, len, false, `e1000 TX of ${len} bytes (descriptor ${idx})`) : null;
      this.tx_queue.push({ idx, addr, len, cmd, upper: new DataView(b.buffer, 12, 4), xfer });
    }
    this.tx_kick();
  }

  private tx_kick(): void {
    if (this.tx_timer || !this.tx_queue.length || this.peer.paused || !this.tx_on()) return;
    const p = this.tx_queue[0]!;
    const ns = E1000_TX_BASE_NS + E1000_TX_NS_PER_BYTE * p.len + this.rng.below(E1000_TX_JITTER_NS);
    this.tx_timer = M.clock.schedule(ns, () => this.tx_done(), 'e1000 tx');
  }

  /** The packet at TDH is on the wire: its bytes read, the frame to the peer at EOP, DD back. */
  private tx_done(): void {
    this.tx_timer = null;
    const p = this.tx_queue.shift();
    if (!p) return;
    dma_transfer_end(p.xfer);
    if (p.len) {
      const data = new Uint8Array(p.len);
      this.fn.dma_read(p.addr, data, 0, p.len);
      this.tx_frame.push(data);
    }
    if (p.cmd & E1000_TXD_CMD_EOP) {
      const total = this.tx_frame.reduce((n, f) => n + f.length, 0);
      const frame = new Uint8Array(total);
      let at = 0;
      for (const f of this.tx_frame) { frame.set(f, at); at += f.length; }
      this.tx_frame = [];
      if (total) { this.sent++; this.peer.deliver(frame); }
    }
    if (p.cmd & E1000_TXD_CMD_RS) {
      // QEMU's txdesc_writeback: the upper dword, with DD.
      p.upper.setUint8(0, p.upper.getUint8(0) | E1000_TXD_STAT_DD);
      const u = new Uint8Array(p.upper.buffer, 12, 4);
      this.fn.dma_write(this.tdba + p.idx * E1000_DESC_BYTES + 12, u, 0, 4);
    }
    this.tdh = (p.idx + 1) % this.tx_count();
    this.set_ics(E1000_ICR_TXDW | (this.tdh === this.tdt ? E1000_ICR_TXQE : 0));
    this.tx_kick();
  }

  /** TCTL.EN cleared: the packet on the wire finishes; those fetched behind it are dropped from
   *  the chip (to be fetched again from TDH if transmit is enabled again). */
  private tx_stop(): void {
    const cur = this.tx_timer ? this.tx_queue.shift() : undefined;
    for (const p of this.tx_queue) dma_transfer_end(p.xfer);
    this.tx_queue = cur ? [cur] : [];
    this.tx_fetch = cur ? (cur.idx + 1) % this.tx_count() : this.tdh;
  }
  private tx_drop(): void {
    M.clock.cancel(this.tx_timer);
    this.tx_timer = null;
    for (const p of this.tx_queue) dma_transfer_end(p.xfer);
    this.tx_queue = [];
    this.tx_frame = [];
  }

  /** The peer's PAUSE ended. */
  resumed(): void {
    this.tx_kick();
  }

  // ---- receive ------------------------------------------------------------------------------

  private rx_on(): boolean {
    return (this.rctl & E1000_RCTL_EN) !== 0 && this.link && this.rx_count() > 0;
  }
  /** Descriptors the device may fill: RDH up to RDT. */
  private rx_free(): number {
    const n = this.rx_count();
    return n ? (this.rdt - this.rdh + n) % n : 0;
  }

  /** The wire's schedule changed: arm the timer for the next arrival. */
  wire_changed(): void {
    M.clock.cancel(this.rx_timer);
    this.rx_timer = null;
    const at = this.peer.next_at();
    if (at === Infinity) return;
    this.rx_timer = M.clock.schedule(at - M.clock.now, () => this.rx_arrive(), 'e1000 rx');
  }

  private rx_arrive(): void {
    this.rx_timer = null;
    const f = this.peer.take();
    if (f) this.rx_frame(f);
    this.wire_changed();
  }

  /** A frame came in from the wire. */
  private rx_frame(f: Uint8Array): void {
    if (!this.rx_on()) return;   // a MAC with receive off drops what arrives
    if (this.rx_fifo.length || !this.rx_write(f)) {
      if (this.rx_fifo.length < E1000_RX_FIFO_FRAMES) this.rx_fifo.push(f);
      else { this.mpc++; this.set_ics(E1000_ICR_RXO); }
    }
  }

  /** Frames waiting on the chip go to descriptors now there are some (QEMU's set_rdt). */
  private rx_flush(): void {
    if (!this.rx_on()) return;
    while (this.rx_fifo.length && this.rx_write(this.rx_fifo[0]!)) this.rx_fifo.shift();
  }

  /** e1000_receive_iov(): the frame into the descriptors at RDH, or false if they are too few. */
  private rx_write(f: Uint8Array): boolean {
    const n = this.rx_count();
    const need = Math.max(1, Math.ceil(f.length / E1000_RXBUFFER_2048));
    if (this.rx_free() < need) return false;
    for (let off = 0, k = 0; k < need; k++) {
      const at = this.rdba + this.rdh * E1000_DESC_BYTES;
      const b = new Uint8Array(E1000_DESC_BYTES);
      const d = new DataView(b.buffer);
      if (!this.fn.dma_read(at, b, 0, E1000_DESC_BYTES)) {
        this.fn.guest_error(`RX descriptor ${this.rdh} at ${hex(at)}: the fetch failed (nothing answered, or the IOMMU blocked it)`);
        return true;
      }
      const addr = Number(d.getBigUint64(0, true) & 0x1fffffffffffffn);
      const len = Math.min(E1000_RXBUFFER_2048, f.length - off);
      // As QEMU: a descriptor without a buffer is written back, its data skipped.
      if (addr) this.fn.dma_write(addr, f, off, len);
      off += len;
      d.setUint16(8, len, true);
      d.setUint16(10, 0, true);
      d.setUint8(12, E1000_RXD_STAT_DD | (k === need - 1 ? E1000_RXD_STAT_EOP : 0));
      d.setUint8(13, 0);
      d.setUint16(14, 0, true);
      this.fn.dma_write(at, b, 0, E1000_DESC_BYTES);
      this.rdh = (this.rdh + 1) % n;
    }
    this.received++;
    const shift = ((this.rctl & E1000_RCTL_RDMTS) >> 8) + 1;
    this.set_ics(E1000_ICR_RXT0 | (this.rx_free() <= n >> shift ? E1000_ICR_RXDMT0 : 0));
    return true;
  }

  // ---- concurrency with the CPU (arm64 shapes) ------------------------------------------------

  /** A device step during a CPU load: the next frame arrives now, or the packet on the wire
   *  finishes now. */
  private step(): void {
    if (this.tx_timer && this.rng.chance(P_STEP_TX)) {
      M.clock.cancel(this.tx_timer);
      this.tx_done();
      return;
    }
    if (this.peer.in_flight() && this.rx_on()) {
      const f = this.peer.take()!;
      this.rx_frame(f);
      this.wire_changed();
    }
  }
}
