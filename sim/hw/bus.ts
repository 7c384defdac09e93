// How a device's DMA reaches memory: the bus-master gate in its command register, then either
// the IOMMU (bus address = IOVA) or the host bridge's fixed offset (dma-ranges), then RAM.
// Devices never see the CPU cache unless they are cache-coherent (they snoop it). dmalab's
// checks of who may touch what run on the way (dma/ownership.ts).
import { M } from '../kernel/machine.ts';
import { T } from '../kernel/trace.ts';
import { x016 } from '../lib/vsprintf.ts';
import type { Site } from '../kernel/site.ts';
import type { PciFn } from './pci.ts';

const PG = 4096;
const warned_master = new WeakSet<object>();

function ram_op(phys: number, buf: Uint8Array, off: number, len: number, write: boolean, snoop: boolean): void {
  const c = M.cache;
  if (snoop && c) c.clean(phys, len);
  if (write) M.ram.write(phys, buf, off, len);
  else M.ram.read(phys, buf, off, len);
  if (snoop && c && write) c.clean_invalidate(phys, len);
}

/** A DMA transfer by PCI function `fn`: bus address `addr`, len bytes, to/from buf[off..]. */
export function bus_dma(fn: PciFn, addr: number, buf: Uint8Array, off: number, len: number, write: boolean): boolean {
  const dev = fn.dev;
  const started: Site = fn.dma_site;
  if (!dev) return false;
  if (!fn.master_enabled()) {
    if (!warned_master.has(dev)) {
      warned_master.add(dev);
      M.diag.report('DMA_NO_BUS_MASTER', [
        `dmalab: ${dev.driver?.name ?? 'pci'} ${dev.init_name}: the device tried to ${write ? 'write' : 'read'} memory by DMA, but bus mastering is off`,
        fn.master_was_on
          ? 'dmalab: bus mastering had been turned off again (pci_clear_master() or pci_disable_device(), in remove?) while the device still had a transfer to do: wait for it to finish first'
          : 'dmalab: call pci_set_master() in probe (after pci_enable_device); without it the device cannot reach memory',
      ], { sites: [['Transfer started at', started]] });
    }
    if (!write) buf.fill(0xff, off, off + len);
    return false;
  }
  M.own.device_access(dev, addr, len, write, started);
  M.trace.emit(M.clock.now, write ? T.dev_write : T.dev_read, dev.id, addr, len,
    dev._iommu ? M.iommu?.lookup(dev, addr)?.phys ?? -1 : addr - M.shape.bus_offset);
  const snoop = dev.dma_coherent;
  if (dev._iommu && M.iommu) {
    let ok = true;
    let a = addr;
    while (len > 0) {
      const n = Math.min(len, PG - (a % PG));
      const phys = M.iommu.translate(dev, a, write, fn.bdf, fn.slot << 3 | fn.fn, started);
      if (phys < 0) {
        ok = false;
        if (!write) buf.fill(0xff, off, off + n);
        // The IOMMU aborts the rest of the transaction.
        if (!write) buf.fill(0xff, off, off + len);
        return false;
      }
      ram_op(phys, buf, off, n, write, snoop);
      a += n; off += n; len -= n;
    }
    return ok;
  }
  const phys = addr - M.shape.bus_offset;
  if (addr < 0 || !M.ram.contains(phys, len)) {
    // Nothing answers at that bus address: a master abort. Reads return all ones.
    M.printk(3, `dmalab: ${dev.init_name}: DMA ${write ? 'write' : 'read'} at bus address 0x${x016(addr)} reaches no memory (master abort)`);
    if (!write) buf.fill(0xff, off, off + len);
    return false;
  }
  ram_op(phys, buf, off, len, write, snoop);
  return true;
}
