// The PCI bus as hardware: functions with config space, BARs decoded in bus space, the
// command register gating memory decoding and bus mastering, INTx lines and MSI. Device
// models (hw/edu.ts, ...) plug into it; a function is a bus master (hw/bus.ts), and its DMA
// goes through the one accessor every master uses.
import type { Shape } from '../kernel/shapes.ts';
import { M } from '../kernel/machine.ts';
import { dma_rw, type BusMaster, type MmioHit } from './bus.ts';
import type { device } from '../base/device.ts';
import type { IrqSource } from '../irq/core.ts';

export const PCI_COMMAND_IO = 0x1, PCI_COMMAND_MEMORY = 0x2, PCI_COMMAND_MASTER = 0x4,
  PCI_COMMAND_INTX_DISABLE = 0x400;
export const PCI_VENDOR_ID = 0x00, PCI_DEVICE_ID = 0x02, PCI_COMMAND = 0x04, PCI_STATUS = 0x06,
  PCI_REVISION_ID = 0x08, PCI_CLASS_PROG = 0x09, PCI_CLASS_DEVICE = 0x0a, PCI_HEADER_TYPE = 0x0e,
  PCI_BASE_ADDRESS_0 = 0x10, PCI_SUBSYSTEM_VENDOR_ID = 0x2c, PCI_SUBSYSTEM_ID = 0x2e,
  PCI_CAPABILITY_LIST = 0x34, PCI_INTERRUPT_LINE = 0x3c, PCI_INTERRUPT_PIN = 0x3d;
export const PCI_CAP_ID_MSI = 0x05, PCI_STATUS_CAP_LIST = 0x10;
const MSI_CAP = 0x40;

/** One BAR of a device model: its size and register handlers (offsets within the BAR). */
export interface BarModel {
  size: number;
  read(off: number, size: number): number;
  write(off: number, size: number, value: number): void;
}

export interface PciModel {
  name: string;
  vendor: number;
  device: number;
  revision: number;
  class_code: number;
  subsystem_vendor?: number;
  subsystem_device?: number;
  bars: (BarModel | null)[];
  /** MSI vectors the device's MSI capability offers (0 = no MSI capability). */
  msi_vectors: number;
  /** Called once the function is on the bus. */
  attach(fn: PciFn): void;
}

export class PciFn implements IrqSource, BusMaster {
  readonly config = new Uint8Array(256);
  readonly bar_addr: number[] = [];
  /** The kernel's struct device for this function (set by the PCI core at enumeration). */
  dev: device | null = null;
  /** INTx line number and its level. */
  intx = 0;
  private level = false;
  msi_base = 0;
  /** Where the driver started the DMA the device is doing (the register write's call site);
   *  device models set it so reports can point at it. */
  dma_site: import('../kernel/site.ts').Site = 0;
  /** Call site of the last MMIO write to this function. */
  last_write_site: import('../kernel/site.ts').Site = 0;
  private cfg: DataView;

  constructor(readonly bus: PciBus, readonly slot: number, readonly fn: number, readonly model: PciModel) {
    this.cfg = new DataView(this.config.buffer);
  }

  get name(): string {
    return `0000:00:${this.slot.toString(16).padStart(2, '0')}.${this.fn}`;
  }
  /** lspci style: 00:03.0 */
  get bdf(): string {
    return this.name.slice(5);
  }
  get devfn(): number {
    return this.slot << 3 | this.fn;
  }

  cfg_read(off: number, size: 1 | 2 | 4): number {
    if (off + size > 256) return 0xffffffff >>> (32 - size * 8);
    return size === 1 ? this.cfg.getUint8(off) : size === 2 ? this.cfg.getUint16(off, true) : this.cfg.getUint32(off, true);
  }

  cfg_write(off: number, size: 1 | 2 | 4, v: number): void {
    if (off >= PCI_BASE_ADDRESS_0 && off < PCI_BASE_ADDRESS_0 + 24) return; // BARs are fixed here
    if (off < 0x04 || (off >= 0x08 && off < 0x0c) || off === PCI_INTERRUPT_PIN) return; // read-only
    if (size === 1) this.cfg.setUint8(off, v);
    else if (size === 2) this.cfg.setUint16(off, v, true);
    else this.cfg.setUint32(off, v >>> 0, true);
    if (off <= PCI_COMMAND + 1 && off + size > PCI_COMMAND) {
      if (this.master_enabled()) this.master_was_on = true;
      M.irq.level_changed(this.intx);
    }
  }

  /** Bus mastering was on at some point (so a DMA with it off came after the driver, or
   *  pci_disable_device(), turned it off again). */
  master_was_on = false;

  command(): number {
    return this.cfg.getUint16(PCI_COMMAND, true);
  }
  memory_enabled(): boolean {
    return (this.command() & PCI_COMMAND_MEMORY) !== 0;
  }
  master_enabled(): boolean {
    return (this.command() & PCI_COMMAND_MASTER) !== 0;
  }
  msi_enabled(): boolean {
    return this.model.msi_vectors > 0 && (this.cfg.getUint16(MSI_CAP + 2, true) & 1) === 1;
  }
  set_msi_enabled(on: boolean): void {
    const ctl = this.cfg.getUint16(MSI_CAP + 2, true);
    this.cfg.setUint16(MSI_CAP + 2, on ? ctl | 1 : ctl & ~1, true);
  }

  // ---- for device models -----------------------------------------------------------------
  /** Pull or release INTx (level-triggered). Ignored while MSI is on or INTx is disabled. */
  set_irq(level: boolean): void {
    this.level = level;
    M.irq.level_changed(this.intx);
  }
  asserting(): boolean {
    return this.level && !this.msi_enabled() && (this.command() & PCI_COMMAND_INTX_DISABLE) === 0;
  }
  /** Send MSI message `vector` (edge). */
  msi_notify(vector = 0): void {
    if (this.msi_enabled() && this.msi_base) M.irq.edge(this.msi_base + vector);
  }

  /** pci_dma_read(): the function reads bus [addr, addr+len) into dst[off..]. False if it
   *  failed. */
  dma_read(addr: number, dst: Uint8Array, off: number, len: number): boolean {
    return dma_rw(this, addr, dst, off, len, false);
  }
  /** pci_dma_write(). */
  dma_write(addr: number, src: Uint8Array, off: number, len: number): boolean {
    return dma_rw(this, addr, src, off, len, true);
  }

  private warned_master = false;
  /** A DMA with PCI_COMMAND_MASTER off: said once per function. */
  master_disabled(write: boolean): void {
    const dev = this.dev;
    if (!dev || this.warned_master) return;
    this.warned_master = true;
    M.diag.report('DMA_NO_BUS_MASTER', [
      `dmalab: ${dev.driver?.name ?? 'pci'} ${dev.init_name}: the device tried to ${write ? 'write' : 'read'} memory by DMA, but bus mastering is off`,
      this.master_was_on
        ? 'dmalab: bus mastering had been turned off again (pci_clear_master() or pci_disable_device(), in remove?) while the device still had a transfer to do: wait for it to finish first'
        : 'dmalab: call pci_set_master() in probe (after pci_enable_device); without it the device cannot reach memory',
    ], { sites: [['Transfer started at', this.dma_site]] });
  }
  /** What QEMU logs with LOG_GUEST_ERROR: the driver asked the device for something wrong. */
  guest_error(text: string): void {
    M.diag.report('DEVICE_GUEST_ERROR', [`${this.model.name.toUpperCase()}: ${text}`], { once: undefined });
  }
}

export class PciBus {
  readonly fns: PciFn[] = [];
  private mmio_next: number;
  private msi_next: number;

  constructor(readonly shape: Shape) {
    this.mmio_next = shape.mmio_base;
    this.msi_next = shape.arch === 'x86_64' ? 24 : 50;
  }

  /** Plug a device model into a slot; it appears as 0000:00:<slot>.0. */
  plug(model: PciModel, slot: number): PciFn {
    if (this.fns.some((f) => f.slot === slot)) throw new Error(`PCI slot ${slot} is taken`);
    const fn = new PciFn(this, slot, 0, model);
    const c = new DataView(fn.config.buffer);
    c.setUint16(PCI_VENDOR_ID, model.vendor, true);
    c.setUint16(PCI_DEVICE_ID, model.device, true);
    c.setUint8(PCI_REVISION_ID, model.revision);
    c.setUint8(PCI_CLASS_PROG, model.class_code & 0xff);
    c.setUint16(PCI_CLASS_DEVICE, model.class_code >>> 8, true);
    c.setUint16(PCI_SUBSYSTEM_VENDOR_ID, model.subsystem_vendor ?? 0x1af4, true);
    c.setUint16(PCI_SUBSYSTEM_ID, model.subsystem_device ?? 0x1100, true);
    model.bars.forEach((b, i) => {
      if (!b) return;
      const addr = Math.ceil(this.mmio_next / b.size) * b.size;
      this.mmio_next = addr + b.size;
      fn.bar_addr[i] = addr;
      c.setUint32(PCI_BASE_ADDRESS_0 + 4 * i, addr >>> 0, true);
    });
    const pin = 1;
    c.setUint8(PCI_INTERRUPT_PIN, pin);
    fn.intx = (this.shape.arch === 'x86_64' ? 16 : 40) + ((slot + pin - 1) % 4);
    c.setUint8(PCI_INTERRUPT_LINE, fn.intx & 0xff);
    M.irq.line(fn.intx).sources.push(fn);
    if (model.msi_vectors) {
      c.setUint16(PCI_STATUS, PCI_STATUS_CAP_LIST, true);
      c.setUint8(PCI_CAPABILITY_LIST, MSI_CAP);
      c.setUint8(MSI_CAP, PCI_CAP_ID_MSI);
      c.setUint16(MSI_CAP + 2, 0x80 | ((Math.log2(model.msi_vectors) | 0) << 1), true);
      fn.msi_base = this.msi_next;
      this.msi_next += Math.max(1, model.msi_vectors);
      for (let v = 0; v < model.msi_vectors; v++) M.irq.line(fn.msi_base + v, true);
    }
    this.fns.push(fn);
    model.attach(fn);
    return fn;
  }

  /** Which function and BAR decode this physical address? */
  decode(phys: number): (MmioHit & { fn: PciFn }) | null {
    for (const fn of this.fns) {
      for (let i = 0; i < fn.model.bars.length; i++) {
        const b = fn.model.bars[i];
        const a = fn.bar_addr[i];
        if (b && a !== undefined && phys >= a && phys < a + b.size) return { fn, bar: i, off: phys - a, model: b };
      }
    }
    return null;
  }
}
