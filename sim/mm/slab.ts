// kmalloc and kfree (mm/slab_common.c, mm/slub.c): objects from per-size caches carved out of
// whole pages, large requests straight from the page allocator. kfree finds the cache through
// the page the pointer lies in, as SLUB does, so invalid and double frees are caught in O(1).
import { PAGE_SIZE, PageKind, ___GFP_DMA, ___GFP_ZERO } from './page_alloc.ts';
import { M } from '../kernel/machine.ts';
import type { Site } from '../kernel/site.ts';

export const ZERO_SIZE_PTR = 16;
export const KMALLOC_MAX_CACHE_SIZE = 2048;

interface SlabCache { id: number; size: number; name: string; dma: boolean; partial: number[] }
interface SlabPage { cache: SlabCache; free: Uint8Array; nfree: number; owner: Int16Array; site: unknown[] }

export interface Allocation { addr: number; size: number; owner: number; site: unknown; kind: 'kmalloc' | 'pages' | 'vmalloc' }

export class Slab {
  readonly caches: SlabCache[] = [];
  private by_size = new Map<string, SlabCache>();
  private slabs = new Map<number, SlabPage>();
  readonly sizes: number[];

  constructor(minalign: number) {
    this.sizes = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048].filter((s) => s >= minalign && s % minalign === 0);
  }

  /** The kmalloc cache for a request, or null if it goes to the page allocator. */
  cache_for(size: number, dma: boolean): SlabCache | null {
    const s = this.sizes.find((c) => c >= size);
    if (s === undefined) return null;
    const key = `${dma ? 'dma-' : ''}${s}`;
    let c = this.by_size.get(key);
    if (!c) {
      c = { id: this.caches.length + 1, size: s, name: `kmalloc-${dma ? 'dma-' : ''}${s < 1024 ? s : s / 1024 + 'k'}`, dma, partial: [] };
      this.caches.push(c);
      this.by_size.set(key, c);
    }
    return c;
  }

  /** Allocate one object; returns its physical address or -1. */
  alloc_obj(c: SlabCache, gfp: number, owner: number, site: Site): number {
    const pages = M.pages;
    let pfn = c.partial.length ? c.partial[c.partial.length - 1]! : -1;
    if (pfn < 0) {
      pfn = pages.alloc(c.dma ? gfp | ___GFP_DMA : gfp, 0, PageKind.SLAB, 0, undefined);
      if (pfn < 0) return -1;
      pages.cache[pfn - pages.base_pfn] = c.id;
      const n = Math.floor(PAGE_SIZE / c.size);
      this.slabs.set(pfn, { cache: c, free: new Uint8Array(n).fill(1), nfree: n, owner: new Int16Array(n), site: new Array(n) });
      c.partial.push(pfn);
    }
    const sp = this.slabs.get(pfn)!;
    const i = sp.free.indexOf(1);
    sp.free[i] = 0;
    sp.owner[i] = owner;
    sp.site[i] = site;
    if (--sp.nfree === 0) c.partial.pop();
    return pfn * PAGE_SIZE + i * c.size;
  }

  /** Look up the slab object at phys: its page record and index, or why it is not one. */
  locate(phys: number): { sp: SlabPage; i: number; exact: boolean } | null {
    const pfn = Math.floor(phys / PAGE_SIZE);
    const sp = this.slabs.get(pfn);
    if (!sp) return null;
    const off = phys - pfn * PAGE_SIZE;
    const i = Math.floor(off / sp.cache.size);
    return { sp, i, exact: off === i * sp.cache.size && i < sp.free.length };
  }

  /** Free object i of a slab page (the caller checked it is allocated). */
  free_obj(phys: number, sp: SlabPage, i: number): void {
    sp.free[i] = 1;
    sp.owner[i] = 0;
    sp.site[i] = undefined;
    const pfn = Math.floor(phys / PAGE_SIZE);
    if (sp.nfree++ === 0) sp.cache.partial.push(pfn);
    if (sp.nfree === sp.free.length && sp.cache.partial.length > 1) {
      // Give the empty slab back, as SLUB does once it has enough partial slabs.
      sp.cache.partial.splice(sp.cache.partial.indexOf(pfn), 1);
      this.slabs.delete(pfn);
      M.pages.free(pfn);
    }
  }

  /** Every live object (for leak reports). */
  *live(): Generator<Allocation> {
    for (const [pfn, sp] of this.slabs) {
      for (let i = 0; i < sp.free.length; i++) {
        if (!sp.free[i]) yield { addr: pfn * PAGE_SIZE + i * sp.cache.size, size: sp.cache.size, owner: sp.owner[i]!, site: sp.site[i], kind: 'kmalloc' };
      }
    }
  }

  size_of(sp: SlabPage): number {
    return sp.cache.size;
  }
}

export { ___GFP_ZERO };
