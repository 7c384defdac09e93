// Scatterlists (include/linux/scatterlist.h, lib/scatterlist.c): a list of (page, offset,
// length) pieces of memory, plus the DMA address and length of each mapped segment once
// dma_map_sg() has run. `struct scatterlist sg[4]` is sg_array(4); entries are linked so
// sg_next() and the for_each_sg loop read as in C.
import { M } from '../kernel/machine.ts';
import { take_site, type Site } from '../kernel/site.ts';
import { kernel_bug } from '../kernel/bug.ts';
import { ENOMEM, EINVAL } from '../kernel/errno.ts';
import { PAGE_SIZE } from '../mm/page_alloc.ts';
import { kmalloc_site, kfree_site } from '../mm/slab_api.ts';
import { page_address, page_to_phys, virt_to_page } from '../mm/mm_api.ts';

export interface scatterlist {
  /** struct page * of the first page */
  page_link: number;
  offset: number;
  length: number;
  dma_address: number;
  dma_length: number;
  /** @internal the next entry (sg_next), and whether this one ends the list */
  _next: scatterlist | null;
  _last: boolean;
}

export interface sg_table {
  sgl: scatterlist[];
  /** number of mapped (DMA) entries */
  nents: number;
  /** number of entries the table was built with */
  orig_nents: number;
  /** @internal the kmalloc'ed memory behind the table */
  _mem?: number;
}

function blank(): scatterlist {
  return { page_link: 0, offset: 0, length: 0, dma_address: 0, dma_length: 0, _next: null, _last: false };
}

/** `struct scatterlist name[n]`: an array of n entries (call sg_init_table on it). */
export function sg_array(n: number): scatterlist[] {
  const a = Array.from({ length: n }, blank);
  for (let i = 0; i + 1 < n; i++) a[i]!._next = a[i + 1]!;
  if (n) a[n - 1]!._last = true;
  return a;
}

/** An sg_table to fill with sg_alloc_table() (`struct sg_table sgt;`). */
export function sg_table_init(): sg_table {
  return { sgl: [], nents: 0, orig_nents: 0 };
}

export function first(sg: scatterlist[] | scatterlist): scatterlist {
  return Array.isArray(sg) ? sg[0]! : sg;
}

export function sg_init_table(sgl: scatterlist[], nents: number): void {
  for (let i = 0; i < nents; i++) {
    const s = sgl[i]!;
    Object.assign(s, blank());
    s._next = i + 1 < sgl.length ? sgl[i + 1]! : null;
  }
  if (nents) sgl[nents - 1]!._last = true;
}

export function sg_mark_end(sg: scatterlist): void { sg._last = true; }
export function sg_unmark_end(sg: scatterlist): void { sg._last = false; }
export function sg_is_last(sg: scatterlist): boolean { return sg._last; }

export function sg_next(sg: scatterlist): scatterlist | null {
  return sg._last ? null : sg._next;
}

export function sg_set_page(sg: scatterlist, page: number, len: number, offset: number): void {
  sg.page_link = page;
  sg.length = len;
  sg.offset = offset;
}

export function sg_page(sg: scatterlist): number {
  return sg.page_link;
}

/** sg_set_buf(): the page and offset of a linear-map buffer (as with CONFIG_DEBUG_SG, a buffer
 *  outside the linear map is a BUG: its "page" would be garbage). */
export function sg_set_buf(sg: scatterlist, buf: number, buflen: number): void {
  if (!M.mmu.is_linear(buf)) {
    kernel_bug('OOPS', 'include/linux/scatterlist.h:143', [
      `dmalab: sg_set_buf() of 0x${buf.toString(16)}, which is not in the linear map (vmalloc, stack or static memory has no struct page to put in a scatterlist this way)`,
    ], take_site(sg_set_buf));
  }
  sg_set_page(sg, virt_to_page(buf), buflen, buf % PAGE_SIZE);
}

export function sg_init_one(sg: scatterlist, buf: number, buflen: number): void {
  sg_init_table([sg], 1);
  sg_set_buf(sg, buf, buflen);
}

export function sg_phys(sg: scatterlist): number {
  return page_to_phys(sg.page_link) + sg.offset;
}

export function sg_virt(sg: scatterlist): number {
  return page_address(sg.page_link) + sg.offset;
}

export function sg_dma_address(sg: scatterlist): number {
  return sg.dma_address;
}
export function sg_dma_len(sg: scatterlist): number {
  return sg.dma_length;
}

/** for_each_sg(sglist, sg, nr, i) as a callback loop. */
export function for_each_sg(sgl: scatterlist[] | scatterlist, nr: number, fn: (sg: scatterlist, i: number) => void): void {
  let sg: scatterlist | null = first(sgl);
  for (let i = 0; i < nr && sg; i++, sg = sg_next(sg)) fn(sg, i);
}

/** for_each_sgtable_sg: the CPU view (orig_nents entries). */
export function for_each_sgtable_sg(sgt: sg_table, fn: (sg: scatterlist, i: number) => void): void {
  for_each_sg(sgt.sgl, sgt.orig_nents, fn);
}

/** for_each_sgtable_dma_sg: the DMA view (nents mapped segments). */
export function for_each_sgtable_dma_sg(sgt: sg_table, fn: (sg: scatterlist, i: number) => void): void {
  for_each_sg(sgt.sgl, sgt.nents, fn);
}

export function sg_nents(sgl: scatterlist[] | scatterlist): number {
  let n = 0;
  for (let sg: scatterlist | null = first(sgl); sg; sg = sg_next(sg)) n++;
  return n;
}

const SIZEOF_SCATTERLIST = 32;

/** sg_alloc_table(): entries for nents pieces, from kmalloc (so a forgotten sg_free_table()
 *  shows up as leaked memory). */
export function sg_alloc_table(table: sg_table, nents: number, gfp: number): number {
  const site = take_site(sg_alloc_table);
  if (nents <= 0) return -EINVAL;
  if (M.faults.should_fail('sg_alloc_table', site)) return -ENOMEM;
  const mem = kmalloc_site(nents * SIZEOF_SCATTERLIST, gfp, site);
  if (!mem) return -ENOMEM;
  table.sgl = sg_array(nents);
  table.nents = table.orig_nents = nents;
  table._mem = mem;
  return 0;
}

export function sg_free_table(table: sg_table): void {
  if (table._mem) kfree_site(table._mem, take_site(sg_free_table));
  table._mem = 0;
  table.sgl = [];
  table.nents = table.orig_nents = 0;
}

/** sg_alloc_table_from_pages(): physically contiguous pages are squashed into one entry. */
export function sg_alloc_table_from_pages(sgt: sg_table, pages: number[], n_pages: number, offset: number, size: number, gfp: number): number {
  return from_pages(sgt, pages, n_pages, offset, size, Number.MAX_SAFE_INTEGER, gfp, take_site(sg_alloc_table_from_pages));
}

/** sg_alloc_table_from_pages_segment(): the same, but no entry grows past max_segment bytes
 *  (lib/scatterlist.c rounds it down to whole pages, and refuses one below a page). */
export function sg_alloc_table_from_pages_segment(sgt: sg_table, pages: number[], n_pages: number, offset: number, size: number,
  max_segment: number, gfp: number): number {
  const site = take_site(sg_alloc_table_from_pages_segment);
  const max = Math.floor(max_segment / PAGE_SIZE) * PAGE_SIZE;
  if (!max) return -EINVAL;
  return from_pages(sgt, pages, n_pages, offset, size, max, gfp, site);
}

function from_pages(sgt: sg_table, pages: number[], n_pages: number, offset: number, size: number, max: number, gfp: number, site: Site): number {
  const runs: { page: number; len: number; off: number }[] = [];
  let left = size, off = offset;
  for (let i = 0; i < n_pages && left > 0; i++) {
    const len = Math.min(left, PAGE_SIZE - off);
    const prev = runs[runs.length - 1];
    if (prev && page_to_phys(prev.page) + prev.off + prev.len === page_to_phys(pages[i]!) + off && prev.len + len <= max) prev.len += len;
    else runs.push({ page: pages[i]!, len, off });
    left -= len;
    off = 0;
  }
  if (M.faults.should_fail('sg_alloc_table', site)) return -ENOMEM;
  const mem = kmalloc_site(runs.length * SIZEOF_SCATTERLIST, gfp, site);
  if (!mem) return -ENOMEM;
  sgt.sgl = sg_array(runs.length);
  runs.forEach((r, i) => sg_set_page(sgt.sgl[i]!, r.page, r.len, r.off));
  sgt.nents = sgt.orig_nents = runs.length;
  sgt._mem = mem;
  return 0;
}
