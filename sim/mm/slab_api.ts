// kmalloc() and friends as drivers call them (include/linux/slab.h), with the kernel's reports
// for frees of things kmalloc never returned, or returned and got back already (SLUB's, as a
// kernel booted with slub_debug=F prints them).
import { M } from '../kernel/machine.ts';
import { take_site, resolve_site, site_str, type Site } from '../kernel/site.ts';
import { px } from '../lib/vsprintf.ts';
import { PAGE_SIZE, PageKind, ___GFP_DMA, ___GFP_ZERO } from './page_alloc.ts';
import { KMALLOC_MAX_CACHE_SIZE, ZERO_SIZE_PTR } from './slab.ts';
import { might_alloc, get_order } from './mm_api.ts';
import { cpu_fill, cpu_read, cpu_write } from './access.ts';
import { devres_add, devres_remove } from '../base/devres.ts';
import type { device } from '../base/device.ts';

export { ZERO_SIZE_PTR };

/** kmalloc with an explicit call site (for the sim's own callers). Returns 0 on failure. */
export function kmalloc_site(size: number, gfp: number, site: Site): number {
  might_alloc(gfp, site);
  if (M.faults.should_fail('kmalloc', site)) return 0;
  if (size === 0) return ZERO_SIZE_PTR;
  let phys: number;
  const c = size <= KMALLOC_MAX_CACHE_SIZE ? M.slab.cache_for(size, (gfp & ___GFP_DMA) !== 0) : null;
  if (c) {
    phys = M.slab.alloc_obj(c, gfp, M.owner, site);
    if (phys < 0) return 0;
  } else {
    const pfn = M.pages.alloc(gfp, get_order(size), PageKind.KMALLOC_LARGE, M.owner, site);
    if (pfn < 0) return 0;
    phys = pfn * PAGE_SIZE;
  }
  const v = M.mmu.phys_to_lm(phys);
  // The CPU clears it: on a non-coherent machine the zeroes sit in the cache, dirty.
  if (gfp & ___GFP_ZERO) cpu_fill(v, 0, size, kmalloc_site);
  return v;
}

export function kmalloc(size: number, gfp: number): number {
  return kmalloc_site(size, gfp, take_site(kmalloc));
}
export function kzalloc(size: number, gfp: number): number {
  return kmalloc_site(size, gfp | ___GFP_ZERO, take_site(kzalloc));
}
export function kmalloc_array(n: number, size: number, gfp: number): number {
  return kmalloc_site(n * size, gfp, take_site(kmalloc_array));
}
export function kcalloc(n: number, size: number, gfp: number): number {
  return kmalloc_site(n * size, gfp | ___GFP_ZERO, take_site(kcalloc));
}

/** The usable size of a kmalloc'ed object, or -1 if p is not one. */
function object_size(p: number): number {
  const mmu = M.mmu;
  if (!mmu.is_linear(p)) return -1;
  const phys = mmu.lm_to_phys(p);
  const loc = M.slab.locate(phys);
  if (loc) return loc.exact && !loc.sp.free[loc.i] ? loc.sp.cache.size : -1;
  const pfn = Math.floor(phys / PAGE_SIZE);
  const i = pfn - M.pages.base_pfn;
  if (phys % PAGE_SIZE === 0 && M.pages.valid(pfn) && M.pages.kind[i] === PageKind.KMALLOC_LARGE) return PAGE_SIZE << M.pages.order[i]!;
  return -1;
}

export function ksize(p: number): number {
  const n = object_size(p);
  return n < 0 ? 0 : n;
}

type SlabLoc = NonNullable<ReturnType<typeof M.slab.locate>>;

/** "Disabling lock debugging due to kernel taint": the first taint of a boot. */
const lockdep_off = new WeakSet<object>();

/** print_hex_dump(DUMP_PREFIX_ADDRESS, 16, 1, ascii) of kernel memory, as SLUB prints it. */
function hex_rows(prefix: string, v: number, phys: number, len: number): string[] {
  const b = new Uint8Array(len);
  if (M.cache) M.cache.read(phys, b, 0, len);
  else M.ram.read(phys, b, 0, len);
  const out: string[] = [];
  for (let o = 0; o < len; o += 16) {
    const row = b.subarray(o, Math.min(o + 16, len));
    const hex = [...row].map((x) => x.toString(16).padStart(2, '0')).join(' ');
    const asc = [...row].map((x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.')).join('');
    out.push(`${prefix}${px(v + o)}: ${hex.padEnd(16 * 3 - 1)}  ${asc}`);
  }
  return out;
}

/** SLUB's own report of a bad kfree (mm/slub.c free_consistency_checks(), as with
 *  slub_debug=F): the object is left as it was ("not freed") and the kernel carries on. */
function slub_report(code: 'KFREE_DOUBLE' | 'KFREE_INVALID', p: number, phys: number, loc: SlabLoc, site: Site): void {
  const { sp, i } = loc;
  const c = sp.cache;
  const pfn = Math.floor(phys / PAGE_SIZE);
  const base_v = M.mmu.phys_to_lm(pfn * PAGE_SIZE);
  const n = sp.free.length;
  const free_after = (from: number) => { for (let j = from; j < n; j++) if (sp.free[j]) return base_v + j * c.size; return 0; };
  const zone = phys < M.shape.zone_dma_end ? 0 : M.shape.zone_dma32_end && phys < M.shape.zone_dma32_end ? 1 : M.shape.zone_dma32_end ? 2 : 1;
  const t = M.sched.task_line();
  const cs = resolve_site(site);
  const lines = [
    '=============================================================================',
    `BUG ${c.name} (Not tainted): ${code === 'KFREE_DOUBLE' ? 'Object already free' : `Invalid object pointer 0x${px(p)}`}`,
    '-----------------------------------------------------------------------------',
    '',
    `Slab 0x${px(M.mmu.pfn_to_page(pfn))} objects=${n} used=${n - sp.nfree} fp=0x${px(free_after(0))} flags=0x200(slab|zone=${zone})`,
  ];
  if (code === 'KFREE_DOUBLE') {
    // print_trailer(): the object, its free pointer, and the bytes around it.
    const obj = base_v + i * c.size;
    lines.push(`Object 0x${px(obj)} @offset=${i * c.size} fp=0x${px(free_after(i + 1))}`, '');
    if (i * c.size > 16) lines.push(...hex_rows('Bytes b4 ', obj - 16, phys - 16, 16));
    lines.push(...hex_rows('Object   ', obj, phys, Math.min(c.size, PAGE_SIZE)));
  }
  lines.push(`CPU: 0 PID: ${t.pid} Comm: ${t.comm} Not tainted 6.1.0-dmalab #1`, 'Call Trace:', ' <TASK>',
    ...(cs ? [` ${cs.fn} (${site_str(cs)})`] : []), ' </TASK>');
  if (!lockdep_off.has(M)) {
    lockdep_off.add(M);
    lines.push('Disabling lock debugging due to kernel taint');
  }
  lines.push(`FIX ${c.name}: Object at 0x${px(p)} not freed`);
  M.diag.report(code, lines, { sites: [['Freed at', site]], distinct: true });
}

function bad_free(kind: 'double-free' | 'invalid-free', p: number, site: Site, why: string): void {
  const c = resolve_site(site);
  const t = M.sched.task_line();
  M.diag.report(kind === 'double-free' ? 'KFREE_DOUBLE' : 'KFREE_INVALID', [
    '==================================================================',
    `BUG: KASAN: ${kind} in ${c ? c.fn : 'kfree'}`,
    `Free of addr ${px(p)} by task ${t.comm}/${t.pid}`,
    `dmalab: ${why}`,
  ], { sites: [['Freed at', site]], distinct: true });
}

export function kfree_site(p: number, site: Site): void {
  if (!p || p === ZERO_SIZE_PTR) return;
  const mmu = M.mmu;
  if (!mmu.is_linear(p)) {
    bad_free('invalid-free', p, site, mmu.is_vmalloc(p) ? 'kfree() of a vmalloc-area address: use vfree() for vmalloc memory' : 'kfree() of an address kmalloc() never returned');
    return;
  }
  const phys = mmu.lm_to_phys(p);
  const loc = M.slab.locate(phys);
  if (loc) {
    if (!loc.exact) { slub_report('KFREE_INVALID', p, phys, loc, site); return; }
    if (loc.sp.free[loc.i]) { slub_report('KFREE_DOUBLE', p, phys, loc, site); return; }
    M.own.kfree_check(phys, loc.sp.cache.size, site);
    M.slab.free_obj(phys, loc.sp, loc.i);
    return;
  }
  const pfn = Math.floor(phys / PAGE_SIZE);
  const i = pfn - M.pages.base_pfn;
  if (phys % PAGE_SIZE === 0 && M.pages.valid(pfn) && M.pages.kind[i] === PageKind.KMALLOC_LARGE) {
    M.own.kfree_check(phys, PAGE_SIZE << M.pages.order[i]!, site);
    M.pages.free(pfn);
    return;
  }
  bad_free(M.pages.valid(pfn) && M.pages.kind[i] === PageKind.FREE ? 'double-free' : 'invalid-free', p, site,
    M.pages.valid(pfn) && M.pages.kind[i] === PageKind.FREE ? 'this memory was already freed' : 'kfree() of an address kmalloc() never returned');
}

export function kfree(p: number): void {
  kfree_site(p, take_site(kfree));
}
export function kfree_sensitive(p: number): void {
  kfree_site(p, take_site(kfree_sensitive));
}

export function krealloc(p: number, new_size: number, gfp: number): number {
  const site = take_site(krealloc);
  if (!p || p === ZERO_SIZE_PTR) return kmalloc_site(new_size, gfp, site);
  const old = object_size(p);
  if (old >= new_size) return p;
  const n = kmalloc_site(new_size, gfp, site);
  if (!n) return 0;
  if (old > 0) {
    const tmp = new Uint8Array(old);
    cpu_read(p, tmp, 0, old, krealloc);
    cpu_write(n, tmp, 0, old, krealloc);
  }
  kfree_site(p, site);
  return n;
}

export function kmemdup(src: number, len: number, gfp: number): number {
  const site = take_site(kmemdup);
  const p = kmalloc_site(len, gfp, site);
  if (p) {
    const tmp = new Uint8Array(len);
    cpu_read(src, tmp, 0, len, kmemdup);
    cpu_write(p, tmp, 0, len, kmemdup);
  }
  return p;
}

// ---- managed (devres) allocations --------------------------------------------------------

export function devm_kmalloc(dev: device, size: number, gfp: number): number {
  const site = take_site(devm_kmalloc);
  const p = kmalloc_site(size, gfp, site);
  if (p) devres_add(dev, 'devm_kmalloc', () => kfree_site(p, site), p);
  return p;
}
export function devm_kzalloc(dev: device, size: number, gfp: number): number {
  const site = take_site(devm_kzalloc);
  const p = kmalloc_site(size, gfp | ___GFP_ZERO, site);
  if (p) devres_add(dev, 'devm_kzalloc', () => kfree_site(p, site), p);
  return p;
}
export function devm_kcalloc(dev: device, n: number, size: number, gfp: number): number {
  const site = take_site(devm_kcalloc);
  const p = kmalloc_site(n * size, gfp | ___GFP_ZERO, site);
  if (p) devres_add(dev, 'devm_kcalloc', () => kfree_site(p, site), p);
  return p;
}
export function devm_kfree(dev: device, p: number): void {
  const site = take_site(devm_kfree);
  if (devres_remove(dev, p)) kfree_site(p, site);
  else M.printk(4, `dmalab: devm_kfree() of ${px(p)}, which devm_kmalloc() did not allocate for this device`);
}
