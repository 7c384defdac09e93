// The IOVA allocator (drivers/iommu/iova.c): top-down below the device's limit, sizes rounded
// to a power of two and aligned to it, freed ranges parked in a flush queue (lazy IOTLB
// invalidation, as the default "Translated" domains are) and then cached per size for reuse.
// That is why, on a real machine, edu's first mappings come out at 0xffff000, 0xfffe000, ...

const FQ_TIMEOUT_NS = 10e6, FQ_SIZE = 256, RCACHE_MAX_PAGES = 32;

interface Range { pfn: number; npages: number }

export class IovaDomain {
  /** Allocated ranges, kept sorted by pfn, highest first. */
  private used: Range[] = [];
  private fq: { r: Range; t: number }[] = [];
  private rcache = new Map<number, number[]>();

  constructor(readonly granule = 4096) {}

  /** alloc_iova_fast(): a range of `npages` below `limit_pfn` (exclusive bound is limit+1). */
  alloc(npages: number, limit_pfn: number, now: number): number {
    this.flush(now, false);
    const cached = this.rcache.get(npages);
    if (npages <= RCACHE_MAX_PAGES && cached) {
      for (let i = cached.length - 1; i >= 0; i--) {
        if (cached[i]! + npages - 1 <= limit_pfn) return cached.splice(i, 1)[0]!;
      }
    }
    let pfn = this.alloc_tree(npages, limit_pfn);
    if (pfn < 0 && (this.fq.length || this.rcache.size)) {
      // Out of space: flush everything and give the cached ranges back to the tree.
      this.flush(now, true);
      for (const [n, l] of this.rcache) for (const p of l) this.remove(p, n);
      this.rcache.clear();
      pfn = this.alloc_tree(npages, limit_pfn);
    }
    return pfn;
  }

  private alloc_tree(npages: number, limit_pfn: number): number {
    const align = 2 ** Math.ceil(Math.log2(npages));
    let top = limit_pfn + 1;
    for (const r of this.used) {
      if (r.pfn >= top) continue;
      const cand = Math.floor((top - npages) / align) * align;
      if (cand >= r.pfn + r.npages) {
        this.insert({ pfn: cand, npages });
        return cand;
      }
      top = r.pfn;
    }
    const cand = Math.floor((top - npages) / align) * align;
    if (cand >= 1) {
      this.insert({ pfn: cand, npages });
      return cand;
    }
    return -1;
  }

  private insert(r: Range): void {
    let i = 0;
    while (i < this.used.length && this.used[i]!.pfn > r.pfn) i++;
    this.used.splice(i, 0, r);
  }

  /** Pages allocated and not yet given back (those parked for reuse count as free). */
  pages_in_use(): number {
    let n = 0;
    for (const r of this.used) n += r.npages;
    for (const [npages, l] of this.rcache) n -= npages * l.length;
    return n;
  }

  /** The allocated range starting at pfn, if any. */
  find(pfn: number): Range | undefined {
    return this.used.find((r) => r.pfn === pfn);
  }

  private remove(pfn: number, npages: number): void {
    const i = this.used.findIndex((r) => r.pfn === pfn && r.npages === npages);
    if (i >= 0) this.used.splice(i, 1);
  }

  /** free_iova_fast() through the flush queue: the range stays allocated in the tree until its
   *  IOTLB flush is done, then waits in the per-size cache (still allocated) for reuse. */
  free(pfn: number, now: number): void {
    const r = this.used.find((x) => x.pfn === pfn);
    if (!r) return;
    this.fq.push({ r, t: now });
    if (this.fq.length >= FQ_SIZE) this.flush(now, true);
  }

  private flush(now: number, all: boolean): void {
    while (this.fq.length && (all || now - this.fq[0]!.t >= FQ_TIMEOUT_NS)) {
      const { r } = this.fq.shift()!;
      if (r.npages <= RCACHE_MAX_PAGES) {
        const l = this.rcache.get(r.npages) ?? [];
        l.push(r.pfn);
        this.rcache.set(r.npages, l);
      } else this.remove(r.pfn, r.npages);
    }
  }
}
