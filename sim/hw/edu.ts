// QEMU's "edu" educational PCI device (hw/misc/edu.c, docs/specs/edu.rst), PCI 1234:11e8.
//
// BAR 0, 1 MiB of MMIO. Offsets below 0x80 take 4-byte accesses only; from 0x80 on, 4 or 8.
// A wrong size reads all ones and the write is dropped; so is any offset without a register.
//
//   0x00  RO  identification 0xRRrr00ed: 0x010000ed (version 1.0)
//   0x04  RW  liveness: reads back the bitwise NOT of the value written
//   0x08  RW  factorial: write n, read n! (u32, wraps) once status bit 0 clears
//   0x20  RW  status: bit 0 computing (RO), bit 7 raise FACT_IRQ when the factorial is done
//   0x24  RO  interrupt status: the bits that raised the interrupt
//   0x60  WO  interrupt raise: OR bits into the interrupt status (and interrupt)
//   0x64  WO  interrupt acknowledge: clear bits; the line drops when none are left
//   0x80  RW  DMA source address        (64-bit field; writes ignored while a transfer runs)
//   0x88  RW  DMA destination address   (64-bit field; ignored while running)
//   0x90  RW  DMA transfer count        (64-bit field; ignored while running)
//   0x98  RW  DMA command: bit 0 start (reads 1 until done), bit 1 direction (0: RAM -> edu,
//             1: edu -> RAM), bit 2 raise DMA_IRQ (0x100) when done; a write without bit 0,
//             or while running, is ignored
//
// The DMA buffer is 4 KiB inside the device at device address 0x40000 (not visible through
// the BAR). A transfer happens 100 ms of virtual time after the start. The RAM-side address is
// clamped to the device's 28-bit DMA mask ("EDU: clamping DMA ..."); a device-side range
// outside [0x40000, 0x41000) is rejected ("EDU: DMA range ... out of bounds"), and, as patched
// upstream in 2025, nothing is copied then. Interrupts: INTx (level) by default, or one MSI.
import { M } from '../kernel/machine.ts';
import type { BarModel, PciFn, PciModel } from './pci.ts';
import type { Site } from '../kernel/site.ts';
import type { Event } from './clock.ts';
import { dma_describe, dma_transfer_begin, dma_transfer_end, type DmaTransfer } from './bus.ts';
import { u64_bits } from '../lib/vsprintf.ts';

export const EDU_VENDOR = 0x1234, EDU_DEVICE = 0x11e8;
export const EDU_REG_ID = 0x00, EDU_REG_LIVENESS = 0x04, EDU_REG_FACT = 0x08, EDU_REG_STATUS = 0x20,
  EDU_REG_IRQ_STATUS = 0x24, EDU_REG_IRQ_RAISE = 0x60, EDU_REG_IRQ_ACK = 0x64, EDU_REG_DMA_SRC = 0x80,
  EDU_REG_DMA_DST = 0x88, EDU_REG_DMA_CNT = 0x90, EDU_REG_DMA_CMD = 0x98;
export const EDU_STATUS_COMPUTING = 0x01, EDU_STATUS_IRQFACT = 0x80;
export const EDU_DMA_RUN = 0x1, EDU_DMA_TO_RAM = 0x2, EDU_DMA_IRQ = 0x4;
export const EDU_FACT_IRQ = 0x001, EDU_DMA_IRQ_BIT = 0x100;
export const EDU_DMA_BUF = 0x40000, EDU_DMA_SIZE = 4096;
export const EDU_DMA_DELAY_NS = 100e6, EDU_FACT_DELAY_NS = 50e3;

const U64 = 0xffffffffffffffffn;

export interface EduOptions {
  dma_mask?: bigint;
  /** Virtual time a DMA transfer takes (default 100 ms, as in QEMU): a slower device lets a
   *  test outlast a driver's timeout while the transfer still runs. */
  dma_delay_ns?: number;
}

export class Edu implements PciModel {
  readonly name = 'edu';
  readonly vendor = EDU_VENDOR;
  readonly device = EDU_DEVICE;
  readonly revision = 0x10;
  readonly class_code = 0x00ff00;
  readonly msi_vectors = 1;
  readonly bars: BarModel[];
  fn!: PciFn;

  // EduState
  addr4 = 0;
  fact = 0;
  status = 0;
  irq_status = 0;
  dma = { src: 0n, dst: 0n, cnt: 0n, cmd: 0n };
  readonly dma_buf = new Uint8Array(EDU_DMA_SIZE);
  readonly dma_mask: bigint;
  readonly dma_delay_ns: number;
  private dma_timer: Event | null = null;
  private fact_timer: Event | null = null;
  private inflight: DmaTransfer = null;
  /** Transfers completed (for tests and the benchmark). */
  transfers = 0;

  constructor(opts: EduOptions = {}) {
    this.dma_mask = opts.dma_mask ?? (1n << 28n) - 1n;
    this.dma_delay_ns = opts.dma_delay_ns ?? EDU_DMA_DELAY_NS;
    this.bars = [{ size: 1 << 20, read: (o, s) => this.mmio_read(o, s), write: (o, s, v) => this.mmio_write(o, s, v) }];
  }

  attach(fn: PciFn): void {
    this.fn = fn;
  }

  private size_ok(addr: number, size: number): boolean {
    return addr < 0x80 ? size === 4 : size === 4 || size === 8;
  }

  private bad_size(addr: number, size: number, write: boolean): void {
    this.fn.guest_error(`${size}-byte ${write ? 'write to' : 'read of'} 0x${addr.toString(16).padStart(2, '0')} ignored: offsets below 0x80 take 4-byte accesses only, 0x80 and up take 4 or 8`);
  }

  private mmio_read(addr: number, size: number): number {
    const ones = size === 8 ? -1 : 2 ** (size * 8) - 1;
    if (!this.size_ok(addr, size)) { this.bad_size(addr, size, false); return ones; }
    let v: bigint | number;
    switch (addr) {
      case EDU_REG_ID: v = 0x010000ed; break;
      case EDU_REG_LIVENESS: v = this.addr4; break;
      case EDU_REG_FACT: v = this.fact; break;
      case EDU_REG_STATUS: v = this.status; break;
      case EDU_REG_IRQ_STATUS: v = this.irq_status; break;
      case EDU_REG_DMA_SRC: v = this.dma.src; break;
      case EDU_REG_DMA_DST: v = this.dma.dst; break;
      case EDU_REG_DMA_CNT: v = this.dma.cnt; break;
      case EDU_REG_DMA_CMD: v = this.dma.cmd; break;
      default: return ones;
    }
    const b = BigInt.asUintN(size * 8, BigInt(v));
    return size === 8 && b === U64 ? -1 : Number(b);
  }

  private mmio_write(addr: number, size: number, val: number): void {
    if (!this.size_ok(addr, size)) { this.bad_size(addr, size, true); return; }
    const v = size === 8 ? u64_bits(val) : BigInt.asUintN(size * 8, BigInt(val));
    const running = (this.dma.cmd & BigInt(EDU_DMA_RUN)) !== 0n;
    switch (addr) {
      case EDU_REG_LIVENESS: this.addr4 = ~Number(v) >>> 0; break;
      case EDU_REG_FACT:
        if (this.status & EDU_STATUS_COMPUTING) break;
        this.fact = Number(v) >>> 0;
        this.status |= EDU_STATUS_COMPUTING;
        this.fact_timer = M.clock.schedule(EDU_FACT_DELAY_NS, () => this.fact_done(), 'edu factorial');
        break;
      case EDU_REG_STATUS:
        if (Number(v) & EDU_STATUS_IRQFACT) this.status |= EDU_STATUS_IRQFACT;
        else this.status &= ~EDU_STATUS_IRQFACT;
        break;
      case EDU_REG_IRQ_RAISE: this.raise_irq(Number(v) >>> 0); break;
      case EDU_REG_IRQ_ACK: this.lower_irq(Number(v) >>> 0); break;
      case EDU_REG_DMA_SRC: if (running) this.dropped(addr); else this.dma.src = v; break;
      case EDU_REG_DMA_DST: if (running) this.dropped(addr); else this.dma.dst = v; break;
      case EDU_REG_DMA_CNT: if (running) this.dropped(addr); else this.dma.cnt = v; break;
      case EDU_REG_DMA_CMD:
        if (!(v & BigInt(EDU_DMA_RUN))) break;
        if (running) { this.dropped(addr); break; }
        this.dma.cmd = v;
        this.dma_start();
        break;
    }
  }

  private dropped(addr: number): void {
    this.fn.guest_error(`write to DMA register 0x${addr.toString(16)} ignored: a transfer is still running (wait for command bit 0 to clear)`);
  }

  private fact_done(): void {
    let ret = 1;
    for (let n = this.fact; n > 0; n--) ret = Math.imul(ret, n) >>> 0;
    this.fact = ret;
    this.status &= ~EDU_STATUS_COMPUTING;
    if (this.status & EDU_STATUS_IRQFACT) this.raise_irq(EDU_FACT_IRQ);
  }

  raise_irq(val: number): void {
    this.irq_status = (this.irq_status | val) >>> 0;
    if (this.irq_status) {
      if (this.fn.msi_enabled()) this.fn.msi_notify(0);
      else this.fn.set_irq(true);
    }
  }

  lower_irq(val: number): void {
    this.irq_status = (this.irq_status & ~val) >>> 0;
    if (!this.irq_status && !this.fn.msi_enabled()) this.fn.set_irq(false);
  }

  /** edu_clamp_addr(): the RAM-side address as the device drives it. */
  private clamp(addr: bigint): number {
    const res = addr & this.dma_mask;
    if (res !== addr) {
      const hex = (x: bigint) => '0x' + x.toString(16).padStart(16, '0');
      const site: Site = this.fn.dma_site;
      const bits = this.dma_mask.toString(2).length;
      // What the address is (a CPU pointer, virt_to_phys(), a DMA address under too wide a
      // mask): only the last is a question of the DMA mask.
      const why = dma_describe(this.fn, addr, bits);
      M.diag.report('DEVICE_ADDRESS_CLAMPED', [
        `EDU: clamping DMA ${hex(addr)} to ${hex(res)}!`,
        `dmalab: edu can only drive ${bits} address bits; ${why}`,
      ], { sites: [['Transfer started at', site]] });
    }
    return Number(res);
  }

  /** edu_check_range(): the device-side window must lie inside the 4 KiB buffer. */
  private check_range(start: bigint, size: bigint): boolean {
    const end = start + size, dma_end = BigInt(EDU_DMA_BUF + EDU_DMA_SIZE);
    if (end >= start && start >= BigInt(EDU_DMA_BUF) && end <= dma_end) return true;
    const hex = (x: bigint) => '0x' + BigInt.asUintN(64, x).toString(16).padStart(16, '0');
    this.fn.guest_error(`DMA range ${hex(start)}-${hex(end - 1n)} out of bounds (${hex(BigInt(EDU_DMA_BUF))}-${hex(dma_end - 1n)})!`);
    return false;
  }

  private dma_start(): void {
    this.fn.dma_site = this.fn.last_write_site;
    const to_ram = (this.dma.cmd & BigInt(EDU_DMA_TO_RAM)) !== 0n;
    const host = to_ram ? this.dma.dst : this.dma.src;
    const cnt = Number(BigInt.asUintN(53, this.dma.cnt));
    const bus = Number(BigInt.asUintN(53, host & this.dma_mask));
    this.inflight = dma_transfer_begin(this.fn, bus, cnt, to_ram, `edu DMA ${to_ram ? 'edu -> RAM' : 'RAM -> edu'} of ${cnt} bytes`);
    this.dma_timer = M.clock.schedule(this.dma_delay_ns, () => this.dma_done(), 'edu DMA');
  }

  /** edu_dma_timer(). */
  private dma_done(): void {
    this.dma_timer = null;
    if (!(this.dma.cmd & BigInt(EDU_DMA_RUN))) return;
    dma_transfer_end(this.inflight);
    this.inflight = null;
    const to_ram = (this.dma.cmd & BigInt(EDU_DMA_TO_RAM)) !== 0n;
    const cnt = this.dma.cnt;
    if (to_ram) {
      if (this.check_range(this.dma.src, cnt)) {
        const off = Number(this.dma.src) - EDU_DMA_BUF;
        this.fn.dma_write(this.clamp(this.dma.dst), this.dma_buf, off, Number(cnt));
      }
    } else if (this.check_range(this.dma.dst, cnt)) {
      const off = Number(this.dma.dst) - EDU_DMA_BUF;
      this.fn.dma_read(this.clamp(this.dma.src), this.dma_buf, off, Number(cnt));
    }
    this.transfers++;
    this.dma.cmd &= ~BigInt(EDU_DMA_RUN);
    if (this.dma.cmd & BigInt(EDU_DMA_IRQ)) this.raise_irq(EDU_DMA_IRQ_BIT);
  }

  /** Is a transfer running? */
  busy(): boolean {
    return (this.dma.cmd & BigInt(EDU_DMA_RUN)) !== 0n;
  }

  /** Cancel timers (device reset / removal). */
  reset(): void {
    M.clock.cancel(this.dma_timer);
    M.clock.cancel(this.fact_timer);
    dma_transfer_end(this.inflight);
    this.inflight = null;
  }
}
