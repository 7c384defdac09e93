// The physical page allocator (mm/page_alloc.c) and the struct page array. Pages are handed
// out next-fit from a seeded starting point, so buffers land at realistic, reproducible, not
// always identical addresses; zones limit where GFP_DMA / GFP_DMA32 pages may come from.
import type { Shape } from '../kernel/shapes.ts';
import type { Rng } from '../kernel/random.ts';
import { take_buffer } from '../lib/recycle.ts';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const PAGE_MASK = ~(PAGE_SIZE - 1);
export const STRUCT_PAGE_SIZE = 64;
export const MAX_ORDER = 11;

// include/linux/gfp_types.h (6.1)
export const ___GFP_DMA = 0x01, ___GFP_HIGHMEM = 0x02, ___GFP_DMA32 = 0x04, ___GFP_HIGH = 0x20,
  ___GFP_IO = 0x40, ___GFP_FS = 0x80, ___GFP_ZERO = 0x100, ___GFP_ATOMIC = 0x200,
  ___GFP_DIRECT_RECLAIM = 0x400, ___GFP_KSWAPD_RECLAIM = 0x800, ___GFP_NOWARN = 0x2000,
  ___GFP_RETRY_MAYFAIL = 0x4000, ___GFP_NOFAIL = 0x8000, ___GFP_NORETRY = 0x10000,
  ___GFP_COMP = 0x40000;

/** What a page is used for. */
export const enum PageKind { FREE = 0, RESERVED, BUDDY, TAIL, SLAB, KMALLOC_LARGE, VMALLOC, KIMAGE }

/** Where allocations are placed: 'low' is a freshly booted machine (buffers around 40 MiB),
 *  'high' is a machine under memory pressure (buffers above 256 MiB and any DMA zone). */
export type Placement = 'low' | 'high';

export class PageAllocator {
  readonly base_pfn: number;
  readonly npages: number;
  /** PageKind per page. */
  readonly kind: Uint8Array;
  /** Allocation order, on head pages. */
  readonly order: Uint8Array;
  /** Slab cache index, on slab pages. */
  readonly cache: Int16Array;
  /** DMA ownership index (sim/dma/ownership.ts): 0 none, n > 0 one mapping, -1 several. */
  readonly dma: Int32Array;
  /** Which driver allocated the page (for leak reports), 0 = none. */
  readonly owner: Int16Array;
  /** Allocation call site of head pages. */
  readonly site: unknown[];
  /** Head pages with an owner: what a leak check walks instead of every page of RAM. */
  readonly owned = new Set<number>();
  /** The buffers it took (sim/lib/recycle.ts). */
  readonly buffers: ArrayBuffer[] = [];
  private cursor: number[] = [];
  readonly zone_dma_end_pfn: number;
  readonly zone_dma32_end_pfn: number;
  free_pages: number;

  constructor(readonly shape: Shape, private rng: Rng, placement: Placement) {
    this.base_pfn = shape.ram_base / PAGE_SIZE;
    this.npages = shape.ram_size / PAGE_SIZE;
    // One allocation for the five arrays (a machine per test: each fresh buffer costs).
    const n = this.npages, mem = take_buffer(this.buffers, n * 10);
    this.dma = new Int32Array(mem, 0, n);
    this.cache = new Int16Array(mem, 4 * n, n);
    this.owner = new Int16Array(mem, 6 * n, n);
    this.kind = new Uint8Array(mem, 8 * n, n);
    this.order = new Uint8Array(mem, 9 * n, n);
    this.site = [];
    this.free_pages = this.npages;
    this.zone_dma_end_pfn = Math.min(shape.zone_dma_end / PAGE_SIZE, this.end_pfn());
    this.zone_dma32_end_pfn = shape.zone_dma32_end ? Math.min(shape.zone_dma32_end / PAGE_SIZE, this.end_pfn()) : this.zone_dma_end_pfn;
    // One cursor per zone limit: DMA, DMA32, NORMAL.
    const MiB = 256;
    const low = this.base_pfn + 32 * MiB + rng.below(64 * MiB);
    const start = placement === 'high' ? this.base_pfn + Math.min(this.npages - 64 * MiB, 256 * MiB + rng.below(64 * MiB)) : low;
    this.cursor = [this.base_pfn + 2 * MiB + rng.below(4 * MiB), start, start];
    // The first 1 MiB of a PC and the kernel image are never handed out.
    this.reserve(shape.ram_base, shape.arch === 'x86_64' ? 1 << 20 : 0);
  }

  end_pfn(): number {
    return this.base_pfn + this.npages;
  }

  /** pfn_valid() && !PageReserved(): ordinary RAM, as newer dma-debug asks of dma_map_resource(). */
  is_ram(phys: number): boolean {
    const i = Math.floor(phys / PAGE_SIZE) - this.base_pfn;
    return i >= 0 && i < this.npages && this.kind[i] !== PageKind.RESERVED && this.kind[i] !== PageKind.KIMAGE;
  }

  /** Mark a physical range as reserved (firmware, kernel image, swiotlb pool). */
  reserve(phys: number, len: number, kind = PageKind.RESERVED): void {
    const first = Math.floor(phys / PAGE_SIZE) - this.base_pfn;
    const last = Math.ceil((phys + len) / PAGE_SIZE) - this.base_pfn;
    for (let i = Math.max(0, first); i < Math.min(this.npages, last); i++) {
      if (this.kind[i] === PageKind.FREE) this.free_pages--;
      this.kind[i] = kind;
    }
  }

  /** Is pfn RAM this allocator manages? */
  valid(pfn: number): boolean {
    return pfn >= this.base_pfn && pfn < this.base_pfn + this.npages;
  }

  /** Allocate 2^order contiguous pages under the zone limit gfp asks for; returns the pfn of
   *  the first page or -1. */
  alloc(gfp: number, order: number, kind: PageKind, owner: number, site: unknown, scatter = false): number {
    const n = 1 << order;
    const z = gfp & ___GFP_DMA ? 0 : gfp & ___GFP_DMA32 ? 1 : 2;
    const limit = (z === 0 ? this.zone_dma_end_pfn : z === 1 ? this.zone_dma32_end_pfn : this.end_pfn()) - this.base_pfn;
    // vmalloc and stacks take single pages from all over memory: physically scattered.
    let i = scatter ? this.rng.below(limit) : this.cursor[z]! - this.base_pfn;
    if (i >= limit || i < 0) i = 0;
    i = (i + n - 1) & ~(n - 1);
    const start = i;
    let wrapped = false;
    for (;;) {
      if (i + n > limit) {
        if (wrapped) return -1;
        wrapped = true;
        i = 0;
      }
      if (wrapped && i >= start) return -1;
      let ok = true;
      for (let j = 0; j < n; j++) {
        if (this.kind[i + j] !== PageKind.FREE) { ok = false; i = (i + j + n) & ~(n - 1); break; }
      }
      if (ok) break;
    }
    this.kind[i] = kind;
    this.order[i] = order;
    this.owner[i] = owner;
    if (owner) this.owned.add(i);
    this.site[i] = site;
    for (let j = 1; j < n; j++) this.kind[i + j] = PageKind.TAIL;
    this.free_pages -= n;
    if (!scatter) this.cursor[z] = this.base_pfn + i + n;
    return this.base_pfn + i;
  }

  /** Free the allocation whose head page is pfn; returns its order, or -1 if pfn is not the
   *  head of an allocation. */
  free(pfn: number): number {
    const i = pfn - this.base_pfn;
    if (i < 0 || i >= this.npages) return -1;
    const k = this.kind[i]!;
    if (k === PageKind.FREE || k === PageKind.TAIL || k === PageKind.RESERVED || k === PageKind.KIMAGE) return -1;
    const order = this.order[i]!;
    const n = 1 << order;
    for (let j = 0; j < n; j++) this.kind[i + j] = PageKind.FREE;
    this.order[i] = 0;
    this.owner[i] = 0;
    this.owned.delete(i);
    this.site[i] = undefined;
    this.free_pages += n;
    return order;
  }

  /** The head pfn of the allocation containing pfn (follows tail pages back). */
  head(pfn: number): number {
    let i = pfn - this.base_pfn;
    while (i > 0 && this.kind[i] === PageKind.TAIL) i--;
    return this.base_pfn + i;
  }

  kind_of(pfn: number): PageKind {
    return this.valid(pfn) ? (this.kind[pfn - this.base_pfn]! as PageKind) : PageKind.RESERVED;
  }
}
