// dmalab's own rules, the ones dma-debug cannot see because it never watches memory (see
// reference/dma-mapping.md §4.10): who owns each streaming buffer right now, the CPU or the
// device; which device accesses hit memory mapped for them, in the right direction; which
// transfers are in flight when the driver unmaps; and what a driver left allocated.
import { M } from '../kernel/machine.ts';
import { px, x016 } from '../lib/vsprintf.ts';
import { resolve_site, site_str, type Site } from '../kernel/site.ts';
import { dev_driver_string, dev_name, type device } from '../base/device.ts';
import { DIR_NAME, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from './types.ts';
import { DT, TYPE_NAME } from './debug.ts';
import { PAGE_SIZE, PageKind } from '../mm/page_alloc.ts';
import type { DriverRecord } from '../base/dd.ts';
import { LINE } from '../hw/cache.ts';

const NONE = -1;

interface Freed { dev: number; bus: number; size: number; mapped: Site; unmapped: Site; what: string }
const FREED = 64;
interface InFlight { dev: device; bus: number; len: number; write: boolean; what: string; started: Site }

export class Ownership {
  private cap = 0;
  r_phys = new Float64Array(0);
  r_size = new Float64Array(0);
  r_bus = new Float64Array(0);
  r_dir = new Uint8Array(0);
  r_dev = new Int32Array(0);
  /** The CPU-owned part of the buffer, as offsets [lo, hi); lo >= hi: the device owns it all. */
  r_lo = new Float64Array(0);
  r_hi = new Float64Array(0);
  r_live = new Uint8Array(0);
  /** Has the CPU written the buffer since it took ownership (sync_for_cpu)? */
  r_wrote = new Uint8Array(0);
  r_site: Site[] = [];
  private free: Int32Array = new Int32Array(0);
  private nfree = 0;
  /** Pages holding more than one mapping: pfn -> records. */
  private multi = new Map<number, number[]>();
  // A ring of recently unmapped/freed ranges (typed, so an unmap allocates nothing).
  private f_dev = new Int32Array(FREED).fill(-1);
  private f_bus = new Float64Array(FREED);
  private f_size = new Float64Array(FREED);
  private f_freed = new Uint8Array(FREED);
  private f_mapped: Site[] = new Array(FREED).fill(0);
  private f_unmapped: Site[] = new Array(FREED).fill(0);
  private f_head = 0;
  readonly inflight = new Set<InFlight>();
  /** More records of one debug entry (an sg segment merged from several list entries). */
  private extra = new Map<number, number[]>();

  constructor() {
    this.grow(4096);
  }

  private grow(n: number): void {
    const old = this.cap;
    const g = <T extends Int32Array | Float64Array | Uint8Array>(a: T, C: new (n: number) => T): T => { const b = new C(n); b.set(a); return b; };
    this.r_phys = g(this.r_phys, Float64Array); this.r_size = g(this.r_size, Float64Array);
    this.r_bus = g(this.r_bus, Float64Array); this.r_dir = g(this.r_dir, Uint8Array);
    this.r_dev = g(this.r_dev, Int32Array); this.r_lo = g(this.r_lo, Float64Array);
    this.r_hi = g(this.r_hi, Float64Array); this.r_live = g(this.r_live, Uint8Array);
    this.r_wrote = g(this.r_wrote, Uint8Array);
    const f = new Int32Array(n);
    f.set(this.free.subarray(0, this.nfree));
    for (let i = n - 1; i >= old; i--) f[this.nfree++] = i;
    this.free = f;
    this.cap = n;
  }

  // ---- records -----------------------------------------------------------------------------

  /** A streaming buffer [phys, phys+size) was mapped at bus address `bus`: the device owns it. */
  track(dev: device, phys: number, size: number, bus: number, dir: number, site: Site, entry: number): number {
    if (this.nfree === 0) this.grow(this.cap * 2);
    const r = this.free[--this.nfree]!;
    this.r_phys[r] = phys; this.r_size[r] = size; this.r_bus[r] = bus; this.r_dir[r] = dir;
    this.r_dev[r] = dev.id; this.r_lo[r] = 0; this.r_hi[r] = 0; this.r_live[r] = 1; this.r_site[r] = site;
    this.r_wrote[r] = 0;
    if (entry !== NONE) {
      if (M.dbg.e_own[entry] === NONE) M.dbg.e_own[entry] = r;
      else {
        const l = this.extra.get(entry);
        if (l) l.push(r);
        else this.extra.set(entry, [r]);
      }
    }
    this.index(r, +1);
    return r;
  }

  private index(r: number, delta: 1 | -1): void {
    const pages = M.pages, dma = pages.dma;
    const phys = this.r_phys[r]!;
    const first = Math.floor(phys / PAGE_SIZE), last = Math.floor((phys + Math.max(1, this.r_size[r]!) - 1) / PAGE_SIZE);
    if (first === last) {
      // The common case: a buffer within one page, alone on it.
      const i = first - pages.base_pfn;
      if (i >= 0 && i < pages.npages) {
        const cur = dma[i]!;
        if (delta > 0 && cur === 0) { dma[i] = r + 1; return; }
        if (delta < 0 && cur === r + 1) { dma[i] = 0; return; }
      }
    }
    for (let pfn = first; pfn <= last; pfn++) {
      const i = pfn - pages.base_pfn;
      if (i < 0 || i >= pages.npages) continue;
      const cur = dma[i]!;
      if (delta > 0) {
        if (cur === 0) dma[i] = r + 1;
        else if (cur > 0) { this.multi.set(pfn, [cur - 1, r]); dma[i] = -1; }
        else this.multi.get(pfn)!.push(r);
      } else {
        if (cur === r + 1) dma[i] = 0;
        else if (cur === -1) {
          const l = this.multi.get(pfn)!;
          l.splice(l.indexOf(r), 1);
          if (l.length === 1) { dma[i] = l[0]! + 1; this.multi.delete(pfn); }
        }
      }
    }
  }

  /** The debug entry is gone: release every record it carried. */
  release_entry(e: number, unmapped: Site): void {
    const first = M.dbg.e_own[e]!;
    if (first !== NONE) this.release(first, unmapped);
    const more = this.extra.get(e);
    if (more) {
      for (const r of more) this.release(r, unmapped);
      this.extra.delete(e);
    }
  }

  /** The mapping is gone; remember it for a while so a late device access can be explained. */
  release(r: number, unmapped: Site = 0): void {
    if (!this.r_live[r]) return;
    this.index(r, -1);
    this.r_live[r] = 0;
    this.remember(this.r_dev[r]!, this.r_bus[r]!, this.r_size[r]!, this.r_site[r]!, unmapped, 0);
    this.r_site[r] = 0;
    this.free[this.nfree++] = r;
  }

  /** Remember a freed coherent buffer too (for "device accessed freed memory"). */
  note_freed(dev: device, bus: number, size: number, mapped: Site, freed: Site): void {
    this.remember(dev.id, bus, size, mapped, freed, 1);
  }

  private remember(dev: number, bus: number, size: number, mapped: Site, unmapped: Site, freed: number): void {
    const h = this.f_head;
    this.f_dev[h] = dev; this.f_bus[h] = bus; this.f_size[h] = size; this.f_freed[h] = freed;
    this.f_mapped[h] = mapped; this.f_unmapped[h] = unmapped;
    this.f_head = (h + 1) % FREED;
  }

  /** The most recent freed range of dev overlapping [bus, bus+len). */
  private recently_freed(dev: number, bus: number, len: number): Freed | null {
    for (let k = 1; k <= FREED; k++) {
      const h = (this.f_head - k + FREED) % FREED;
      if (this.f_dev[h] === dev && this.f_bus[h]! < bus + len && this.f_bus[h]! + this.f_size[h]! > bus) {
        return { dev, bus: this.f_bus[h]!, size: this.f_size[h]!, mapped: this.f_mapped[h]!, unmapped: this.f_unmapped[h]!, what: this.f_freed[h] ? 'freed' : 'unmapped' };
      }
    }
    return null;
  }

  /** dma_sync_*_for_cpu / _for_device over [off, off+len) of record r. */
  sync(r: number, off: number, len: number, to_cpu: boolean): void {
    if (r === NONE || !this.r_live[r]) return;
    const lo = this.r_lo[r]!, hi = this.r_hi[r]!;
    const end = Math.min(off + len, this.r_size[r]!);
    if (to_cpu) {
      if (lo >= hi) { this.r_lo[r] = off; this.r_hi[r] = end; }
      else { this.r_lo[r] = Math.min(lo, off); this.r_hi[r] = Math.max(hi, end); }
    } else if (lo < hi) {
      // Handing part back to the device: keep the CPU-owned part that is left (one interval).
      if (off <= lo && end >= hi) { this.r_lo[r] = 0; this.r_hi[r] = 0; this.r_wrote[r] = 0; }
      else if (off <= lo && end > lo) this.r_lo[r] = end;
      else if (off < hi && end >= hi) this.r_hi[r] = off;
    }
  }

  /** Records of an sg debug entry (its first, and any more chained by track()). */
  records_of_entry(e: number): number[] {
    const first = M.dbg.e_own[e]!;
    if (first === NONE) return [];
    return [first, ...(this.extra.get(e) ?? [])];
  }

  /** kfree/vfree/free_pages of memory that is still mapped for DMA. */
  kfree_check(phys: number, len: number, site: Site): void {
    const pages = M.pages;
    for (let pfn = Math.floor(phys / PAGE_SIZE); pfn <= Math.floor((phys + len - 1) / PAGE_SIZE); pfn++) {
      const v = pages.valid(pfn) ? pages.dma[pfn - pages.base_pfn]! : 0;
      const recs = v > 0 ? [v - 1] : v < 0 ? this.multi.get(pfn) ?? [] : [];
      for (const r of recs) {
        if (this.r_phys[r]! >= phys + len || this.r_phys[r]! + this.r_size[r]! <= phys) continue;
        const dev = M.devices[this.r_dev[r]!]!;
        M.diag.report('KFREE_MAPPED', [
          `dmalab: ${dev_driver_string(dev)} ${dev_name(dev)}: memory freed while still mapped for DMA [device address=0x${x016(this.r_bus[r]!)}] [size=${this.r_size[r]} bytes] [mapped with ${DIR_NAME[this.r_dir[r]!]}]`,
          'dmalab: unmap first (dma_unmap_single / dma_unmap_sg), then free: the device may still be using it',
        ], { sites: [['Freed at', site], ['Mapped at', this.r_site[r]!]] });
        return;
      }
    }
  }

  // ---- the CPU side ------------------------------------------------------------------------

  /** A CPU access touched a page holding a mapping: is any of it device-owned? */
  cpu_access(phys: number, len: number, write: boolean, site: Site): void {
    const pages = M.pages;
    const seen = new Set<number>();
    for (let pfn = Math.floor(phys / PAGE_SIZE); pfn <= Math.floor((phys + len - 1) / PAGE_SIZE); pfn++) {
      const v = pages.dma[pfn - pages.base_pfn]!;
      const recs = v > 0 ? [v - 1] : v < 0 ? this.multi.get(pfn) ?? [] : [];
      for (const r of recs) {
        if (seen.has(r)) continue;
        seen.add(r);
        this.cpu_vs_record(r, phys, len, write, site);
      }
    }
  }

  private cpu_vs_record(r: number, phys: number, len: number, write: boolean, site: Site): void {
    const p = this.r_phys[r]!, size = this.r_size[r]!, dir = this.r_dir[r]!;
    const dev = M.devices[this.r_dev[r]!]!;
    // Bytes of the access that fall in the device-owned part of the buffer.
    const a = Math.max(phys, p), b = Math.min(phys + len, p + size);
    let owned = 0;
    if (a < b) {
      const lo = p + this.r_lo[r]!, hi = p + this.r_hi[r]!;
      owned = (b - a) - (lo < hi ? Math.max(0, Math.min(b, hi) - Math.max(a, lo)) : 0);
    }
    const who = `${dev_driver_string(dev)} ${dev_name(dev)}`;
    const desc = `[device address=0x${x016(this.r_bus[r]!)}] [size=${size} bytes] [mapped with ${DIR_NAME[dir]}]`;
    // A write to the part the CPU owns is allowed, but must be handed back with a sync.
    if (write && a < b && b - a > owned) this.r_wrote[r] = 1;
    if (owned > 0 && (write || dir !== DMA_TO_DEVICE)) {
      const fix = write
        ? (dir === DMA_FROM_DEVICE
          ? 'the device may be writing it; a DMA_FROM_DEVICE buffer is read-only to the CPU until unmapped or synced for the CPU'
          : 'call dma_sync_single_for_cpu() (or unmap) first, write, then dma_sync_single_for_device() before the device uses it again')
        : 'call dma_sync_single_for_cpu() (or unmap) before the CPU reads what the device wrote';
      M.diag.report('CPU_ACCESS_DEVICE_OWNED', [
        `dmalab: ${who}: CPU ${write ? 'wrote' : 'read'} ${len} byte${len > 1 ? 's' : ''} at ${px(M.mmu.phys_to_lm(Math.max(phys, p)))} of a buffer the device owns ${desc}`,
        `dmalab: ${fix}`,
      ], { sites: [[write ? 'CPU wrote at' : 'CPU read at', site], ['Mapped at', this.r_site[r]!]] });
      return;
    }
    if (write && owned === 0 && M.cache && !dev.dma_coherent && dir !== DMA_TO_DEVICE && (a >= b || this.r_lo[r]! >= this.r_hi[r]!)) {
      // Not the buffer's bytes, but a cache line it shares: an eviction can overwrite DMA data.
      const l0 = Math.floor(p / LINE) * LINE, l1 = Math.ceil((p + size) / LINE) * LINE;
      if (phys < l1 && phys + len > l0 && (phys < p || phys + len > p + size)) {
        M.diag.report('CACHELINE_SHARED', [
          `dmalab: ${who}: CPU wrote ${px(M.mmu.phys_to_lm(phys))}, in a cache line shared with a buffer the device owns ${desc}`,
          `dmalab: on this non-coherent machine the dirty line can be written back over what the device wrote; give DMA buffers their own cache lines (ARCH_DMA_MINALIGN = ${M.shape.dma_minalign})`,
        ], { sites: [['CPU wrote at', site], ['Mapped at', this.r_site[r]!]] });
      }
    }
  }

  // ---- the device side ---------------------------------------------------------------------

  /** A device read or wrote [bus, bus+len): was that memory mapped for it, that way? */
  device_access(dev: device, bus: number, len: number, write: boolean, started: Site): void {
    const dbg = M.dbg;
    const who = `${dev_driver_string(dev)} ${dev_name(dev)}`;
    const verb = write ? 'wrote' : 'read';
    const e = dbg.find_containing(dev, bus, len);
    const range = `[bus address=0x${x016(bus)}] [size=${len} bytes]`;
    if (e === NONE) {
      const f = this.recently_freed(dev.id, bus, len);
      if (f) {
        M.diag.report('DEVICE_ACCESS_FREED', [
          `dmalab: ${who}: device ${verb} memory that was ${f.what} ${range}`,
          'dmalab: the device may only touch a buffer between map and unmap (or alloc and free); wait for it to finish first',
        ], { sites: [['Transfer started at', started], [f.what === 'freed' ? 'Freed at' : 'Unmapped at', f.unmapped], ['Mapped at', f.mapped]] });
        return;
      }
      const o = dbg.find_overlapping(dev, bus, len);
      M.diag.report('DEVICE_ACCESS_UNMAPPED', o !== NONE ? [
        `dmalab: ${who}: device ${verb} past the end of a mapping ${range}`,
        `dmalab: the mapping is [device address=0x${x016(dbg.e_addr[o]!)}] [size=${dbg.e_size[o]} bytes]; the transfer is longer than what was mapped`,
      ] : [
        `dmalab: ${who}: device ${verb} memory that is not mapped for it ${range}`,
        'dmalab: give the device only addresses from dma_map_*() or dma_alloc_coherent(), never virt_to_phys() or a CPU pointer',
      ], { sites: o !== NONE ? [['Transfer started at', started], ['Mapped at', dbg.e_site[o]!]] : [['Transfer started at', started]] });
      return;
    }
    const type = dbg.e_type[e]!;
    if (type === DT.coherent || type === DT.resource) return;
    const dir = dbg.e_dir[e]!;
    const desc = `[device address=0x${x016(dbg.e_addr[e]!)}] [size=${dbg.e_size[e]} bytes] [mapped with ${DIR_NAME[dir]}]`;
    if ((write && dir === DMA_TO_DEVICE) || (!write && dir === DMA_FROM_DEVICE)) {
      M.diag.report('DEVICE_ACCESS_WRONG_DIRECTION', [
        `dmalab: ${who}: device ${verb} a buffer mapped ${DIR_NAME[dir]} ${desc}`,
        `dmalab: ${write ? 'a device that writes the buffer needs DMA_FROM_DEVICE (or DMA_BIDIRECTIONAL)' : 'a device that reads the buffer needs DMA_TO_DEVICE (or DMA_BIDIRECTIONAL)'}; an IOMMU maps it ${dir === DMA_TO_DEVICE ? 'read-only' : 'write-only'}`,
      ], { sites: [['Transfer started at', started], ['Mapped at', dbg.e_site[e]!]] });
    }
    // dma_alloc_noncoherent() memory is owned like a streaming mapping, by the CPU at first.
    if (type === DT.single || type === DT.sg || type === DT.noncoherent) {
      for (const r of type === DT.sg ? this.records_of_entry(e) : [dbg.e_own[e]!]) {
        if (r === NONE || !this.r_live[r]) continue;
        const lo = this.r_lo[r]!, hi = this.r_hi[r]!;
        // The CPU took the buffer back (sync_for_cpu) and never returned it: harmless as long
        // as it only read (Documentation/core-api/dma-api-howto.rst's RX example); once it
        // wrote, the device can see stale memory, or the dirty lines land over its data.
        if (lo >= hi || !this.r_wrote[r]) continue;
        const off = bus - this.r_bus[r]!;
        if (off < hi && off + len > lo) {
          M.diag.report('DEVICE_ACCESS_CPU_OWNED', [
            `dmalab: ${who}: device ${verb} a buffer the CPU owns and has written since ${type === DT.noncoherent ? 'dma_alloc_noncoherent() or ' : ''}dma_sync_*_for_cpu() ${desc}`,
            `dmalab: after dma_sync_*_for_cpu() the CPU owns the buffer; call dma_sync_single_for_device() before handing it back to the device (the CPU's writes may still sit in its cache, or in the original buffer with swiotlb)`,
          ], { sites: [['Transfer started at', started], ['Mapped at', dbg.e_site[e]!]] });
          break;
        }
      }
    }
  }

  // ---- transfers in flight -----------------------------------------------------------------

  begin(dev: device, bus: number, len: number, write: boolean, what: string, started: Site): InFlight {
    const t = { dev, bus, len, write, what, started };
    this.inflight.add(t);
    return t;
  }
  end(t: InFlight | null): void {
    if (t) this.inflight.delete(t);
  }

  /** Unmap or free of [bus, bus+size): is the device still transferring there? */
  check_inflight(dev: device, bus: number, size: number, site: Site, op: string): void {
    for (const t of this.inflight) {
      if (t.dev !== dev || t.bus >= bus + size || t.bus + t.len <= bus) continue;
      M.diag.report('DMA_UNMAP_IN_FLIGHT', [
        `dmalab: ${dev_driver_string(dev)} ${dev_name(dev)}: ${op} while the device is still ${t.write ? 'writing' : 'reading'} it [device address=0x${x016(bus)}] [size=${size} bytes] (${t.what})`,
        'dmalab: wait for the transfer to complete (its interrupt or status bit) before giving the memory back',
      ], { sites: [[`${op} at`, site], ['Transfer started at', t.started]] });
      return;
    }
  }

  // ---- leaks -------------------------------------------------------------------------------

  /** kmalloc / page / vmalloc memory a driver still holds after a failed probe or unbind. */
  memory_leaks(rec: DriverRecord, name: string, when: 'probe' | 'unbind'): void {
    const list: { addr: number; size: number; site: Site; kind: string }[] = [];
    for (const a of M.slab.live()) if (a.owner === rec.id) list.push({ addr: M.mmu.phys_to_lm(a.addr), size: a.size, site: a.site as Site, kind: 'kmalloc' });
    const pages = M.pages;
    for (let i = 0; i < pages.npages; i++) {
      if (pages.owner[i] !== rec.id) continue;
      if (pages.kind[i] === PageKind.BUDDY || pages.kind[i] === PageKind.KMALLOC_LARGE) {
        list.push({ addr: M.mmu.phys_to_lm((pages.base_pfn + i) * PAGE_SIZE), size: PAGE_SIZE << pages.order[i]!, site: pages.site[i] as Site, kind: pages.kind[i] === PageKind.BUDDY ? 'alloc_pages' : 'kmalloc' });
      }
    }
    for (const a of M.mmu.areas.values()) if (a.owner === rec.id && a.kind === 'vmalloc') list.push({ addr: a.addr, size: a.size, site: a.site as Site, kind: 'vmalloc' });
    if (!list.length) return;
    const lines = [`dmalab: ${name}: ${when === 'probe' ? 'failed probe' : 'driver'} left ${list.length} allocation${list.length > 1 ? 's' : ''} behind (as kmemleak would report):`];
    for (const x of list.slice(0, 8)) {
      const c = resolve_site(x.site);
      lines.push(`dmalab:   ${x.kind} ${x.size} bytes at ${px(x.addr)}${c ? ` allocated at ${site_str(c)} (${c.fn})` : ''}`);
    }
    if (list.length > 8) lines.push(`dmalab:   ... and ${list.length - 8} more`);
    M.diag.report('LEAK_MEMORY', lines, { sites: list.slice(0, 8).map((x) => [`${x.kind} allocated at`, x.site] as [string, Site]), sites_in_text: true });
  }
}

export { TYPE_NAME, DMA_BIDIRECTIONAL };
