// dmalab's own rules, the ones dma-debug cannot see because it never watches memory (see
// reference/dma-mapping.md §4.10): who owns each streaming buffer right now, the CPU or the
// device; which device accesses hit memory mapped for them, in the right direction; which
// transfers are in flight when the driver unmaps; and what a driver left allocated. It keeps
// its own tables (dma-debug is a leaf, as kernel/dma/debug.c is): a record per mapped piece
// of memory, found by physical page (CPU accesses) and by (device, bus address) (device
// accesses), and hangs its device-side checks on the DMA accessor (hw/bus.ts).
import { M } from '../kernel/machine.ts';
import { px, x016 } from '../lib/vsprintf.ts';
import { LazySite, resolve_site, site_str, take_site, type Site } from '../kernel/site.ts';
import { dev_driver_string, dev_name, type device } from '../base/device.ts';
import { DIR_NAME, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from './types.ts';
import { DT, TYPE_NAME } from './debug.ts';
import { PAGE_SIZE, PageKind } from '../mm/page_alloc.ts';
import type { DriverRecord } from '../base/dd.ts';
import { LINE } from '../hw/cache.ts';
import { set_dma_hooks } from '../hw/bus.ts';
import { T } from '../kernel/trace.ts';
import { Buckets, bkey, bucket_of } from '../lib/buckets.ts';
import { what_is } from '../mm/whatis.ts';
import { grown } from '../lib/grown.ts';

const NONE = -1;
const who_of = (dev: device) => `${dev_driver_string(dev)} ${dev_name(dev)}`;

interface Freed { dev: number; bus: number; size: number; mapped: Site; unmapped: Site; what: string }
const FREED = 64;
/** A transfer a device model declared. `done`: bytes from the start the master has moved;
 *  `ranges`: the CPU-side memory behind it (physical), for the CPU racing it. */
interface InFlight {
  dev: device; bus: number; len: number; write: boolean; what: string; started: Site;
  done: number; ranges: { phys: number; bus: number; len: number }[];
}

/** What a checker above the mapping API (the DMA engine's, sim/dmaengine/check/) hangs on these
 *  tables, so dma/ never imports it. unmap, kfree and access run only while the checker has
 *  armed them (Ownership.watch_n non-zero); unmapped runs after a DEVICE_ACCESS_UNMAPPED. */
export interface OwnerWatch {
  unmap(dev: device, bus: number, size: number, site: Site, op: string): void;
  kfree(phys: number, len: number, site: Site): void;
  access(dev: device, bus: number, len: number, write: boolean, started: Site): void;
  unmapped(dev: device, bus: number, len: number, write: boolean, started: Site): void;
}
let watch: OwnerWatch | null = null;
export function set_owner_watch(w: OwnerWatch): void {
  watch = w;
}

/** A mapping as another checker asks for it: its direction, kind (debug.ts's DT), size, site. */
export interface MappingInfo { dev: device; bus: number; size: number; dir: number; type: number; site: Site }

/** What the device may touch, and the CPU may touch freely meanwhile (no ownership). */
const SHARED = (type: number) => type === DT.coherent || type === DT.resource;

export class Ownership {
  private cap = 0;
  r_phys = new Float64Array(0);
  r_size = new Float64Array(0);
  r_bus = new Float64Array(0);
  r_dir = new Uint8Array(0);
  r_dev = new Int32Array(0);
  /** How it was mapped (debug.ts's DT: single, sg, coherent, resource, noncoherent). */
  r_type = new Uint8Array(0);
  /** The CPU-owned part of the buffer, as offsets [lo, hi); lo >= hi: the device owns it all. */
  r_lo = new Float64Array(0);
  r_hi = new Float64Array(0);
  r_live = new Uint8Array(0);
  /** Has the CPU written the buffer since it took ownership (sync_for_cpu)? */
  r_wrote = new Uint8Array(0);
  /** The head record of a DMA segment carries the segment's bus length; an sg segment merged
   *  from several list entries (an IOMMU's) has more records, chained in `extra`. */
  r_slen = new Float64Array(0);
  r_site: Site[] = [];
  private free: Int32Array = new Int32Array(0);
  private nfree = 0;
  /** Pages holding more than one mapping: pfn -> records. */
  private multi = new Map<number, number[]>();
  /** Segment heads by (device, 8 KiB of bus address). */
  private b = new Buckets();
  private max_slen = 0;
  /** find_containing()'s long scans, remembered per (device, bucket) while no segment head is
   *  added or removed (`gen` counts those): the heads its scan would meet, in its order. */
  private gen = 0;
  private memo = new Map<number, number[]>();
  private memo_gen = 0;
  private live = 0;
  // A ring of recently unmapped/freed ranges (typed, so an unmap allocates nothing).
  private f_dev = new Int32Array(FREED).fill(-1);
  private f_bus = new Float64Array(FREED);
  private f_size = new Float64Array(FREED);
  private f_freed = new Uint8Array(FREED);
  private f_mapped: Site[] = new Array(FREED).fill(0);
  private f_unmapped: Site[] = new Array(FREED).fill(0);
  private f_head = 0;
  readonly inflight = new Set<InFlight>();
  /** Transfers in flight with CPU-side memory: CPU accesses look at them while non-zero. */
  racing = 0;
  /** The other records of a segment head (an sg segment merged from several list entries). */
  private extra = new Map<number, number[]>();
  /** How many things the watch (set_owner_watch) is armed for on this machine. */
  watch_n = 0;

  constructor() {
    this.grow(256);
  }

  private grow(n: number): void {
    const old = this.cap;
    this.r_phys = grown(this.r_phys, n); this.r_size = grown(this.r_size, n);
    this.r_bus = grown(this.r_bus, n); this.r_dir = grown(this.r_dir, n);
    this.r_dev = grown(this.r_dev, n); this.r_lo = grown(this.r_lo, n);
    this.r_hi = grown(this.r_hi, n); this.r_live = grown(this.r_live, n);
    this.r_wrote = grown(this.r_wrote, n); this.r_type = grown(this.r_type, n);
    this.r_slen = grown(this.r_slen, n);
    this.b.grow(n);
    const f = new Int32Array(n);
    f.set(this.free.subarray(0, this.nfree));
    for (let i = n - 1; i >= old; i--) f[this.nfree++] = i;
    this.free = f;
    this.cap = n;
  }

  // ---- records -----------------------------------------------------------------------------

  /** Memory [phys, phys+size) was mapped for dev at bus address `bus`, as `type`: the device
   *  may use it now (a streaming buffer: the device owns it). `seg`: the head record of the
   *  DMA segment it joins (an sg list entry merged into the previous one), or -1 for a
   *  segment of its own of `slen` bus bytes (default: size). */
  track(dev: device, phys: number, size: number, bus: number, dir: number, site: Site, type: number, seg = NONE, slen = size): number {
    if (this.nfree === 0) this.grow(this.cap * 2);
    const r = this.free[--this.nfree]!;
    this.r_phys[r] = phys; this.r_size[r] = size; this.r_bus[r] = bus; this.r_dir[r] = dir;
    this.r_dev[r] = dev.id; this.r_lo[r] = 0; this.r_hi[r] = 0; this.r_live[r] = 1; this.r_site[r] = site;
    this.r_wrote[r] = 0; this.r_type[r] = type;
    if (seg === NONE) {
      this.r_slen[r] = slen;
      if (slen > this.max_slen) this.max_slen = slen;
      this.b.link(r, bkey(dev.id, bucket_of(bus)));
      this.gen++;
      this.live++;
    } else {
      this.r_slen[r] = -1;
      const l = this.extra.get(seg);
      if (l) l.push(r);
      else this.extra.set(seg, [r]);
    }
    if (!SHARED(type)) this.index(r, +1);
    return r;
  }

  /** dma_map_sg: one record per list entry, each joining the DMA segment that carries it. */
  track_sg(dev: device, segs: { phys: number; length: number; dma: number; dma_len: number }[], nents: number, ents: number, dir: number, site: Site): void {
    let seg = 0, seg_off = 0, head = NONE;
    for (let i = 0; i < nents; i++) {
      const s = segs[i]!;
      if (dev._iommu) {
        while (seg + 1 < ents && seg_off >= segs[seg]!.dma_len) { seg++; seg_off = 0; head = NONE; }
        const bus = segs[seg]!.dma + seg_off;
        const r = this.track(dev, s.phys, s.length, bus, dir, site, DT.sg, head, segs[seg]!.dma_len);
        if (head === NONE) head = r;
        seg_off += s.length;
      } else this.track(dev, s.phys, s.length, s.dma, dir, site, DT.sg, NONE, s.dma_len);
    }
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

  /** The segment head of dev at exactly bus address `bus` (the best fit by size and type when
   *  the same address is mapped more than once), or -1. */
  private find_exact(dev: number, bus: number, size: number, type: number): number {
    const h = this.b.first(bkey(dev, bucket_of(bus)));
    if (h === NONE) return NONE;
    let best = NONE, score = -1, e = h;
    do {
      if (this.r_dev[e] === dev && this.r_bus[e] === bus) {
        const s = (this.r_slen[e] === size ? 2 : 0) + (this.r_type[e] === type ? 1 : 0);
        if (s > score) { score = s; best = e; }
      }
      e = this.b.next[e]!;
    } while (e !== h);
    return best;
  }

  /** The segment head of dev containing [bus, bus+len), or -1. */
  private find_containing(dev: number, bus: number, len: number): number {
    if (this.live === 0) return NONE;
    const b = bucket_of(bus);
    const limit = Math.ceil(this.max_slen / 8192) + 2;
    // A long mapping is live: many buckets to look back through, once per bucket.
    if (limit > 8 && bus >= 0) return this.find_containing_memo(dev, bus, len, b, limit);
    for (let i = 0; i < limit && b - i >= 0; i++) {
      const h = this.b.first(bkey(dev, b - i));
      if (h === NONE) continue;
      let e = h;
      do {
        if (this.r_dev[e] === dev && this.r_bus[e]! <= bus && this.r_bus[e]! + this.r_slen[e]! >= bus + len) return e;
        e = this.b.next[e]!;
      } while (e !== h);
    }
    return NONE;
  }

  /** find_containing() over the heads that reach into bucket b, in the scan's order. */
  private find_containing_memo(dev: number, bus: number, len: number, b: number, limit: number): number {
    if (this.memo_gen !== this.gen || this.memo.size > 4096) { this.memo.clear(); this.memo_gen = this.gen; }
    const key = bkey(dev, b);
    let list = this.memo.get(key);
    if (!list) {
      list = [];
      const from = b * 8192;
      for (let i = 0; i < limit && b - i >= 0; i++) {
        const h = this.b.first(bkey(dev, b - i));
        if (h === NONE) continue;
        let e = h;
        do {
          if (this.r_dev[e] === dev && this.r_bus[e]! + this.r_slen[e]! >= from) list.push(e);
          e = this.b.next[e]!;
        } while (e !== h);
      }
      this.memo.set(key, list);
    }
    for (let k = 0; k < list.length; k++) {
      const e = list[k]!;
      if (this.r_bus[e]! <= bus && this.r_bus[e]! + this.r_slen[e]! >= bus + len) return e;
    }
    return NONE;
  }

  /** A segment head of dev overlapping [bus, bus+len), or -1. */
  private find_overlapping(dev: number, bus: number, len: number): number {
    if (this.live === 0) return NONE;
    const last = bucket_of(bus + len - 1);
    for (let b = Math.max(0, bucket_of(bus) - Math.ceil(this.max_slen / 8192) - 1); b <= last; b++) {
      const h = this.b.first(bkey(dev, b));
      if (h === NONE) continue;
      let e = h;
      do {
        if (this.r_dev[e] === dev && this.r_bus[e]! < bus + len && this.r_bus[e]! + this.r_slen[e]! > bus) return e;
        e = this.b.next[e]!;
      } while (e !== h);
    }
    return NONE;
  }

  /** An unmap or free of the segment at `bus`: its records go (remembered for a while, so a
   *  late device access can be explained). */
  untrack(dev: device, bus: number, size: number, type: number, site: Site): void {
    const h = this.find_exact(dev.id, bus, size, type);
    if (h === NONE) return;
    const freed = type === DT.coherent ? 1 : 0;
    this.b.unlink(h);
    this.gen++;
    this.live--;
    this.remember(dev.id, bus, this.r_slen[h]!, this.r_site[h]!, site, freed);
    this.release(h);
    const more = this.extra.get(h);
    if (more) {
      for (const r of more) this.release(r);
      this.extra.delete(h);
    }
  }

  private release(r: number): void {
    if (!this.r_live[r]) return;
    if (!SHARED(this.r_type[r]!)) this.index(r, -1);
    this.r_live[r] = 0;
    this.r_site[r] = 0;
    this.free[this.nfree++] = r;
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
    this.sync_bytes(r, lo, hi, off, len, to_cpu);
    if (this.r_lo[r] !== lo || this.r_hi[r] !== hi) {
      M.trace.emit(M.clock.now, T.owner, this.r_dev[r]!, this.r_bus[r]!, this.r_lo[r]!, this.r_hi[r]!, this.r_size[r]!);
    }
  }

  private sync_bytes(r: number, lo: number, hi: number, off: number, len: number, to_cpu: boolean): void {
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

  /** dma_sync_single_*: [bus, bus+size) of dev changes hands. A sync dma-debug cannot match
   *  (past the mapping's end) still does its work on the memory it covers: the part of a
   *  mapping it overlaps changes hands. */
  sync_range(dev: device, bus: number, size: number, to_cpu: boolean): void {
    const h = this.find_containing(dev.id, bus, size);
    if (h !== NONE) { this.sync(h, bus - this.r_bus[h]!, size, to_cpu); return; }
    const o = this.find_overlapping(dev.id, bus, size);
    if (o === NONE) return;
    const from = Math.max(bus, this.r_bus[o]!), to = Math.min(bus + size, this.r_bus[o]! + this.r_slen[o]!);
    this.sync(o, from - this.r_bus[o]!, to - from, to_cpu);
  }

  /** dma_sync_sg_*: each DMA segment's list entries change hands whole. */
  sync_sg(dev: device, segs: { dma: number; dma_len: number }[], to_cpu: boolean): void {
    for (const s of segs) {
      if (!s.dma_len) continue;
      const h = this.find_containing(dev.id, s.dma, s.dma_len);
      if (h !== NONE) for (const r of this.records_of(h)) this.sync(r, 0, this.r_size[r]!, to_cpu);
    }
  }

  /** The records of a segment head (its own, and any more chained by track()). */
  private records_of(h: number): number[] {
    const more = this.extra.get(h);
    return more ? [h, ...more] : [h];
  }

  /** The mapping of dev containing [bus, bus+len), for another checker (null: none). */
  mapping_of(dev: device, bus: number, len: number): MappingInfo | null {
    const h = this.find_containing(dev.id, bus, Math.max(1, len));
    return h === NONE ? null : this.info(h);
  }
  /** A mapping of another device than `except` containing [bus, bus+len) (the first found). */
  mapped_elsewhere(except: device, bus: number, len: number): MappingInfo | null {
    for (const d of M.devices) {
      if (!d || d === except) continue;
      const h = this.find_containing(d.id, bus, Math.max(1, len));
      if (h !== NONE) return this.info(h);
    }
    return null;
  }
  private info(h: number): MappingInfo {
    return { dev: M.devices[this.r_dev[h]!]!, bus: this.r_bus[h]!, size: this.r_slen[h]!, dir: this.r_dir[h]!,
      type: this.r_type[h]!, site: this.r_site[h]! };
  }

  /** kfree/vfree/free_pages of memory that is still mapped for DMA. */
  kfree_check(phys: number, len: number, site: Site): void {
    if (this.watch_n && watch) watch.kfree(phys, len, site);
    const pages = M.pages;
    for (let pfn = Math.floor(phys / PAGE_SIZE); pfn <= Math.floor((phys + len - 1) / PAGE_SIZE); pfn++) {
      const v = pages.valid(pfn) ? pages.dma[pfn - pages.base_pfn]! : 0;
      const recs = v > 0 ? [v - 1] : v < 0 ? this.multi.get(pfn) ?? [] : [];
      for (const r of recs) {
        if (this.r_phys[r]! >= phys + len || this.r_phys[r]! + this.r_size[r]! <= phys) continue;
        const dev = M.devices[this.r_dev[r]!]!;
        M.diag.report('KFREE_MAPPED', [
          `dmalab: ${who_of(dev)}: memory freed while still mapped for DMA ${this.desc(r)}`,
          'dmalab: unmap first (dma_unmap_single / dma_unmap_sg), then free: the device may still be using it',
        ], { sites: [['Freed at', site], ['Mapped at', this.r_site[r]!]] });
        return;
      }
    }
  }

  // ---- the CPU side ------------------------------------------------------------------------

  /** A CPU access touched a page holding a mapping: is any of it device-owned? */
  cpu_access(phys: number, len: number, write: boolean, entry: Function): void {
    const pages = M.pages;
    // The site is taken only when a record's bytes are touched (a V8 capture costs microseconds,
    // and most accesses to a page with a mapping on it miss the mapping: a slab neighbour).
    const at = new LazySite(entry);
    let seen: number[] | null = null;
    for (let pfn = Math.floor(phys / PAGE_SIZE); pfn <= Math.floor((phys + len - 1) / PAGE_SIZE); pfn++) {
      const v = pages.dma[pfn - pages.base_pfn]!;
      if (v === 0) continue;
      const recs = v > 0 ? [v - 1] : this.multi.get(pfn) ?? [];
      for (const r of recs) {
        if (seen?.includes(r)) continue;
        (seen ??= []).push(r);
        this.trace_cpu(r, phys, len, write, at);
        this.cpu_vs_record(r, phys, len, write, at);
      }
    }
  }

  /** The timeline's tick for a CPU access to record r's bytes (the trace coalesces a loop's). */
  private trace_cpu(r: number, phys: number, len: number, write: boolean, at: LazySite): void {
    const p = this.r_phys[r]!, a = Math.max(phys, p), b = Math.min(phys + len, p + this.r_size[r]!);
    if (a < b) M.trace.cpu(M.clock.now, write, this.r_dev[r]!, this.r_bus[r]! + (a - p), b - a, this.r_bus[r]!, at.site());
  }

  private cpu_vs_record(r: number, phys: number, len: number, write: boolean, at: LazySite): void {
    const p = this.r_phys[r]!, size = this.r_size[r]!, dir = this.r_dir[r]!;
    const dev = M.devices[this.r_dev[r]!]!;
    // Bytes of the access that fall in the device-owned part of the buffer.
    const a = Math.max(phys, p), b = Math.min(phys + len, p + size);
    let owned = 0;
    if (a < b) {
      const lo = p + this.r_lo[r]!, hi = p + this.r_hi[r]!;
      owned = (b - a) - (lo < hi ? Math.max(0, Math.min(b, hi) - Math.max(a, lo)) : 0);
    }
    // A write to the part the CPU owns is allowed, but must be handed back with a sync.
    if (write && a < b && b - a > owned) this.r_wrote[r] = 1;
    if (owned > 0 && (write || dir !== DMA_TO_DEVICE)) {
      const fix = write
        ? (dir === DMA_FROM_DEVICE
          ? 'the device may be writing it; a DMA_FROM_DEVICE buffer is read-only to the CPU until unmapped or synced for the CPU'
          : 'call dma_sync_single_for_cpu() (or unmap) first, write, then dma_sync_single_for_device() before the device uses it again')
        : 'call dma_sync_single_for_cpu() (or unmap) before the CPU reads what the device wrote';
      M.diag.report('CPU_ACCESS_DEVICE_OWNED', [
        `dmalab: ${who_of(dev)}: CPU ${write ? 'wrote' : 'read'} ${len} byte${len > 1 ? 's' : ''} at ${px(M.mmu.phys_to_lm(Math.max(phys, p)))} of a buffer the device owns ${this.desc(r)}`,
        `dmalab: ${fix}`,
      ], { sites: [[write ? 'CPU wrote at' : 'CPU read at', at.site()], ['Mapped at', this.r_site[r]!]] });
      return;
    }
    if (write && owned === 0 && M.cache && !dev.dma_coherent && dir !== DMA_TO_DEVICE && (a >= b || this.r_lo[r]! >= this.r_hi[r]!)) {
      // Not the buffer's bytes, but a cache line it shares: an eviction can overwrite DMA data.
      const l0 = Math.floor(p / LINE) * LINE, l1 = Math.ceil((p + size) / LINE) * LINE;
      if (phys < l1 && phys + len > l0 && (phys < p || phys + len > p + size)) {
        M.diag.report('CACHELINE_SHARED', [
          `dmalab: ${who_of(dev)}: CPU wrote ${px(M.mmu.phys_to_lm(phys))}, in a cache line shared with a buffer the device owns ${this.desc(r)}`,
          `dmalab: on this non-coherent machine the dirty line can be written back over what the device wrote; give DMA buffers their own cache lines (ARCH_DMA_MINALIGN = ${M.shape.dma_minalign})`,
        ], { sites: [['CPU wrote at', at.site()], ['Mapped at', this.r_site[r]!]] });
      }
    }
  }

  /** A record as dma-debug's reports describe an entry (built only for a report); `size`: the
   *  segment's length where a device access is about one segment of a scatterlist. */
  private desc(r: number, size = this.r_size[r]!): string {
    return `[device address=0x${x016(this.r_bus[r]!)}] [size=${size} bytes] [mapped with ${DIR_NAME[this.r_dir[r]!]}]`;
  }

  // ---- the device side ---------------------------------------------------------------------

  /** A device read or wrote [bus, bus+len): was that memory mapped for it, that way? */
  device_access(dev: device, bus: number, len: number, write: boolean, started: Site): void {
    const e = this.find_containing(dev.id, bus, len);
    // The common case, a coherent or shared mapping: nothing to say, no words built.
    if (e !== NONE && SHARED(this.r_type[e]!)) return;
    const verb = write ? 'wrote' : 'read';
    if (e === NONE) {
      const who = who_of(dev);
      const range = `[bus address=0x${x016(bus)}] [size=${len} bytes]`;
      const f = this.recently_freed(dev.id, bus, len);
      if (f) {
        M.diag.report('DEVICE_ACCESS_FREED', [
          `dmalab: ${who}: device ${verb} memory that was ${f.what} ${range}`,
          'dmalab: the device may only touch a buffer between map and unmap (or alloc and free); wait for it to finish first',
        ], { sites: [['Transfer started at', started], [f.what === 'freed' ? 'Freed at' : 'Unmapped at', f.unmapped], ['Mapped at', f.mapped]] });
        return;
      }
      const o = this.find_overlapping(dev.id, bus, len);
      this.report_unmapped(o, dev, bus, len, write, started, who, verb, range);
      return;
    }
    this.check_mapped(e, dev, bus, len, write, started, verb);
  }

  private report_unmapped(o: number, dev: device, bus: number, len: number, write: boolean, started: Site, who: string,
    verb: string, range: string): void {
    M.diag.report('DEVICE_ACCESS_UNMAPPED', o !== NONE ? [
      `dmalab: ${who}: device ${verb} past the end of a mapping ${range}`,
      `dmalab: the mapping is [device address=0x${x016(this.r_bus[o]!)}] [size=${this.r_slen[o]} bytes]; the transfer is longer than what was mapped`,
    ] : [
      `dmalab: ${who}: device ${verb} memory that is not mapped for it ${range}`,
      'dmalab: give the device only addresses from dma_map_*() or dma_alloc_coherent(), never virt_to_phys() or a CPU pointer',
    ], { sites: o !== NONE ? [['Transfer started at', started], ['Mapped at', this.r_site[o]!]] : [['Transfer started at', started]] });
    if (o === NONE && watch) watch.unmapped(dev, bus, len, write, started);
  }

  /** A segment head's words in reports: its device address, size and direction. */
  private check_mapped(e: number, dev: device, bus: number, len: number, write: boolean, started: Site, verb: string): void {
    const type = this.r_type[e]!;
    if (SHARED(type)) return;
    const dir = this.r_dir[e]!;
    if ((write && dir === DMA_TO_DEVICE) || (!write && dir === DMA_FROM_DEVICE)) {
      M.diag.report('DEVICE_ACCESS_WRONG_DIRECTION', [
        `dmalab: ${who_of(dev)}: device ${verb} a buffer mapped ${DIR_NAME[dir]} ${this.desc(e, this.r_slen[e]!)}`,
        `dmalab: ${write ? 'a device that writes the buffer needs DMA_FROM_DEVICE (or DMA_BIDIRECTIONAL)' : 'a device that reads the buffer needs DMA_TO_DEVICE (or DMA_BIDIRECTIONAL)'}; an IOMMU maps it ${dir === DMA_TO_DEVICE ? 'read-only' : 'write-only'}`,
      ], { sites: [['Transfer started at', started], ['Mapped at', this.r_site[e]!]] });
    }
    // dma_alloc_noncoherent() memory is owned like a streaming mapping, by the CPU at first.
    const more = this.extra.get(e), n = more ? more.length : 0;
    for (let k = -1; k < n; k++) {
      const r = k < 0 ? e : more![k]!;
      const lo = this.r_lo[r]!, hi = this.r_hi[r]!;
      // The CPU took the buffer back (sync_for_cpu) and never returned it: harmless as long
      // as it only read (Documentation/core-api/dma-api-howto.rst's RX example); once it
      // wrote, the device can see stale memory, or the dirty lines land over its data.
      if (lo >= hi || !this.r_wrote[r]) continue;
      const off = bus - this.r_bus[r]!;
      if (off < hi && off + len > lo) {
        M.diag.report('DEVICE_ACCESS_CPU_OWNED', [
          `dmalab: ${who_of(dev)}: device ${verb} a buffer the CPU owns and has written since ${type === DT.noncoherent ? 'dma_alloc_noncoherent() or ' : ''}dma_sync_*_for_cpu() ${this.desc(e, this.r_slen[e]!)}`,
          `dmalab: after dma_sync_*_for_cpu() the CPU owns the buffer; call dma_sync_single_for_device() before handing it back to the device (the CPU's writes may still sit in its cache, or in the original buffer with swiotlb)`,
        ], { sites: [['Transfer started at', started], ['Mapped at', this.r_site[e]!]] });
        break;
      }
    }
  }

  // ---- transfers in flight -----------------------------------------------------------------

  /** A device model declared a transfer: find the memory behind it (the records of the mapping
   *  it falls in: the original buffer with swiotlb, the list entries of a merged segment), so
   *  a CPU access to the bytes it has yet to move is seen. */
  begin(dev: device, bus: number, len: number, write: boolean, what: string, started: Site): InFlight {
    const t: InFlight = { dev, bus, len, write, what, started, done: 0, ranges: [] };
    const h = len > 0 ? this.find_containing(dev.id, bus, len) : NONE;
    if (h !== NONE) {
      const more = this.extra.get(h), n = more ? more.length : 0;
      for (let k = -1; k < n; k++) {
        const r = k < 0 ? h : more![k]!;
        const from = Math.max(bus, this.r_bus[r]!), to = Math.min(bus + len, this.r_bus[r]! + this.r_size[r]!);
        if (from < to) t.ranges.push({ phys: this.r_phys[r]! + from - this.r_bus[r]!, bus: from, len: to - from });
      }
    }
    this.inflight.add(t);
    if (t.ranges.length) this.racing++;
    M.trace.emit(M.clock.now, T.xfer_begin, dev.id, bus, len, write ? 1 : 0);
    return t;
  }
  end(t: InFlight): void {
    if (!this.inflight.delete(t)) return;
    if (t.ranges.length) this.racing--;
    M.trace.emit(M.clock.now, T.xfer_end, t.dev.id, t.bus, t.len, t.write ? 1 : 0);
  }

  /** The master moved [bus, bus+len): the bytes of its transfers up to there are done. */
  note_progress(dev: device, bus: number, len: number): void {
    for (const t of this.inflight) {
      if (t.dev !== dev || bus > t.bus + t.done || bus + len <= t.bus) continue;
      t.done = Math.max(t.done, Math.min(t.len, bus + len - t.bus));
    }
  }

  /** A CPU access while transfers run: a write to bytes a transfer has yet to read, or a read
   *  of bytes it has yet to write, races it (coherent or streaming memory alike). */
  cpu_race(phys: number, len: number, write: boolean, entry: Function, v: number): void {
    for (const t of this.inflight) {
      if (t.write === write || !t.ranges.length) continue;
      for (const r of t.ranges) {
        // The bytes of this range the device has not moved yet.
        const lo = r.phys + Math.max(0, t.done - (r.bus - t.bus));
        const a = Math.max(phys, lo), b = Math.min(phys + len, r.phys + r.len);
        if (a >= b) continue;
        // An access outside the driver's code is its caller's (a test reading what a driver
        // call returned): the driver gave the buffer back while its transfer still ran.
        const site = take_site(entry);
        const own = resolve_site(site) !== null;
        const who = own ? 'CPU' : 'the caller';
        const dev = t.dev;
        M.diag.report('CPU_RACES_DEVICE', [
          `dmalab: ${who_of(dev)}: ${who} ${write ? 'wrote' : 'read'} ${len} byte${len > 1 ? 's' : ''} at ${px(v + (a - phys))} that the device has yet to ${write ? 'read' : 'write'} (${t.what}, still running) [device address=0x${x016(t.bus)}] [size=${t.len} bytes]`,
          !own
            ? 'dmalab: the driver returned while the transfer it started was still running: wait for it to finish (its interrupt or status bit) before returning'
            : write
              ? 'dmalab: fill the buffer before starting the transfer and leave it alone until the device is done: it may read the old bytes, the new ones or a mix'
              : 'dmalab: wait for the transfer to finish (its interrupt or status bit) before reading what the device writes: until then the CPU sees what was there before',
        ], { sites: own ? [[write ? 'CPU wrote at' : 'CPU read at', site], ['Transfer started at', t.started]] : [['Transfer started at', t.started]] });
        return;
      }
    }
  }

  /** A value given to dev as a bus address, beyond the `bits` it drives: what it is. */
  describe(dev: device, addr: bigint, bits: number): string {
    const hex = `0x${addr.toString(16).padStart(16, '0')}`;
    if (addr === 0xffffffffffffffffn) return `${hex} is DMA_MAPPING_ERROR: the mapping failed, and the driver used the handle without checking dma_mapping_error()`;
    const h = addr < 2n ** 53n ? this.find_containing(dev.id, Number(addr), 1) : NONE;
    if (h !== NONE) {
      const coherent = this.r_type[h] === DT.coherent;
      const mask = (coherent ? dev.coherent_dma_mask : dev.dma_mask) ?? 0n;
      const which = `${coherent ? 'coherent ' : ''}DMA mask`;
      const from = MADE_BY[this.r_type[h]!];
      return mask > (1n << BigInt(bits)) - 1n
        ? `${hex} is a DMA address from ${from} under the ${which} ${mask_name(mask)}, wider than the device drives: set it to DMA_BIT_MASK(${bits})`
        : `${hex} is a DMA address from ${from} made before the ${which} was set (it is ${mask_name(mask)} now): set the mask first in probe`;
    }
    const w = what_is(addr);
    return w ? `${w}: give the device the handle dma_map_*() or dma_alloc_coherent() returned` : `${hex} is none of the device's DMA addresses`;
  }

  /** Unmap or free of [bus, bus+size): is the device still transferring there? */
  check_inflight(dev: device, bus: number, size: number, site: Site, op: string): void {
    if (this.watch_n && watch) watch.unmap(dev, bus, size, site, op);
    for (const t of this.inflight) {
      if (t.dev !== dev || t.bus >= bus + size || t.bus + t.len <= bus) continue;
      M.diag.report('DMA_UNMAP_IN_FLIGHT', [
        `dmalab: ${who_of(dev)}: ${op} while the device is still ${t.write ? 'writing' : 'reading'} it [device address=0x${x016(bus)}] [size=${size} bytes] (${t.what})`,
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
    for (const i of [...pages.owned].sort((a, b) => a - b)) {
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

/** The call that makes each kind of mapping (debug.ts's DT order). */
const MADE_BY = ['dma_map_single()', 'dma_map_sg()', 'dma_alloc_coherent()', 'dma_map_resource()', 'dma_alloc_noncoherent()'];

/** A mask as a driver writes it: DMA_BIT_MASK(n) when it is one. */
function mask_name(m: bigint): string {
  const n = m.toString(2).length;
  return m === (1n << BigInt(n)) - 1n ? `DMA_BIT_MASK(${n})` : `0x${m.toString(16)}`;
}

// The checks every bus master's DMA passes (hw/bus.ts calls them; it never imports dma/).
set_dma_hooks({
  access(dev, addr, len, write, started, phys) {
    M.own.device_access(dev, addr, len, write, started);
    if (M.own.watch_n && watch) watch.access(dev, addr, len, write, started);
    if (M.own.inflight.size) M.own.note_progress(dev, addr, len);
    M.trace.emit(M.clock.now, write ? T.dev_write : T.dev_read, dev.id, addr, len, phys);
  },
  begin: (dev, addr, len, write, what, started) => M.own.begin(dev, addr, len, write, what, started),
  end: (t) => M.own.end(t as InFlight),
  describe: (dev, addr, bits) => M.own.describe(dev, addr, bits),
});

export { TYPE_NAME, DMA_BIDIRECTIONAL };

