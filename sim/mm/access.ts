// Every CPU load and store a driver makes: translate the virtual address (MMU), check who owns
// the memory (a device-owned DMA buffer is off limits), then go through the cache model on a
// non-coherent machine or straight to RAM on a coherent one; on arm64, coherent memory (mapped
// uncached) goes through the weak-ordering model (order.ts). A bad address is an oops.
import { M } from '../kernel/machine.ts';
import { die, check_int, ADDR, LEN } from '../kernel/die.ts';
import { take_site, type Site } from '../kernel/site.ts';
import { px } from '../lib/vsprintf.ts';
import { PAGE_SIZE } from './page_alloc.ts';
import { PTE_MMIO, PTE_RO, PTE_UNCACHED } from './memory.ts';

const R = 0, W = 1;

/** A physically contiguous piece of a virtual range. */
interface Seg { phys: number; len: number; cached: boolean }

/** Is v in the kernel image? On arm64 the image sits inside the vmalloc area, and vmalloc areas
 *  (coherent buffers, stacks, vmalloc) are mapped just above it: an address is the image's
 *  only within the image's sections and where no vmalloc page is mapped. */
function in_kimage(v: number): boolean {
  const mmu = M.mmu;
  return mmu.is_kimage(v) && M.kimage.section_of(v) !== null && !mmu.vm_pte(v);
}

/** Split [v, v+len) into physically contiguous segments, or oops. */
function segments(v: number, len: number, write: number, entry: Function): Seg[] {
  const mmu = M.mmu;
  if (mmu.is_linear(v) && mmu.is_linear(v + len - 1)) {
    return [{ phys: mmu.lm_to_phys(v), len, cached: M.cache !== null }];
  }
  if (in_kimage(v) && in_kimage(v + len - 1)) {
    const phys = mmu.kimage_to_phys(v);
    if (write && M.kimage.is_rodata(v, len)) page_fault(v, write, entry, 'write to read-only memory');
    return [{ phys, len, cached: M.cache !== null }];
  }
  const out: Seg[] = [];
  let at = v, left = len;
  while (left > 0) {
    const n = Math.min(left, PAGE_SIZE - (at % PAGE_SIZE));
    let phys: number, cached = M.cache !== null;
    if (mmu.is_linear(at)) phys = mmu.lm_to_phys(at);
    else if (in_kimage(at)) phys = mmu.kimage_to_phys(at);
    else if (mmu.is_vmalloc(at) || mmu.is_module(at)) {
      const pte = mmu.vm_pte(at);
      if (!pte) page_fault(at, write, entry);
      const flags = pte % PAGE_SIZE;
      if (flags & PTE_MMIO) mmio_misuse(at, entry);
      if (write && flags & PTE_RO) page_fault(at, write, entry, 'write to read-only memory');
      phys = pte - flags + (at % PAGE_SIZE);
      if (flags & PTE_UNCACHED) cached = false;
    } else page_fault(at, write, entry);
    const last = out[out.length - 1];
    if (last && last.phys + last.len === phys && last.cached === cached) last.len += n;
    else out.push({ phys, len: n, cached });
    at += n; left -= n;
  }
  return out;
}

let observing = 0;
/** Run f as an observer (a test looking at memory for its own report): its accesses are
 *  nobody's bug, so no ownership or race check sees them. */
export function unchecked<T>(f: () => T): T {
  observing++;
  try {
    return f();
  } finally {
    observing--;
  }
}

/** The ownership check: only when some DMA mapping covers one of the pages, or a device
 *  transfer is running (v: the virtual address the CPU used, for the report). */
function check(phys: number, len: number, write: number, entry: Function, v: number): void {
  if (observing) return;
  if (M.own.racing) M.own.cpu_race(phys, len, write === W, entry, v);
  const pages = M.pages, dma = pages.dma;
  const first = Math.floor(phys / PAGE_SIZE) - pages.base_pfn;
  const last = Math.floor((phys + len - 1) / PAGE_SIZE) - pages.base_pfn;
  for (let i = first; i <= last; i++) {
    if (dma[i] !== 0) {
      M.own.cpu_access(phys, len, write === W, entry);
      return;
    }
  }
}

/** Time passes a little with every CPU access, so a loop that polls memory for a device's
 *  write makes progress, and the watchdog sees a loop that never ends. */
function tick(): void {
  const c = M.clock;
  c.now += 1;
  if (c.now >= c.next) c.advance_to(c.now);
  M.sched.check_lockup();
}

/** A pointer and a length from driver code must be numbers (C would not have compiled it). */
function args(v: unknown, len: unknown, entry: Function): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) check_int(entry.name, 'p', v, ADDR);
  if (typeof len !== 'number' || !Number.isSafeInteger(len)) check_int(entry.name, 'n', len, LEN);
}

export function cpu_read(v: number, dst: Uint8Array, off: number, len: number, entry: Function): void {
  args(v, len, entry);
  if (len <= 0) return;
  tick();
  const off0 = off;
  for (const s of segments(v, len, R, entry)) {
    check(s.phys, s.len, R, entry, v + off - off0);
    if (s.cached) M.cache!.read(s.phys, dst, off, s.len);
    else if (M.order !== null && M.order.coherent(s.phys)) M.order.cpu_read(s.phys, dst, off, s.len, v + off - off0, entry);
    else M.ram.read(s.phys, dst, off, s.len);
    off += s.len;
  }
}

export function cpu_write(v: number, src: Uint8Array, off: number, len: number, entry: Function): void {
  args(v, len, entry);
  if (len <= 0) return;
  tick();
  const off0 = off;
  for (const s of segments(v, len, W, entry)) {
    check(s.phys, s.len, W, entry, v + off - off0);
    if (s.cached) M.cache!.write(s.phys, src, off, s.len);
    else if (M.order !== null && M.order.coherent(s.phys)) M.order.cpu_write(s.phys, src, off, s.len, entry);
    else M.ram.write(s.phys, src, off, s.len);
    off += s.len;
  }
}

export function cpu_fill(v: number, value: number, len: number, entry: Function): void {
  args(v, len, entry);
  if (len <= 0) return;
  tick();
  let at = v;
  for (const s of segments(v, len, W, entry)) {
    check(s.phys, s.len, W, entry, at);
    if (s.cached) M.cache!.fill_bytes(s.phys, value & 0xff, s.len);
    else if (M.order !== null && M.order.coherent(s.phys)) M.order.cpu_fill(s.phys, value & 0xff, s.len, entry);
    else M.ram.fill(s.phys, value & 0xff, s.len);
    at += s.len;
  }
}

const scratch = new Uint8Array(8);
const sview = new DataView(scratch.buffer);

/** Typed load of 1, 2, 4 or 8 bytes, little-endian. */
export function cpu_load(v: number, size: number, entry: Function): number {
  const mmu = M.mmu;
  // Fast path: the linear map, no DMA mapping on the page, a coherent machine.
  if (M.cache === null && mmu.is_linear(v) && (v % PAGE_SIZE) + size <= PAGE_SIZE) {
    tick();
    const phys = mmu.lm_to_phys(v);
    if (M.pages.dma[Math.floor(phys / PAGE_SIZE) - M.pages.base_pfn] !== 0 || M.own.racing) check(phys, size, R, entry, v);
    const ram = M.ram;
    if (ram.same_chunk(phys, size)) {
      switch (size) {
        case 1: return ram.get8(phys);
        case 2: return ram.get16(phys);
        case 4: return ram.get32(phys);
        default: return ram.get32(phys) + ram.get32(phys + 4) * 4294967296;
      }
    }
  }
  cpu_read(v, scratch, 0, size, entry);
  switch (size) {
    case 1: return scratch[0]!;
    case 2: return sview.getUint16(0, true);
    case 4: return sview.getUint32(0, true);
    default: return sview.getUint32(0, true) + sview.getUint32(4, true) * 4294967296;
  }
}

export function cpu_store(v: number, size: number, value: number, entry: Function): void {
  const mmu = M.mmu;
  // Fast path, as cpu_load's: the linear map, within a page and a RAM chunk, a coherent machine.
  if (size <= 4 && M.cache === null && M.order === null && mmu.is_linear(v) && (v % PAGE_SIZE) + size <= PAGE_SIZE) {
    const phys = mmu.lm_to_phys(v), ram = M.ram;
    if (ram.same_chunk(phys, size) && ram.contains(phys, size)) {
      tick();
      if (M.pages.dma[Math.floor(phys / PAGE_SIZE) - M.pages.base_pfn] !== 0 || M.own.racing) check(phys, size, W, entry, v);
      switch (size) {
        case 1: ram.set8(phys, value); return;
        case 2: ram.set16(phys, value); return;
        default: ram.set32(phys, value); return;
      }
    }
  }
  switch (size) {
    case 1: scratch[0] = value; break;
    case 2: sview.setUint16(0, value, true); break;
    case 4: sview.setUint32(0, value >>> 0, true); break;
    default: {
      const big = BigInt.asUintN(64, BigInt(Math.trunc(value)));
      sview.setBigUint64(0, big, true);
    }
  }
  cpu_write(v, scratch, 0, size, entry);
}

// ---- faults ------------------------------------------------------------------------------

/** The oops a bad kernel-mode access gives, as each architecture prints it (x86's page-fault
 *  handler, arm64's do_mem_abort), then the panic. `notes` are dmalab's words. */
export function page_fault_oops(v: number, write: boolean, site: Site, label: string, notes: string[] = [], why?: string,
  rip?: string): never {
  const arm = M.shape.arch === 'arm64';
  const addr = v >= 0 && v < 2 ** 52 ? v.toString(16).padStart(16, '0') : px(v);
  const esr = write ? 0x96000045 : 0x96000005;
  const err = (write ? 2 : 0) | (why ? 1 : 0);
  die('OOPS', {
    head: arm
      ? [v >= 0 && v < PAGE_SIZE
          ? `Unable to handle kernel NULL pointer dereference at virtual address ${addr}`
          : `Unable to handle kernel paging request at virtual address ${addr}`,
         'Mem abort info:', `  ESR = 0x${esr.toString(16).padStart(16, '0')}`]
      : [v >= 0 && v < PAGE_SIZE
          ? `BUG: kernel NULL pointer dereference, address: ${addr}`
          : `BUG: unable to handle page fault for address: ${addr}`,
         `#PF: supervisor ${write ? 'write' : 'read'} access in kernel mode`,
         `#PF: error_code(0x${err.toString(16).padStart(4, '0')}) - ${why ? 'permissions violation' : 'not-present page'}`],
    x86: ['Oops', err], arm64: ['Oops', esr], cr2: addr, site: [label, site], after: notes,
    message: `page fault at ${addr}${why ? ` (${why})` : ''}`, ...(rip ? { rip } : {}),
  });
}

function page_fault(v: number, write: number, entry: Function, why?: string): never {
  page_fault_oops(v, !!write, take_site(entry), 'Faulting access at', [], why);
}

function mmio_misuse(v: number, entry: Function): never {
  // A plain load or store to an ioremap()ed page works on x86 (sparse warns at build time) and
  // may fault on arm64; dmalab stops it everywhere, with its own words before the oops.
  page_fault_oops(v, false, take_site(entry), 'Accessed at', [
    `dmalab: plain memory access to __iomem address ${px(v)}: registers are reached with readl()/writel() (or memcpy_fromio/memcpy_toio), not memory accessors`,
  ]);
}

export type { Site };

/** A kernel-internal copy between physical addresses through the CPU (swiotlb's bounce
 *  memcpy): it goes through the cache like any CPU copy, but it is the kernel's own, so no
 *  ownership check applies. */
export function kernel_copy_phys(dst: number, src: number, len: number): void {
  if (len <= 0) return;
  const tmp = new Uint8Array(len);
  if (M.cache) {
    M.cache.read(src, tmp, 0, len);
    M.cache.write(dst, tmp, 0, len);
  } else {
    M.ram.read(src, tmp, 0, len);
    M.ram.write(dst, tmp, 0, len);
  }
}

/** Zero memory from the kernel side (allocators clearing what they hand out). */
export function kernel_zero_phys(phys: number, len: number, cached: boolean): void {
  if (cached && M.cache) M.cache.fill_bytes(phys, 0, len);
  else M.ram.fill(phys, 0, len);
}
