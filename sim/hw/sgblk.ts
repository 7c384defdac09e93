// sgblk: dmalab's scatter-gather block device (PCI 1234:5347), a 1 MiB RAM disk of 512-byte
// sectors whose DMA engine walks a descriptor table in memory, as AHCI's PRDT is walked by
// QEMU's hw/ide/ahci.c (ahci_populate_sglist) and drivers/ata/libahci.c (ahci_fill_sg) fills it.
//
// BAR 0, 4 KiB of MMIO, 32-bit registers only (another width reads all ones, drops the write,
// and is a guest error):
//   0x00  RO  ID        0x53474231 ("SGB1")
//   0x04  RO  NPRD      descriptors one command may use: 32
//   0x08  RO  MAXSEG    bytes one descriptor may cover: 32768
//   0x0c  RO  CAPACITY  sectors on the disk: 2048
//   0x10  RW  PRDT_LO   bus address of the descriptor table, low 32 bits (128-byte aligned)
//   0x14  RW  PRDT_HI   high 32 bits
//   0x18  RW  LBA       first sector
//   0x1c  RW  NSECT     sectors to move, 1..256
//   0x20  RW  CMD       bit 0 START (the doorbell; reads 1 while the command runs), bit 1 WRITE
//                       (RAM -> disk; 0: disk -> RAM). Writes to 0x10-0x20 while running are
//                       ignored (a guest error).
//   0x24  RO  STATUS    bit 0 BUSY, bit 1 ERR (the last command failed)
//   0x28  RO  ERROR     why: bit 0 PRD_LEN (a descriptor longer than MAXSEG), bit 1 NO_EOT (NPRD
//                       descriptors without EOT), bit 2 LEN (the descriptors' bytes are not
//                       NSECT * 512), bit 3 LBA (past CAPACITY, or NSECT out of range), bit 4 BUS
//                       (a DMA access of the table or a segment failed), bit 5 ALIGN (table not
//                       128-byte aligned, or an odd byte count)
//   0x2c  RW1C ISR      bit 0 DONE: a command finished, well or not
//   0x30  RW  IER       bit 0: interrupt on DONE (INTx)
//
// A descriptor is 16 bytes, little-endian, as AHCI's struct ahci_sg: +0 address low, +4 address
// high, +8 reserved, +0xc flags_size: bits 21:0 the byte count minus one (zero-based), bit 31 EOT
// (the last descriptor). On START the device reads descriptors through the bus until EOT and
// checks them and the command; nothing moves if one is wrong. Then, SGBLK_DELAY_NS later, it
// moves every segment through the bus in table order, stops at the first access that fails, and
// raises DONE. Each error is logged as QEMU's LOG_GUEST_ERROR would be, naming the descriptor.
import { M } from '../kernel/machine.ts';
import type { BarModel, PciFn, PciModel } from './pci.ts';
import type { Event } from './clock.ts';

export const SGBLK_VENDOR = 0x1234, SGBLK_DEVICE = 0x5347;
export const SGBLK_REG_ID = 0x00, SGBLK_REG_NPRD = 0x04, SGBLK_REG_MAXSEG = 0x08, SGBLK_REG_CAPACITY = 0x0c,
  SGBLK_REG_PRDT_LO = 0x10, SGBLK_REG_PRDT_HI = 0x14, SGBLK_REG_LBA = 0x18, SGBLK_REG_NSECT = 0x1c,
  SGBLK_REG_CMD = 0x20, SGBLK_REG_STATUS = 0x24, SGBLK_REG_ERROR = 0x28, SGBLK_REG_ISR = 0x2c, SGBLK_REG_IER = 0x30;
export const SGBLK_ID = 0x53474231, SGBLK_NPRD = 32, SGBLK_MAXSEG = 32768, SGBLK_SECTOR = 512, SGBLK_CAPACITY = 2048,
  SGBLK_MAX_NSECT = 256, SGBLK_PRDT_ALIGN = 128;
export const SGBLK_CMD_START = 0x1, SGBLK_CMD_WRITE = 0x2;
export const SGBLK_STATUS_BUSY = 0x1, SGBLK_STATUS_ERR = 0x2;
export const SGBLK_ERR_PRD_LEN = 0x1, SGBLK_ERR_NO_EOT = 0x2, SGBLK_ERR_LEN = 0x4, SGBLK_ERR_LBA = 0x8,
  SGBLK_ERR_BUS = 0x10, SGBLK_ERR_ALIGN = 0x20;
export const SGBLK_ISR_DONE = 0x1;
export const SGBLK_PRD_SIZE = 16, SGBLK_PRD_EOT = 0x80000000, SGBLK_PRD_DBC_MASK = 0x3fffff;
export const SGBLK_DELAY_NS = 250e3;

/** One descriptor as the device read it. */
export interface SgblkSeg { addr: number; len: number }

export class Sgblk implements PciModel {
  readonly name = 'sgblk';
  readonly vendor = SGBLK_VENDOR;
  readonly device = SGBLK_DEVICE;
  readonly revision = 0x01;
  readonly class_code = 0x018000;     // mass storage, other
  readonly msi_vectors = 0;
  readonly bars: BarModel[];
  fn!: PciFn;

  /** The disk. Tests read and write it directly. */
  readonly disk = new Uint8Array(SGBLK_CAPACITY * SGBLK_SECTOR);
  prdt = 0;
  lba = 0;
  nsect = 0;
  cmd = 0;
  error = 0;
  isr = 0;
  ier = 0;
  /** The descriptors of the last command, as read (for tests), and commands completed. */
  last_table: SgblkSeg[] = [];
  commands = 0;
  private timer: Event | null = null;
  private inflight: ReturnType<typeof M.own.begin>[] = [];

  constructor() {
    this.bars = [{ size: 4096, read: (o, s) => this.mmio_read(o, s), write: (o, s, v) => this.mmio_write(o, s, v) }];
  }

  attach(fn: PciFn): void {
    this.fn = fn;
  }

  busy(): boolean {
    return (this.cmd & SGBLK_CMD_START) !== 0;
  }

  private mmio_read(off: number, size: number): number {
    if (size !== 4) {
      this.fn.guest_error(`${size}-byte read of 0x${off.toString(16).padStart(2, '0')} ignored: registers take 4-byte accesses only`);
      return size === 8 ? -1 : 2 ** (size * 8) - 1;
    }
    switch (off) {
      case SGBLK_REG_ID: return SGBLK_ID;
      case SGBLK_REG_NPRD: return SGBLK_NPRD;
      case SGBLK_REG_MAXSEG: return SGBLK_MAXSEG;
      case SGBLK_REG_CAPACITY: return SGBLK_CAPACITY;
      case SGBLK_REG_PRDT_LO: return this.prdt % 2 ** 32;
      case SGBLK_REG_PRDT_HI: return Math.floor(this.prdt / 2 ** 32);
      case SGBLK_REG_LBA: return this.lba;
      case SGBLK_REG_NSECT: return this.nsect;
      case SGBLK_REG_CMD: return this.cmd;
      case SGBLK_REG_STATUS: return (this.busy() ? SGBLK_STATUS_BUSY : 0) | (this.error ? SGBLK_STATUS_ERR : 0);
      case SGBLK_REG_ERROR: return this.error;
      case SGBLK_REG_ISR: return this.isr;
      case SGBLK_REG_IER: return this.ier;
      default: return 0xffffffff;
    }
  }

  private mmio_write(off: number, size: number, val: number): void {
    if (size !== 4) {
      this.fn.guest_error(`${size}-byte write to 0x${off.toString(16).padStart(2, '0')} ignored: registers take 4-byte accesses only`);
      return;
    }
    const v = val >>> 0;
    if (off >= SGBLK_REG_PRDT_LO && off <= SGBLK_REG_CMD && this.busy()) {
      this.fn.guest_error(`write to register 0x${off.toString(16)} ignored: a command is still running (wait for DONE)`);
      return;
    }
    switch (off) {
      case SGBLK_REG_PRDT_LO: this.prdt = Math.floor(this.prdt / 2 ** 32) * 2 ** 32 + v; break;
      case SGBLK_REG_PRDT_HI: this.prdt = v * 2 ** 32 + this.prdt % 2 ** 32; break;
      case SGBLK_REG_LBA: this.lba = v; break;
      case SGBLK_REG_NSECT: this.nsect = v; break;
      case SGBLK_REG_CMD:
        if (!(v & SGBLK_CMD_START)) break;
        this.cmd = v & (SGBLK_CMD_START | SGBLK_CMD_WRITE);
        this.start();
        break;
      case SGBLK_REG_ISR: this.isr &= ~v; this.update_irq(); break;
      case SGBLK_REG_IER: this.ier = v & SGBLK_ISR_DONE; this.update_irq(); break;
    }
  }

  private update_irq(): void {
    this.fn.set_irq((this.isr & this.ier) !== 0);
  }

  private fail(bit: number, text: string): void {
    this.error |= bit;
    this.fn.guest_error(text);
  }

  /** The doorbell: fetch and check the table, then schedule the data movement. */
  private start(): void {
    this.fn.dma_site = this.fn.last_write_site;
    this.error = 0;
    this.last_table = this.fetch_table();
    const total = this.last_table.reduce((n, s) => n + s.len, 0);
    if (!this.error && total !== this.nsect * SGBLK_SECTOR) {
      this.fail(SGBLK_ERR_LEN, `the descriptors cover ${total} bytes, but NSECT ${this.nsect} is ${this.nsect * SGBLK_SECTOR} bytes`);
    }
    if (this.nsect < 1 || this.nsect > SGBLK_MAX_NSECT || this.lba + this.nsect > SGBLK_CAPACITY) {
      this.fail(SGBLK_ERR_LBA, `sectors ${this.lba}..${this.lba + this.nsect - 1} (NSECT ${this.nsect}) are not on the disk (1..${SGBLK_MAX_NSECT} sectors, ${SGBLK_CAPACITY} in all)`);
    }
    const write_ram = !(this.cmd & SGBLK_CMD_WRITE);
    if (!this.error && this.fn.dev) {
      const what = `sgblk ${write_ram ? 'read (disk -> RAM)' : 'write (RAM -> disk)'} of ${total} bytes`;
      this.inflight = this.last_table.map((s) => M.own.begin(this.fn.dev!, s.addr, s.len, write_ram, what, this.fn.dma_site));
    }
    this.timer = M.clock.schedule(SGBLK_DELAY_NS, () => this.complete(), 'sgblk command');
  }

  /** ahci_populate_sglist(): read descriptors until EOT, at most NPRD, checking each. */
  private fetch_table(): SgblkSeg[] {
    const segs: SgblkSeg[] = [];
    if (this.prdt % SGBLK_PRDT_ALIGN) {
      this.fail(SGBLK_ERR_ALIGN, `descriptor table at 0x${this.prdt.toString(16)} is not ${SGBLK_PRDT_ALIGN}-byte aligned`);
      return segs;
    }
    const raw = new Uint8Array(SGBLK_PRD_SIZE);
    const dv = new DataView(raw.buffer);
    for (let i = 0; i < SGBLK_NPRD; i++) {
      if (!this.fn.dma_read(this.prdt + i * SGBLK_PRD_SIZE, raw, 0, SGBLK_PRD_SIZE)) {
        this.fail(SGBLK_ERR_BUS, `PRD ${i}: reading the descriptor at 0x${(this.prdt + i * SGBLK_PRD_SIZE).toString(16)} failed`);
        return segs;
      }
      const addr = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
      const flags = dv.getUint32(12, true);
      const len = (flags & SGBLK_PRD_DBC_MASK) + 1;
      if (len > SGBLK_MAXSEG) this.fail(SGBLK_ERR_PRD_LEN, `PRD ${i}: ${len} bytes, more than MAXSEG ${SGBLK_MAXSEG}`);
      else if (len & 1) this.fail(SGBLK_ERR_ALIGN, `PRD ${i}: odd byte count ${len} (bit 0 of the zero-based count must be 1)`);
      segs.push({ addr, len });
      if (flags & SGBLK_PRD_EOT) return segs;
    }
    this.fail(SGBLK_ERR_NO_EOT, `${SGBLK_NPRD} descriptors read and none has EOT (bit 31) set`);
    return segs;
  }

  /** Move the data, segment by segment, then DONE. */
  private complete(): void {
    this.timer = null;
    for (const t of this.inflight) M.own.end(t);
    this.inflight = [];
    if (!this.error) {
      const write_ram = !(this.cmd & SGBLK_CMD_WRITE);
      let pos = this.lba * SGBLK_SECTOR;
      for (const [i, s] of this.last_table.entries()) {
        const ok = write_ram ? this.fn.dma_write(s.addr, this.disk, pos, s.len) : this.fn.dma_read(s.addr, this.disk, pos, s.len);
        if (!ok) {
          this.fail(SGBLK_ERR_BUS, `PRD ${i}: ${write_ram ? 'writing' : 'reading'} ${s.len} bytes at bus address 0x${s.addr.toString(16)} failed`);
          break;
        }
        pos += s.len;
      }
    }
    this.commands++;
    this.cmd &= ~SGBLK_CMD_START;
    this.isr |= SGBLK_ISR_DONE;
    this.update_irq();
  }

  /** Cancel the running command (device reset / removal). */
  reset(): void {
    M.clock.cancel(this.timer);
    for (const t of this.inflight) M.own.end(t);
    this.inflight = [];
  }
}
