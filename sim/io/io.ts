// MMIO (arch/x86/include/asm/io.h, arch/arm64/include/asm/io.h, lib/iomap.c, arch/*/mm/ioremap.c):
// ioremap gives the CPU a virtual address for a device's registers; readl/writel reach the
// device model's register handlers through it. A read costs 100 ns of virtual time (devices
// progress while a driver polls); a device whose memory decoding is off answers all ones. On
// arm64 the plain accessors order (writel() is __iowmb() then the relaxed write: the store
// buffer drains first; readl() ends with __iormb(): a load ordering point), the _relaxed ones do
// not (sim/mm/order.ts); on x86 both are the same.
import { M } from '../kernel/machine.ts';
import { take_site, type Site } from '../kernel/site.ts';
import { T } from '../kernel/trace.ts';
import { check_int, IOMEM, LEN } from '../kernel/die.ts';
import { px, pa } from '../lib/vsprintf.ts';
import { PAGE_SIZE } from '../mm/page_alloc.ts';
import { PTE_MMIO, PTE_UNCACHED } from '../mm/memory.ts';
import type { MmioHit, MmioOwner } from '../hw/bus.ts';
import { cpu_load, cpu_store, cpu_read, cpu_write, cpu_fill, page_fault_oops } from '../mm/access.ts';

/** An __iomem cookie: a kernel virtual address in the vmalloc area. */
export type iomem = number;

const READ_NS = 100, WRITE_NS = 20;
const warned_disabled = new WeakSet<object>();

/** ioremap() for the sim's own callers (pci_iomap, devm_ioremap_resource), with their caller's
 *  site: ioremap()'s own take_site() would find none and capture a stack. */
export function map_ioremap(phys: number, size: number, site: Site): iomem {
  if (M.faults.should_fail('ioremap', site)) return 0;
  if (M.ram.contains(phys, 1)) {
    M.printk(4, '------------[ cut here ]------------');
    M.printk(4, `ioremap on RAM at ${pa(phys)} - ${pa(phys + size - 1)}`);
    return 0;
  }
  const first = Math.floor(phys / PAGE_SIZE) * PAGE_SIZE;
  const n = Math.ceil((phys + size - first) / PAGE_SIZE);
  const pages = Array.from({ length: n }, (_, i) => first + i * PAGE_SIZE);
  const a = M.mmu.map_area(n * PAGE_SIZE, pages, PTE_MMIO | PTE_UNCACHED, 'ioremap', M.owner, site);
  return a.addr + (phys - first);
}

export function ioremap(phys: number, size: number): iomem {
  return map_ioremap(phys, size, take_site(ioremap));
}
export const ioremap_uc = ioremap;
export function ioremap_wc(phys: number, size: number): iomem {
  return map_ioremap(phys, size, take_site(ioremap_wc));
}

export function iounmap_site(addr: iomem, site: Site): void {
  const base = addr - (addr % PAGE_SIZE);
  const a = M.mmu.areas.get(base);
  if (!a || a.kind !== 'ioremap') {
    M.printk(3, `iounmap: bad address ${px(addr)}`);
    void site;
    return;
  }
  M.mmu.unmap_area(a);
}
export function iounmap(addr: iomem): void {
  iounmap_site(addr, take_site(iounmap));
}

/** Find the register a cookie points at: the hit, null for an MMIO page where nothing decodes,
 *  or undefined for a non-MMIO kernel address (it falls back to memory). */
function decode(addr: iomem, write: boolean, entry: Function): MmioHit | null | undefined {
  const mmu = M.mmu;
  if (mmu.is_vmalloc(addr)) {
    const pte = mmu.vm_pte(addr);
    if (pte && (pte % PAGE_SIZE) & PTE_MMIO) return M.mmio.decode(pte - (pte % PAGE_SIZE) + (addr % PAGE_SIZE));
    if (!pte) {
      page_fault_oops(addr, write, take_site(entry), 'Accessed at', [
        'dmalab: an MMIO access through an address that is not (or no longer) mapped: after iounmap/pci_iounmap, or never ioremapped',
      ]);
    }
  }
  return undefined;
}

function mmio_read(addr: iomem, size: number, entry: Function, ordered = false): number {
  if (typeof addr !== 'number' || !Number.isSafeInteger(addr)) check_int(entry.name, 'addr', addr, IOMEM);
  const c = M.clock;
  c.advance_to(c.now + READ_NS);
  M.sched.check_lockup();
  const hit = decode(addr, false, entry);
  if (hit === undefined) return cpu_load(addr, size, entry);
  const ones = size === 8 ? -1 : 2 ** (size * 8) - 1;
  if (!hit) return ones;
  if (!hit.fn.memory_enabled()) {
    disabled(hit.fn, entry);
    return ones;
  }
  const v = hit.model.read(hit.off, size);
  if (ordered) M.order?.point();
  M.trace.emit(c.now, T.mmio_read, hit.fn.dev ? hit.fn.dev.id : -1, hit.off, size, v, hit.bar);
  return v;
}

function mmio_write(addr: iomem, size: number, v: number, entry: Function, ordered = false): void {
  if (ordered) M.order?.drain();
  if (typeof addr !== 'number' || !Number.isSafeInteger(addr)) check_int(entry.name, 'addr', addr, IOMEM);
  const c = M.clock;
  c.advance_to(c.now + WRITE_NS);
  const hit = decode(addr, true, entry);
  if (hit === undefined) { cpu_store(addr, size, v, entry); return; }
  if (!hit) return;
  if (!hit.fn.memory_enabled()) { disabled(hit.fn, entry); return; }
  hit.fn.last_write_site = take_site(entry);
  M.trace.emit(c.now, T.mmio_write, hit.fn.dev ? hit.fn.dev.id : -1, hit.off, size, v, hit.bar);
  hit.model.write(hit.off, size, v);
}

function disabled(fn: MmioOwner, entry: Function): void {
  const dev = fn.dev;
  if (!dev || warned_disabled.has(dev)) return;
  warned_disabled.add(dev);
  M.diag.report('MMIO_DEVICE_DISABLED', [
    `dmalab: ${dev.driver?.name ?? 'pci'} ${dev.init_name}: MMIO access while the device's memory decoding is off: reads return all ones, writes are dropped`,
    'dmalab: call pci_enable_device() in probe before touching the registers',
  ], { sites: [['Accessed at', take_site(entry)]] });
}

// The accessors. The plain and _relaxed forms differ only in ordering (see the top).
export function readb(addr: iomem): number { return mmio_read(addr, 1, readb, true); }
export function readw(addr: iomem): number { return mmio_read(addr, 2, readw, true); }
export function readl(addr: iomem): number { return mmio_read(addr, 4, readl, true); }
/** readq(): 64-bit read. Values above 2^53 lose precision; all ones comes back as -1. */
export function readq(addr: iomem): number { return mmio_read(addr, 8, readq, true); }
export function writeb(v: number, addr: iomem): void { mmio_write(addr, 1, v & 0xff, writeb, true); }
export function writew(v: number, addr: iomem): void { mmio_write(addr, 2, v & 0xffff, writew, true); }
export function writel(v: number, addr: iomem): void { mmio_write(addr, 4, v >>> 0, writel, true); }
export function writeq(v: number | bigint, addr: iomem): void {
  const u = typeof v === 'bigint' ? BigInt.asUintN(64, v) : 0n;
  mmio_write(addr, 8, typeof v === 'bigint' ? (u === 0xffffffffffffffffn ? -1 : Number(u)) : v, writeq, true);
}
export function readb_relaxed(addr: iomem): number { return mmio_read(addr, 1, readb_relaxed); }
export function readw_relaxed(addr: iomem): number { return mmio_read(addr, 2, readw_relaxed); }
export function readl_relaxed(addr: iomem): number { return mmio_read(addr, 4, readl_relaxed); }
export function readq_relaxed(addr: iomem): number { return mmio_read(addr, 8, readq_relaxed); }
export function writeb_relaxed(v: number, addr: iomem): void { mmio_write(addr, 1, v & 0xff, writeb_relaxed); }
export function writew_relaxed(v: number, addr: iomem): void { mmio_write(addr, 2, v & 0xffff, writew_relaxed); }
export function writel_relaxed(v: number, addr: iomem): void { mmio_write(addr, 4, v >>> 0, writel_relaxed); }
export function writeq_relaxed(v: number, addr: iomem): void { mmio_write(addr, 8, v, writeq_relaxed); }
export function ioread8(addr: iomem): number { return mmio_read(addr, 1, ioread8, true); }
export function ioread16(addr: iomem): number { return mmio_read(addr, 2, ioread16, true); }
export function ioread32(addr: iomem): number { return mmio_read(addr, 4, ioread32, true); }
export function ioread64(addr: iomem): number { return mmio_read(addr, 8, ioread64, true); }
export function iowrite8(v: number, addr: iomem): void { mmio_write(addr, 1, v & 0xff, iowrite8, true); }
export function iowrite16(v: number, addr: iomem): void { mmio_write(addr, 2, v & 0xffff, iowrite16, true); }
export function iowrite32(v: number, addr: iomem): void { mmio_write(addr, 4, v >>> 0, iowrite32, true); }
export function iowrite64(v: number, addr: iomem): void { mmio_write(addr, 8, v, iowrite64, true); }
export function lo_hi_writeq(v: number, addr: iomem): void {
  mmio_write(addr, 4, v >>> 0, lo_hi_writeq, true);
  mmio_write(addr + 4, 4, Math.floor(v / 4294967296) >>> 0, lo_hi_writeq, true);
}

/** memcpy_fromio(dst, src, n): dst is kernel memory, src is MMIO. */
export function memcpy_fromio(dst: number, src: iomem, n: number): void {
  check_int('memcpy_fromio', 'n', n, LEN);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = mmio_read(src + i, 1, memcpy_fromio);
  cpu_write(dst, b, 0, n, memcpy_fromio);
}
export function memcpy_toio(dst: iomem, src: number, n: number): void {
  check_int('memcpy_toio', 'n', n, LEN);
  const b = new Uint8Array(n);
  cpu_read(src, b, 0, n, memcpy_toio);
  for (let i = 0; i < n; i++) mmio_write(dst + i, 1, b[i]!, memcpy_toio);
}
export function memset_io(dst: iomem, c: number, n: number): void {
  for (let i = 0; i < n; i++) mmio_write(dst + i, 1, c & 0xff, memset_io);
}

export function lower_32_bits(n: number | bigint): number {
  return Number(BigInt.asUintN(32, BigInt(n)));
}
export function upper_32_bits(n: number | bigint): number {
  return Number(BigInt.asUintN(32, BigInt.asUintN(64, BigInt(n)) >> 32n));
}

export { cpu_fill };
