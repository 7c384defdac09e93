// Address conversions and the page allocator's API (include/linux/mm.h, asm/page.h, gfp.h,
// vmalloc.h): what drivers call to turn one kind of address into another.
import { M } from '../kernel/machine.ts';
import { take_site, resolve_site, type Site } from '../kernel/site.ts';
import { hashed_ptr, px } from '../lib/vsprintf.ts';
import { warn_block } from '../kernel/diag.ts';
import { PAGE_SIZE, PageKind, ___GFP_ZERO, ___GFP_DIRECT_RECLAIM, MAX_ORDER } from './page_alloc.ts';
import { kernel_zero_phys } from './access.ts';

export { PAGE_SIZE };
export const PAGE_SHIFT = 12;
export const PAGE_MASK = -PAGE_SIZE;

export function PAGE_ALIGN(x: number): number {
  return Math.ceil(x / PAGE_SIZE) * PAGE_SIZE;
}
export function offset_in_page(p: number): number {
  return ((p % PAGE_SIZE) + PAGE_SIZE) % PAGE_SIZE;
}
/** get_order(): the smallest order whose block holds size bytes. */
export function get_order(size: number): number {
  let o = 0;
  while (PAGE_SIZE << o < size) o++;
  return o;
}

export function virt_addr_valid(v: number): boolean {
  return M.mmu.is_linear(v) || (M.shape.arch === 'x86_64' && M.mmu.is_kimage(v));
}
export function is_vmalloc_addr(v: number): boolean {
  return M.mmu.is_vmalloc(v);
}

/** __pa(): linear map (and, on x86, the kernel image). Anything else is a bug: the result is
 *  garbage, and CONFIG_DEBUG_VIRTUAL says so. */
export function pa_checked(v: number, site: Site, fn: string): number {
  const mmu = M.mmu;
  if (mmu.is_linear(v)) return mmu.lm_to_phys(v);
  if (mmu.is_kimage(v) && M.shape.arch === 'x86_64') return mmu.kimage_to_phys(v);
  const c = resolve_site(site);
  const key = c ? `${c.file}:${c.line}` : String(v);
  // Once per call site and machine (a machine is one boot).
  const why = mmu.is_vmalloc(v) ? [`dmalab: ${fn}() only works on the linear map; this is a vmalloc-area address (vmalloc, a stack, ioremap or a remapped coherent buffer)`] : [];
  const common = { sites: [['Called at', site]] as [string, Site][], distinct: true, once: `virt_to_phys:${key}` };
  if (M.shape.arch === 'arm64') {
    // arm64's CONFIG_DEBUG_VIRTUAL check: WARN(..., "%pK (%pS)"): a hashed pointer, then the
    // address itself (no symbol names it).
    M.diag.report('VIRT_TO_PHYS_NONLINEAR', [`virt_to_phys used for non-linear address: ${hashed_ptr(px(v))} (0x${px(v)})`, ...why],
      { ...common, warn: 'arch/arm64/mm/physaddr.c:12 __virt_to_phys+0x54/0x68' });
  } else {
    // x86 says nothing (with CONFIG_DEBUG_VIRTUAL it would BUG): dmalab says it.
    M.diag.report('VIRT_TO_PHYS_NONLINEAR', [`dmalab: ${fn}() of a non-linear address: ${px(v)}: x86 returns garbage here without a word (a CONFIG_DEBUG_VIRTUAL kernel would BUG)`, ...why],
      { ...common, origin: 'dmalab' });
  }
  if (mmu.is_kimage(v)) return mmu.kimage_to_phys(v);
  return v - mmu.page_offset + mmu.ram_base;
}

export function virt_to_phys(v: number): number {
  return pa_checked(v, take_site(virt_to_phys), 'virt_to_phys');
}
export function __pa(v: number): number {
  return pa_checked(v, take_site(__pa), '__pa');
}
export function phys_to_virt(p: number): number {
  return M.mmu.phys_to_lm(p);
}
export function __va(p: number): number {
  return M.mmu.phys_to_lm(p);
}

export function pfn_to_page(pfn: number): number {
  return M.mmu.pfn_to_page(pfn);
}
export function page_to_pfn(page: number): number {
  return M.mmu.page_to_pfn(page);
}
export function page_to_phys(page: number): number {
  return M.mmu.page_to_pfn(page) * PAGE_SIZE;
}
export function page_address(page: number): number {
  return M.mmu.phys_to_lm(page_to_phys(page));
}
export function page_to_virt(page: number): number {
  return page_address(page);
}
/** virt_to_page(): meaningful for linear-map (and kernel image) addresses only. */
export function virt_to_page(v: number): number {
  const mmu = M.mmu;
  const phys = mmu.is_linear(v) ? mmu.lm_to_phys(v) : mmu.is_kimage(v) ? mmu.kimage_to_phys(v) : v - mmu.page_offset + mmu.ram_base;
  return mmu.pfn_to_page(Math.floor(phys / PAGE_SIZE));
}
export function virt_to_pfn(v: number): number {
  return page_to_pfn(virt_to_page(v));
}

// ---- the page allocator -------------------------------------------------------------------

/** might_alloc(): a sleeping allocation must not happen in atomic context. */
export function might_alloc(gfp: number, site: Site): void {
  if (gfp & ___GFP_DIRECT_RECLAIM) M.sched.might_sleep('include/linux/sched/mm.h:274', site);
}

export function alloc_pages_site(gfp: number, order: number, kind: PageKind, site: Site): number {
  might_alloc(gfp, site);
  if (order > MAX_ORDER) return 0;
  if (M.faults.should_fail('alloc_pages', site)) return 0;
  const pfn = M.pages.alloc(gfp, order, kind, M.owner, site);
  if (pfn < 0) {
    M.printk(4, `${M.sched.task_line().comm}: page allocation failure: order:${order}, mode:0x${gfp.toString(16)}`);
    return 0;
  }
  if (gfp & ___GFP_ZERO) kernel_zero_phys(pfn * PAGE_SIZE, PAGE_SIZE << order, true);
  return M.mmu.pfn_to_page(pfn);
}

export function alloc_pages(gfp: number, order: number): number {
  return alloc_pages_site(gfp, order, PageKind.BUDDY, take_site(alloc_pages));
}
export function alloc_page(gfp: number): number {
  return alloc_pages_site(gfp, 0, PageKind.BUDDY, take_site(alloc_page));
}
export function __get_free_pages(gfp: number, order: number): number {
  const p = alloc_pages_site(gfp, order, PageKind.BUDDY, take_site(__get_free_pages));
  return p ? page_address(p) : 0;
}
export function __get_free_page(gfp: number): number {
  const p = alloc_pages_site(gfp, 0, PageKind.BUDDY, take_site(__get_free_page));
  return p ? page_address(p) : 0;
}
export function get_zeroed_page(gfp: number): number {
  const p = alloc_pages_site(gfp | ___GFP_ZERO, 0, PageKind.BUDDY, take_site(get_zeroed_page));
  return p ? page_address(p) : 0;
}

function free_pfn(pfn: number, order: number, site: Site, what: string): void {
  const pages = M.pages;
  const head = pfn - pages.base_pfn;
  if (!pages.valid(pfn) || pages.kind[head] !== PageKind.BUDDY) {
    M.diag.report('KFREE_INVALID', [
      `BUG: Bad page state in process ${M.sched.task_line().comm}  pfn:${pfn.toString(16)}`,
      `dmalab: ${what} of a page that alloc_pages()/__get_free_pages() did not hand out (or that was freed already)`,
    ], { sites: [['Freed at', site]], distinct: true });
    return;
  }
  if (pages.order[head] !== order) {
    M.printk(4, `dmalab: ${what}() with order ${order}, but the pages were allocated with order ${pages.order[head]}`);
  }
  M.own.kfree_check(pfn * PAGE_SIZE, PAGE_SIZE << pages.order[head]!, site);
  pages.free(pfn);
}

export function __free_pages(page: number, order: number): void {
  free_pfn(page_to_pfn(page), order, take_site(__free_pages), '__free_pages');
}
export function free_pages(addr: number, order: number): void {
  if (!addr) return;
  free_pfn(Math.floor(M.mmu.lm_to_phys(addr) / PAGE_SIZE), order, take_site(free_pages), 'free_pages');
}
export function free_page(addr: number): void {
  if (!addr) return;
  free_pfn(Math.floor(M.mmu.lm_to_phys(addr) / PAGE_SIZE), 0, take_site(free_page), 'free_page');
}
export function __free_page(page: number): void {
  free_pfn(page_to_pfn(page), 0, take_site(__free_page), '__free_page');
}

// ---- vmalloc ------------------------------------------------------------------------------

function vmalloc_site(size: number, zero: boolean, site: Site): number {
  might_alloc(___GFP_DIRECT_RECLAIM, site);
  if (size <= 0) return 0;
  if (M.faults.should_fail('vmalloc', site)) return 0;
  const n = Math.ceil(size / PAGE_SIZE);
  const pages: number[] = [];
  for (let i = 0; i < n; i++) {
    // Physically scattered: each page from wherever the allocator finds one.
    const pfn = M.pages.alloc(0, 0, PageKind.VMALLOC, 0, undefined, true);
    if (pfn < 0) {
      for (const p of pages) M.pages.free(p / PAGE_SIZE);
      return 0;
    }
    pages.push(pfn * PAGE_SIZE);
  }
  const a = M.mmu.map_area(size, pages, 0, 'vmalloc', M.owner, site);
  if (zero) for (const p of pages) kernel_zero_phys(p, PAGE_SIZE, true);
  return a.addr;
}

export function vmalloc(size: number): number {
  return vmalloc_site(size, false, take_site(vmalloc));
}
export function vzalloc(size: number): number {
  return vmalloc_site(size, true, take_site(vzalloc));
}
export function vfree(addr: number): void {
  if (!addr) return;
  const site = take_site(vfree);
  // __vunmap() (mm/vmalloc.c, 6.1): an address that is not page aligned, then one that starts
  // no area, is a WARN and nothing is freed.
  if (addr % PAGE_SIZE !== 0) {
    M.diag.report('VFREE_INVALID', [`Trying to vfree() bad address (${px(addr)})`],
      { warn: 'mm/vmalloc.c:2752 __vunmap+0x52/0x1a9', sites: [['Freed at', site]], distinct: true });
    return;
  }
  const a = M.mmu.areas.get(addr);
  if (!a || a.kind !== 'vmalloc') {
    M.diag.report('VFREE_INVALID', [`Trying to vfree() nonexistent vm area (${px(addr)})`],
      { warn: 'mm/vmalloc.c:2758 __vunmap', sites: [['Freed at', site]], distinct: true });
    return;
  }
  for (const p of a.pages) M.own.kfree_check(p, PAGE_SIZE, site);
  M.mmu.unmap_area(a);
  for (const p of a.pages) M.pages.free(p / PAGE_SIZE);
}
export function vmalloc_to_page(v: number): number {
  const phys = M.mmu.translate(v);
  return phys < 0 ? 0 : M.mmu.pfn_to_page(Math.floor(phys / PAGE_SIZE));
}
export function vmalloc_to_pfn(v: number): number {
  const p = vmalloc_to_page(v);
  return p ? page_to_pfn(p) : 0;
}

export { warn_block };
