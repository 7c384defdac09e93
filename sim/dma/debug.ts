// The DMA-API checker: kernel/dma/debug.c, check for check, message for message (Linux 6.1,
// as measured in reference/kernel-ground-truth.md), with every error reported (all_errors=1)
// and each one tied to the learner's call sites. Entries live in typed arrays keyed by
// (device, bus address) through an open-addressing table, so bookkeeping stays O(1) with a
// million live mappings.
import { M } from '../kernel/machine.ts';
import { IntMap } from '../lib/hashtab.ts';
import { Buckets, bkey, bucket_of } from '../lib/buckets.ts';
import { x016, px, pa, hashed_ptr } from '../lib/vsprintf.ts';
import type { Code } from '../kernel/codes.ts';
import type { Site } from '../kernel/site.ts';
import { dev_driver_string, dev_name, type device } from '../base/device.ts';
import { DIR_NAME, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE,
  DMA_ATTR_SKIP_CPU_SYNC } from './types.ts';
import { warn_at } from './warn-sites.ts';
import { PAGE_SIZE } from '../mm/page_alloc.ts';
import { grown } from '../lib/grown.ts';

export const enum DT { single = 0, sg = 1, coherent = 2, resource = 3, noncoherent = 4 }
/** type2name[] of Linux 6.1 (with its "scather-gather" spelling). */
export const TYPE_NAME = ['single', 'scather-gather', 'coherent', 'resource', 'noncoherent'];
const MAP_ERR_NA = 0, MAP_ERR_NOT_CHECKED = 1, MAP_ERR_CHECKED = 2;

const HASH_FN_SHIFT = 13, HASH_SIZE = 16384, NONE = -1;
/** (1 << RADIX_TREE_MAX_TAGS) - 1 */
const ACTIVE_CACHELINE_MAX_OVERLAP = 7;

/** A lookup key, as dma-debug's `struct dma_debug_entry ref`. */
export interface Ref {
  dev: device; addr: number; size: number; type: DT; dir: number; sg_call_ents: number;
  paddr: number;
}

export class DmaDebug {
  private cap = 0;
  e_dev = new Int32Array(0);
  e_addr = new Float64Array(0);
  e_size = new Float64Array(0);
  e_paddr = new Float64Array(0);
  e_seq = new Float64Array(0);
  e_type = new Uint8Array(0);
  e_dir = new Uint8Array(0);
  e_maperr = new Uint8Array(0);
  e_live = new Uint8Array(0);
  e_sgcall = new Int32Array(0);
  e_sgmapped = new Int32Array(0);
  e_site: Site[] = [];
  /** The hash: (device, 8 KiB of bus address) -> entries in the order they were added. */
  private b = new Buckets();
  private free: Int32Array = new Int32Array(0);
  private nfree = 0;
  private seq = 0;
  /** Active cache lines (debug.c's radix tree): cacheline number -> overlap count. */
  private clines = new IntMap(1024);
  private max_size = 0;
  live = 0;
  /** Turn the checker off (dma_debug=off); the sim's own rules stay on. */
  disabled = false;

  constructor() {
    this.grow(256);
  }

  private grow(n: number): void {
    const old = this.cap;
    this.e_dev = grown(this.e_dev, n); this.e_addr = grown(this.e_addr, n);
    this.e_size = grown(this.e_size, n); this.e_paddr = grown(this.e_paddr, n);
    this.e_seq = grown(this.e_seq, n);
    this.e_type = grown(this.e_type, n); this.e_dir = grown(this.e_dir, n);
    this.e_maperr = grown(this.e_maperr, n); this.e_live = grown(this.e_live, n);
    this.e_sgcall = grown(this.e_sgcall, n); this.e_sgmapped = grown(this.e_sgmapped, n);
    this.b.grow(n);
    const f = new Int32Array(n);
    f.set(this.free.subarray(0, this.nfree));
    for (let i = n - 1; i >= old; i--) f[this.nfree++] = i;
    this.free = f;
    this.cap = n;
  }

  // ---- entries -----------------------------------------------------------------------------

  private alloc(dev: device, addr: number, size: number, type: DT, dir: number, paddr: number, site: Site): number {
    if (this.nfree === 0) this.grow(this.cap * 2);
    const e = this.free[--this.nfree]!;
    this.e_dev[e] = dev.id; this.e_addr[e] = addr; this.e_size[e] = size; this.e_type[e] = type;
    this.e_dir[e] = dir; this.e_paddr[e] = paddr; this.e_sgcall[e] = 0; this.e_sgmapped[e] = 0;
    this.e_maperr[e] = MAP_ERR_NA; this.e_site[e] = site;
    this.e_seq[e] = this.seq++;
    return e;
  }

  /** hash_bucket_add: append to the tail of the bucket's list (circular, head.prev = tail). */
  private link(e: number): void {
    this.b.link(e, bkey(this.e_dev[e]!, bucket_of(this.e_addr[e]!)));
    this.e_live[e] = 1;
    this.live++;
    if (this.e_size[e]! > this.max_size) this.max_size = this.e_size[e]!;
  }

  private unlink(e: number): void {
    this.b.unlink(e);
    this.e_live[e] = 0;
    this.live--;
    this.e_site[e] = 0;
    this.free[this.nfree++] = e;
  }

  /** __hash_bucket_find with the best-fit scoring of debug.c. */
  private bucket_find(key: number, ref: Ref, contain: boolean): number {
    const head = this.b.first(key);
    if (head === NONE) return NONE;
    let ret = NONE, last = 0, matches = 0;
    const dev = ref.dev.id;
    let e = head;
    do {
      const match = this.e_dev[e] === dev && (contain
        ? this.e_addr[e]! <= ref.addr && this.e_addr[e]! + this.e_size[e]! >= ref.addr + ref.size
        : this.e_addr[e] === ref.addr);
      if (match) {
        matches++;
        let lvl = 0;
        if (this.e_size[e] === ref.size) lvl++;
        if (this.e_type[e] === ref.type) lvl++;
        if (this.e_dir[e] === ref.dir) lvl++;
        if (this.e_sgcall[e] === ref.sg_call_ents) lvl++;
        if (lvl === 4) return e;
        if (lvl > last) { last = lvl; ret = e; }
      }
      e = this.b.next[e]!;
    } while (e !== head);
    return matches === 1 ? ret : NONE;
  }

  private find_exact(ref: Ref): number {
    return this.bucket_find(bkey(ref.dev.id, bucket_of(ref.addr)), ref, false);
  }

  /** bucket_find_contain: walk back one 8 KiB bucket at a time. */
  private find_contain(ref: Ref): number {
    const b = bucket_of(ref.addr);
    const kernel_limit = Math.min(HASH_SIZE, Math.floor(Math.max(ref.addr, 0) / 2 ** HASH_FN_SHIFT) + 1);
    const limit = Math.min(kernel_limit, Math.ceil(this.max_size / 8192) + 2);
    for (let i = 0; i < limit; i++) {
      const e = this.bucket_find(bkey(ref.dev.id, b - i), ref, true);
      if (e !== NONE) return e;
    }
    return NONE;
  }

  // ---- reporting ---------------------------------------------------------------------------

  /** Inside the per-segment loop of an sg call: each segment's error is printed on its own, as
   *  the kernel does, even when they share both call sites. */
  private sg_loop = false;

  /** err_printk(dev, entry, ...): one DMA-API error, with "Mapped at" when there is an entry. */
  err(code: Code, check: string, dev: device, entry: number, text: string, site: Site, label = 'Called at'): void {
    const lines = text.split('\n').map((l, i) => (i === 0 ? `DMA-API: ${dev_driver_string(dev)} ${dev_name(dev)}: ${l}` : l));
    const sites: [string, Site][] = [[label, site]];
    if (entry !== NONE) sites.push(['Mapped at', this.e_site[entry]!]);
    M.diag.report(code, lines, { sites, warn: warn_at(check), mapped_at: entry !== NONE ? this.e_site[entry]! : undefined, distinct: this.sg_loop });
  }

  // ---- map side ----------------------------------------------------------------------------

  /** debug_dma_map_single(): runs before the mapping is made. */
  map_single(dev: device, vaddr: number, len: number, site: Site): void {
    if (this.disabled) return;
    const mmu = M.mmu;
    const valid = mmu.is_linear(vaddr) || (mmu.is_kimage(vaddr) && M.shape.arch === 'x86_64');
    if (!valid) this.err('DMA_MAP_INVALID_AREA', 'C-M1', dev, NONE, `device driver maps memory from invalid area [addr=${hashed_ptr(px(vaddr))}] [len=${len}]`, site, 'Mapped at');
    if (mmu.is_vmalloc(vaddr)) this.err('DMA_MAP_VMALLOC', 'C-M2', dev, NONE, `device driver maps memory from vmalloc area [addr=${hashed_ptr(px(vaddr))}] [len=${len}]`, site, 'Mapped at');
  }

  /** check_for_stack(): is this page one of the current task's (vmalloc'ed) stack pages? */
  private check_for_stack(dev: device, phys: number, site: Site): void {
    const st = M.stacks.current();
    if (!st) return;
    const pfn = Math.floor(phys / PAGE_SIZE);
    const i = st.pages.findIndex((p) => p / PAGE_SIZE === pfn);
    if (i >= 0) {
      const addr = st.addr + i * PAGE_SIZE + (phys % PAGE_SIZE);
      this.err('DMA_MAP_STACK', 'C-M4', dev, NONE, `device driver maps memory from stack [probable addr=${hashed_ptr(px(addr))}]`, site, 'Mapped at');
    }
  }

  /** debug_dma_map_page() / debug_dma_map_resource(): track a new single mapping. */
  map_page(dev: device, phys: number, size: number, dir: number, addr: number, attrs: number, site: Site, resource = false): number {
    if (this.disabled) return NONE;
    if (!resource && addr === DMA_MAPPING_ERROR) return NONE;
    const e = this.alloc(dev, addr, size, resource ? DT.resource : DT.single, dir, phys, site);
    this.e_maperr[e] = MAP_ERR_NOT_CHECKED;
    if (!resource) this.check_for_stack(dev, phys, site);
    this.add(e, attrs, site);
    return e;
  }

  /** add_dma_entry(): hash it, then track its first cache line (EEXIST on overlap). The
   *  overlap count is debug.c's 3-bit radix-tree tag: it saturates at 7, and the mapping that
   *  would make it 8 gives a WARN_ONCE of its own (not counted), before that mapping's EEXIST. */
  private add(e: number, attrs: number, site: Site): void {
    this.link(e);
    if (this.e_dir[e] === DMA_TO_DEVICE) return;
    const cln = Math.floor(this.e_paddr[e]! / 64);
    const n = this.clines.inc(cln);
    if (n >= ACTIVE_CACHELINE_MAX_OVERLAP) {
      this.clines.dec(cln);
      M.diag.report('DMA_CACHELINE_OVERLAP_EXCEEDED', [`DMA-API: exceeded ${ACTIVE_CACHELINE_MAX_OVERLAP} overlapping mappings of cacheline ${pa(cln)}`],
        { warn: warn_at('C-M8-EXCEEDED'), once: 'dma-debug:cacheline-overflow', sites: [['Mapped at', site]] });
    }
    if (n >= 0 && !(attrs & DMA_ATTR_SKIP_CPU_SYNC)) {
      const dev = M.devices[this.e_dev[e]!]!;
      this.err('DMA_CACHELINE_OVERLAP', 'C-M8', dev, e, 'cacheline tracking EEXIST, overlapping mappings aren\'t supported', site, 'Mapped at');
    }
  }

  private drop_cline(e: number): void {
    if (this.e_dir[e] === DMA_TO_DEVICE) return;
    this.clines.dec(Math.floor(this.e_paddr[e]! / 64));
  }

  /** debug_dma_mapping_error(): mark the first unchecked exact match as checked. */
  mapping_error(dev: device, addr: number): void {
    if (this.disabled) return;
    const head = this.b.first(bkey(dev.id, bucket_of(addr)));
    if (head === NONE) return;
    let e = head;
    do {
      if (this.e_dev[e] === dev.id && this.e_addr[e] === addr && this.e_maperr[e] === MAP_ERR_NOT_CHECKED) {
        this.e_maperr[e] = MAP_ERR_CHECKED;
        return;
      }
      e = this.b.next[e]!;
    } while (e !== head);
  }

  // ---- unmap / free ------------------------------------------------------------------------

  /** check_unmap(): every check of debug.c in its order, then the entry goes. Returns the
   *  entry that was removed or -1. */
  check_unmap(ref: Ref, site: Site): number {
    if (this.disabled) return NONE;
    const e = this.find_exact(ref);
    const dev = ref.dev;
    const L = 'Unmapped at';
    if (e === NONE) {
      if (ref.addr === DMA_MAPPING_ERROR) {
        this.err('DMA_UNMAP_INVALID', 'C-U1', dev, NONE, 'device driver tries to free an invalid DMA memory address', site, L);
      } else {
        this.err('DMA_UNMAP_NOT_MAPPED', 'C-U2', dev, NONE,
          `device driver tries to free DMA memory it has not allocated [device address=0x${x016(ref.addr)}] [size=${ref.size} bytes]`, site, L);
      }
      return NONE;
    }
    if (ref.size !== this.e_size[e]) {
      this.err('DMA_UNMAP_WRONG_SIZE', 'C-U3', dev, e,
        `device driver frees DMA memory with different size [device address=0x${x016(ref.addr)}] [map size=${this.e_size[e]} bytes] [unmap size=${ref.size} bytes]`, site, L);
    }
    if (ref.type !== this.e_type[e]) {
      this.err('DMA_UNMAP_WRONG_FUNCTION', 'C-U4', dev, e,
        `device driver frees DMA memory with wrong function [device address=0x${x016(ref.addr)}] [size=${ref.size} bytes] [mapped as ${TYPE_NAME[this.e_type[e]!]}] [unmapped as ${TYPE_NAME[ref.type]}]`, site, L);
    } else if (this.e_type[e] === DT.coherent && ref.paddr !== this.e_paddr[e]) {
      this.err('DMA_FREE_WRONG_CPU_ADDR', 'C-U5', dev, e,
        `device driver frees DMA memory with different CPU address [device address=0x${x016(ref.addr)}] [size=${ref.size} bytes] [cpu alloc address=0x${x016(this.e_paddr[e]!)}] [cpu free address=0x${x016(ref.paddr)}]`, site, L);
    }
    if (ref.sg_call_ents && ref.type === DT.sg && ref.sg_call_ents !== this.e_sgcall[e]) {
      this.err('DMA_UNMAP_SG_WRONG_COUNT', 'C-U6', dev, e,
        `device driver frees DMA sg list with different entry count [map count=${this.e_sgcall[e]}] [unmap count=${ref.sg_call_ents}]`, site, L);
    }
    if (ref.dir !== this.e_dir[e]) {
      this.err('DMA_UNMAP_WRONG_DIRECTION', 'C-U7', dev, e,
        `device driver frees DMA memory with different direction [device address=0x${x016(ref.addr)}] [size=${ref.size} bytes] [mapped with ${DIR_NAME[this.e_dir[e]!]}] [unmapped with ${DIR_NAME[ref.dir]}]`, site, L);
    }
    if (this.e_maperr[e] === MAP_ERR_NOT_CHECKED) {
      this.err('DMA_MAP_ERROR_NOT_CHECKED', 'C-U8', dev, e,
        `device driver failed to check map error[device address=0x${x016(ref.addr)}] [size=${ref.size} bytes] [mapped as ${TYPE_NAME[this.e_type[e]!]}]`, site, L);
    }
    this.remove(e);
    return e;
  }

  /** hash_bucket_del + dma_entry_free. */
  private remove(e: number): void {
    this.drop_cline(e);
    this.unlink(e);
  }

  /** One lookup key reused by the hot single-mapping paths (no allocation per call). */
  private scratch: Ref = { dev: null as unknown as device, addr: 0, size: 0, type: DT.single, dir: 0, sg_call_ents: 0, paddr: 0 };

  private ref(dev: device, addr: number, size: number, type: DT, dir: number): Ref {
    const r = this.scratch;
    r.dev = dev; r.addr = addr; r.size = size; r.type = type; r.dir = dir; r.sg_call_ents = 0; r.paddr = 0;
    return r;
  }

  /** debug_dma_unmap_page(). */
  unmap_page(dev: device, addr: number, size: number, dir: number, site: Site, resource = false): number {
    return this.check_unmap(this.ref(dev, addr, size, resource ? DT.resource : DT.single, dir), site);
  }

  // ---- sync --------------------------------------------------------------------------------

  /** check_sync(): returns the entry found (or -1). */
  check_sync(ref: Ref, to_cpu: boolean, site: Site): number {
    if (this.disabled) return NONE;
    const dev = ref.dev;
    const e = this.find_contain(ref);
    const L = 'Synced at';
    if (e === NONE) {
      this.err('DMA_SYNC_NOT_MAPPED', 'C-S1', dev, NONE,
        `device driver tries to sync DMA memory it has not allocated [device address=0x${x016(ref.addr)}] [size=${ref.size} bytes]`, site, L);
      return NONE;
    }
    if (ref.size > this.e_size[e]!) {
      this.err('DMA_SYNC_OUT_OF_RANGE', 'C-S2', dev, e,
        `device driver syncs DMA memory outside allocated range [device address=0x${x016(this.e_addr[e]!)}] [allocation size=${this.e_size[e]} bytes] [sync offset+size=${ref.size}]`, site, L);
    }
    const edir = this.e_dir[e]!;
    if (edir === DMA_BIDIRECTIONAL) return e;
    const names = `[mapped with ${DIR_NAME[edir]}] [synced with ${DIR_NAME[ref.dir]}]`;
    if (ref.dir !== edir) {
      this.err('DMA_SYNC_WRONG_DIRECTION', 'C-S3', dev, e,
        `device driver syncs DMA memory with different direction [device address=0x${x016(ref.addr)}] [size=${this.e_size[e]} bytes] ${names}`, site, L);
    }
    if (to_cpu && edir !== DMA_FROM_DEVICE && ref.dir !== DMA_TO_DEVICE) {
      this.err('DMA_SYNC_READONLY_FOR_CPU', 'C-S4', dev, e,
        `device driver syncs device read-only DMA memory for cpu [device address=0x${x016(ref.addr)}] [size=${this.e_size[e]} bytes] ${names}`, site, L);
    }
    if (!to_cpu && edir !== DMA_TO_DEVICE && ref.dir !== DMA_FROM_DEVICE) {
      this.err('DMA_SYNC_WRITEONLY_TO_DEVICE', 'C-S5', dev, e,
        `device driver syncs device write-only DMA memory to device [device address=0x${x016(ref.addr)}] [size=${this.e_size[e]} bytes] ${names}`, site, L);
    }
    if (ref.sg_call_ents && ref.type === DT.sg && ref.sg_call_ents !== this.e_sgcall[e]) {
      this.err('DMA_SYNC_SG_WRONG_COUNT', 'C-S6', dev, e,
        `device driver syncs DMA sg list with different entry count [map count=${this.e_sgcall[e]}] [sync count=${ref.sg_call_ents}]`, site, L);
    }
    return e;
  }

  sync_single(dev: device, addr: number, size: number, dir: number, to_cpu: boolean, site: Site): number {
    return this.check_sync(this.ref(dev, addr, size, DT.single, dir), to_cpu, site);
  }

  // ---- scatter-gather ----------------------------------------------------------------------

  /** debug_dma_map_sg(): stack checks over all nents, then one entry per mapped segment. */
  map_sg(dev: device, segs: { phys: number; length: number; dma: number; dma_len: number }[],
    nents: number, mapped: number, dir: number, attrs: number, site: Site): number[] {
    if (this.disabled) return [];
    const out: number[] = [];
    this.sg_loop = true;
    try {
      for (let i = 0; i < nents; i++) this.check_for_stack(dev, segs[i]!.phys, site);
      for (let i = 0; i < mapped; i++) {
        const s = segs[i]!;
        const e = this.alloc(dev, s.dma, s.dma_len, DT.sg, dir, s.phys, site);
        this.e_sgcall[e] = nents;
        this.e_sgmapped[e] = mapped;
        this.check_sg_segment(dev, s, site);
        this.add(e, attrs, site);
        out.push(e);
      }
    } finally {
      this.sg_loop = false;
    }
    return out;
  }

  /** check_sg_segment() (CONFIG_DMA_API_DEBUG_SG, on in the rig's kernel). */
  private check_sg_segment(dev: device, s: { length: number; dma: number; dma_len: number }, site: Site): void {
    const max = dev.dma_parms ? dev.dma_parms.max_segment_size : 65536;
    const boundary = dev.dma_parms ? dev.dma_parms.segment_boundary_mask : Number.MAX_SAFE_INTEGER;
    if (s.length > max) {
      this.err('DMA_SG_SEGMENT_TOO_LONG', 'C-M6', dev, NONE, `mapping sg segment longer than device claims to support [len=${s.length}] [max=${max}]`, site, 'Mapped at');
    }
    const start = s.dma, end = start + s.dma_len - 1;
    if (boundary < Number.MAX_SAFE_INTEGER && Math.floor(start / (boundary + 1)) !== Math.floor(end / (boundary + 1))) {
      this.err('DMA_SG_SEGMENT_BOUNDARY', 'C-M7', dev, NONE,
        `mapping sg segment across boundary [start=0x${x016(start)}] [end=0x${x016(end)}] [boundary=0x${x016(boundary)}]`, site, 'Mapped at');
    }
  }

  /** get_nr_mapped_entries(): sg_mapped_ents of the entry the first segment finds. */
  private nr_mapped(ref: Ref): number {
    const e = this.find_exact(ref);
    return e === NONE ? 0 : this.e_sgmapped[e]!;
  }

  /** debug_dma_unmap_sg(): check_unmap per segment, up to the mapped count the first finds.
   *  Returns the entries removed. */
  unmap_sg(dev: device, segs: { phys: number; dma: number; dma_len: number }[], nelems: number, dir: number, site: Site): number[] {
    if (this.disabled) return [];
    let mapped = 0;
    const gone: number[] = [];
    this.sg_loop = true;
    try {
      for (let i = 0; i < nelems; i++) {
        const s = segs[i];
        if (!s) break;
        const ref: Ref = { dev, addr: s.dma, size: s.dma_len, type: DT.sg, dir, sg_call_ents: nelems, paddr: s.phys };
        if (mapped && i >= mapped) break;
        if (i === 0) mapped = this.nr_mapped(ref);
        const e = this.check_unmap(ref, site);
        if (e !== NONE) gone.push(e);
      }
    } finally {
      this.sg_loop = false;
    }
    return gone;
  }

  /** debug_dma_sync_sg_for_{cpu,device}(): returns the entries checked. */
  sync_sg(dev: device, segs: { phys: number; dma: number; dma_len: number }[], nelems: number, dir: number, to_cpu: boolean, site: Site): number[] {
    if (this.disabled) return [];
    let mapped = 0;
    const out: number[] = [];
    this.sg_loop = true;
    try {
      for (let i = 0; i < nelems; i++) {
        const s = segs[i];
        if (!s) break;
        const ref: Ref = { dev, addr: s.dma, size: s.dma_len, type: DT.sg, dir, sg_call_ents: nelems, paddr: s.phys };
        // 6.1 asks segment 0's entry for the mapped count; a list it does not know stops here,
        // before any check (so a sync of a never-mapped list is silent).
        if (i === 0) mapped = this.nr_mapped(ref);
        if (i >= mapped) break;
        const e = this.check_sync(ref, to_cpu, site);
        if (e !== NONE) out.push(e);
      }
    } finally {
      this.sg_loop = false;
    }
    return out;
  }

  // ---- coherent ----------------------------------------------------------------------------

  /** debug_dma_alloc_coherent() (and dma_alloc_pages' noncoherent entries). */
  alloc_coherent(dev: device, size: number, addr: number, phys: number, attrs: number, site: Site, noncoherent_dir = -1): number {
    if (this.disabled) return NONE;
    const nc = noncoherent_dir >= 0;
    const e = this.alloc(dev, addr, size, nc ? DT.noncoherent : DT.coherent, nc ? noncoherent_dir : DMA_BIDIRECTIONAL, phys, site);
    this.add(e, attrs, site);
    return e;
  }

  /** debug_dma_free_coherent(). Returns the entry removed or -1. */
  free_coherent(dev: device, size: number, phys: number, addr: number, site: Site, noncoherent_dir = -1): number {
    const nc = noncoherent_dir >= 0;
    return this.check_unmap({ dev, addr, size, type: nc ? DT.noncoherent : DT.coherent, dir: nc ? noncoherent_dir : DMA_BIDIRECTIONAL, sg_call_ents: 0, paddr: phys }, site);
  }

  // ---- unbind ------------------------------------------------------------------------------

  /** The live entries of a device, in the order debug.c's bucket walk finds them. */
  entries_of(dev: device): number[] {
    const out: number[] = [];
    for (let e = 0; e < this.cap; e++) if (this.e_live[e] && this.e_dev[e] === dev.id) out.push(e);
    const kb = (e: number) => bucket_of(this.e_addr[e]!) & (HASH_SIZE - 1);
    return out.sort((a, b) => kb(a) - kb(b) || this.e_seq[a]! - this.e_seq[b]!);
  }

  /** BUS_NOTIFY_UNBOUND_DRIVER: "pending DMA allocations". */
  device_unbound(dev: device): void {
    if (this.disabled) return;
    const list = this.entries_of(dev);
    if (!list.length) return;
    const e = list[list.length - 1]!;
    const text = `device driver has pending DMA allocations while released from device [count=${list.length}]\n` +
      `One of leaked entries details: [device address=0x${x016(this.e_addr[e]!)}] [size=${this.e_size[e]} bytes] [mapped with ${DIR_NAME[this.e_dir[e]!]}] [mapped as ${TYPE_NAME[this.e_type[e]!]}]`;
    const lines = text.split('\n').map((l, i) => (i === 0 ? `DMA-API: ${dev_driver_string(dev)} ${dev_name(dev)}: ${l}` : l));
    const sites: [string, Site][] = list.map((x) => [`Leaked (${TYPE_NAME[this.e_type[x]!]}, ${this.e_size[x]} bytes) mapped at`, this.e_site[x]!]);
    M.diag.report('DMA_LEAK_AT_UNBIND', lines, { sites, warn: warn_at('C-L1'), mapped_at: this.e_site[e]!, kernel_path: true });
  }

  /** dmalab: a failed probe must undo its mappings; the kernel only checks at unbind. */
  leaks_after_failed_probe(dev: device, drv: string): void {
    const list = this.entries_of(dev);
    if (!list.length) return;
    const lines = [`dmalab: ${drv} ${dev_name(dev)}: probe failed but left ${list.length} DMA mapping${list.length > 1 ? 's' : ''}/allocation${list.length > 1 ? 's' : ''} behind (dma-debug only looks at unbind, which never comes):`];
    for (const e of list) {
      lines.push(`dmalab:   [device address=0x${x016(this.e_addr[e]!)}] [size=${this.e_size[e]} bytes] [mapped with ${DIR_NAME[this.e_dir[e]!]}] [mapped as ${TYPE_NAME[this.e_type[e]!]}]`);
    }
    M.diag.report('DMA_LEAK_AT_PROBE_FAILURE', lines, { sites: list.map((e) => ['Mapped at', this.e_site[e]!] as [string, Site]) });
  }
}
