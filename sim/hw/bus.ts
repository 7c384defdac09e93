// The one DMA address space, as QEMU's address_space_rw() (which pci_dma_rw() and every sysbus
// DMA use): a bus master's read or write of a bus address passes its enable (PCI's command
// bit; always on for a platform device), then its IOMMU or the bridge offset (dma-ranges), and
// lands in RAM or in a decoded MMIO region (a BAR, a peripheral's FIFO). A non-coherent master
// never sees the CPU cache; a coherent one snoops it. The checker is not here: sim/dma
// registers hooks (set_dma_hooks) that see every access and every transfer a device model
// declares, so hw/ never calls up into dma/.
import { M } from '../kernel/machine.ts';
import { x016 } from '../lib/vsprintf.ts';
import type { Site } from '../kernel/site.ts';
import type { device } from '../base/device.ts';
import { platform_decode } from './platform.ts';

const PG = 4096;

/** Anything that issues DMA: a PCI function, a platform DMA controller, a NIC. */
export interface BusMaster {
  /** Its struct device: the DMA mask, dma_coherent and IOMMU translation of its accesses.
   *  null while nothing has enumerated it (its DMA then goes nowhere). */
  readonly dev: device | null;
  /** The bus-master enable (PCI_COMMAND_MASTER); a platform device returns true. */
  master_enabled(): boolean;
  /** Says, once, why a DMA with mastering off went nowhere (platform masters never call it). */
  master_disabled(write: boolean): void;
  /** Where the driver started what the master is doing: the site of the register write that
   *  kicked the transfer off. The device model sets it; reports point at it. */
  dma_site: Site;
  /** The requester id in IOMMU fault logs: lspci's 00:03.0 and the devfn (SMMU stream id). */
  readonly bdf: string;
  readonly devfn: number;
}

/** A register window on the system bus: a PCI BAR or a platform device's MMIO resource. */
export interface MmioRegion {
  read(off: number, size: number): number;
  write(off: number, size: number, value: number): void;
}
/** Who decodes a region: its memory-space enable and the last CPU write (for DMA sites). */
export interface MmioOwner {
  readonly dev: device | null;
  memory_enabled(): boolean;
  last_write_site: Site;
}
/** A physical address decoded to a register: its owner, the region, the offset, its index. */
export interface MmioHit { fn: MmioOwner; model: MmioRegion; off: number; bar: number }

/** The physical address map's MMIO side: PCI BARs, then the platform bus's windows. */
export class MmioMap {
  constructor(private readonly pci: { decode(phys: number): MmioHit | null }) {}

  decode(phys: number): MmioHit | null {
    return this.pci.decode(phys) ?? platform_decode(phys);
  }
}

/** What sim/dma hangs on the accessor. `phys` is where the first byte lands (-1: nowhere). */
export interface DmaHooks {
  access(dev: device, addr: number, len: number, write: boolean, started: Site, phys: number): void;
  /** A device model declares a transfer: the master will read (write = false) or write
   *  [addr, addr+len) of bus space until it ends. Returns a token for end(). */
  begin(dev: device, addr: number, len: number, write: boolean, what: string, started: Site): object;
  end(t: object): void;
  /** Why a value a driver gave the device as a bus address is beyond the `bits` it drives: a
   *  CPU pointer, a physical address, or a DMA address under too wide a mask (a phrase). */
  describe(dev: device, addr: bigint, bits: number): string;
}
let hooks: DmaHooks = { access() {}, begin: () => ({}), end() {}, describe: () => 'the driver gave it an address beyond them' };
export function set_dma_hooks(h: DmaHooks): void {
  hooks = h;
}

/** A transfer in flight, as a device model holds it (null: none). */
export type DmaTransfer = object | null;

/** Declare a transfer (see DmaHooks.begin): what the CPU may not touch until it ends, what an
 *  unmap or free must wait for. `what` names it in reports ("edu DMA RAM -> edu of 64 bytes"). */
export function dma_transfer_begin(m: BusMaster, addr: number, len: number, write: boolean, what: string): DmaTransfer {
  return m.dev ? hooks.begin(m.dev, addr, len, write, what, m.dma_site) : null;
}
export function dma_transfer_end(t: DmaTransfer): void {
  if (t) hooks.end(t);
}

/** For a device model that drives only `bits` address bits and was given `addr`, beyond them:
 *  what the address is ("0x... is a CPU virtual address (kmalloc'd at driver.ts:41:9), not a
 *  DMA address: ..."). */
export function dma_describe(m: BusMaster, addr: bigint, bits: number): string {
  return m.dev ? hooks.describe(m.dev, addr, bits) : 'the driver gave it an address beyond them';
}

/** Device-side RAM access; a coherent master snoops (cleans, then drops, the CPU's lines). On
 *  arm64 the CPU's stores to coherent memory may still be in its store buffer (sim/mm/order.ts). */
function ram_op(m: BusMaster, bus: number, phys: number, buf: Uint8Array, off: number, len: number, write: boolean, snoop: boolean): void {
  if (M.order) M.order.device_access(m, bus, phys, len, write);
  const c = M.cache;
  if (snoop && c) c.clean(phys, len);
  if (write) M.ram.write(phys, buf, off, len);
  else M.ram.read(phys, buf, off, len);
  if (snoop && c && write) c.clean_invalidate(phys, len);
}

/** Device-side MMIO access: 4-byte (then smaller) little-endian register accesses. */
function mmio_op(hit: MmioHit, buf: Uint8Array, off: number, len: number, write: boolean): void {
  const on = hit.fn.memory_enabled();
  for (let at = 0; at < len;) {
    const n = len - at >= 4 ? 4 : len - at >= 2 ? 2 : 1;
    if (write) {
      let v = 0;
      for (let i = n - 1; i >= 0; i--) v = v * 256 + buf[off + at + i]!;
      if (on) hit.model.write(hit.off + at, n, v);
    } else {
      let v = on ? hit.model.read(hit.off + at, n) : 2 ** (8 * n) - 1;
      for (let i = 0; i < n; i++) { buf[off + at + i] = v & 0xff; v = Math.floor(v / 256); }
    }
    at += n;
  }
}

/** Physical [phys, phys+len): RAM, or a register window; false if nothing answers. */
function phys_op(m: BusMaster, bus: number, dev: device, phys: number, buf: Uint8Array, off: number, len: number, write: boolean): boolean {
  if (M.ram.contains(phys, len)) { ram_op(m, bus, phys, buf, off, len, write, dev.dma_coherent); return true; }
  return mmio_at(phys, buf, off, len, write);
}
function mmio_at(phys: number, buf: Uint8Array, off: number, len: number, write: boolean, hit = phys >= 0 ? M.mmio.decode(phys) : null): boolean {
  if (!hit || M.mmio.decode(phys + len - 1)?.model !== hit.model) return false;
  mmio_op(hit, buf, off, len, write);
  return true;
}

/** address_space_rw(): master `m` reads (write = false) or writes bus [addr, addr+len) from or
 *  to buf[off..]. False if it failed (reads then see all ones, as on a real bus). */
export function dma_rw(m: BusMaster, addr: number, buf: Uint8Array, off: number, len: number, write: boolean): boolean {
  const dev = m.dev;
  if (!dev) return false;
  if (!m.master_enabled()) {
    m.master_disabled(write);
    if (!write) buf.fill(0xff, off, off + len);
    return false;
  }
  const started = m.dma_site;
  if (dev._iommu && M.iommu) {
    hooks.access(dev, addr, len, write, started, M.iommu.lookup(dev, addr)?.phys ?? -1);
    let a = addr;
    while (len > 0) {
      const n = Math.min(len, PG - (a % PG));
      const phys = M.iommu.translate(dev, a, write, m.bdf, m.devfn, started);
      // A fault aborts the rest of the transaction.
      if (phys < 0 || !phys_op(m, a, dev, phys, buf, off, n, write)) {
        if (!write) buf.fill(0xff, off, off + len);
        return false;
      }
      a += n; off += n; len -= n;
    }
    return true;
  }
  // Registers sit on the bus at their physical address (dma_direct_map_resource() hands the
  // physical address out as it is); the rest goes through the bridge's dma-ranges offset.
  const hit = addr >= 0 ? M.mmio.decode(addr) : null;
  const phys = hit ? addr : addr - M.shape.bus_offset;
  hooks.access(dev, addr, len, write, started, phys);
  if (hit) { if (mmio_at(addr, buf, off, len, write, hit)) return true; }
  else if (addr >= 0 && M.ram.contains(phys, len)) { ram_op(m, addr, phys, buf, off, len, write, dev.dma_coherent); return true; }
  // Nothing answers at that bus address: a master abort. Reads return all ones.
  M.printk(3, `dmalab: ${dev.init_name}: DMA ${write ? 'write' : 'read'} at bus address 0x${x016(addr)} reaches no memory (master abort)`);
  if (!write) buf.fill(0xff, off, off + len);
  return false;
}

/** A master's memory-to-memory move of bus [src, src+len) to bus [dst, dst+len): a read into
 *  `buf` then a write from it (dma_read, dma_write), or, when both sides are RAM reached
 *  without an IOMMU or a weak-ordering model and do not overlap, the same checks and snoops
 *  with the bytes moved once. 0 if it worked; 1 if the read failed, 2 if the write did. */
export function dma_copy(m: BusMaster, dst: number, src: number, len: number, buf: Uint8Array): 0 | 1 | 2 {
  const dev = m.dev;
  if (dev && m.master_enabled() && !(dev._iommu && M.iommu) && M.order === null && src >= 0 && dst >= 0 &&
      (src + len <= dst || dst + len <= src) && !M.mmio.decode(src) && !M.mmio.decode(dst)) {
    const off = M.shape.bus_offset, sp = src - off, dp = dst - off, ram = M.ram;
    if (ram.contains(sp, len) && ram.contains(dp, len)) {
      const started = m.dma_site, snoop = dev.dma_coherent, c = M.cache;
      hooks.access(dev, src, len, false, started, sp);
      if (snoop && c) c.clean(sp, len);
      hooks.access(dev, dst, len, true, started, dp);
      if (snoop && c) c.clean(dp, len);
      ram.move(dp, sp, len);
      if (snoop && c) c.clean_invalidate(dp, len);
      return 0;
    }
  }
  if (!dma_rw(m, src, buf, 0, len, false)) return 1;
  if (!dma_rw(m, dst, buf, 0, len, true)) return 2;
  return 0;
}

/** dma_read / dma_write of a master (QEMU's dma_memory_read / dma_memory_write). */
export function dma_read(m: BusMaster, addr: number, dst: Uint8Array, off: number, len: number): boolean {
  return dma_rw(m, addr, dst, off, len, false);
}
export function dma_write(m: BusMaster, addr: number, src: Uint8Array, off: number, len: number): boolean {
  return dma_rw(m, addr, src, off, len, true);
}
