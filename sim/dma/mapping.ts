// The DMA mapping API (kernel/dma/mapping.c, include/linux/dma-mapping.h, Linux 6.1): entry
// points that check their arguments, dispatch to dma-direct (with swiotlb) or dma-iommu, and
// call the checker's hooks, in the kernel's order. Every entry point records the learner's
// call site, as dma-debug records a stack.
import { M } from '../kernel/machine.ts';
import { take_site, type Site } from '../kernel/site.ts';
import { kernel_bug } from '../kernel/bug.ts';
import { EIO, EINVAL, ENOMEM } from '../kernel/errno.ts';
import { T } from '../kernel/trace.ts';
import { px, x016 } from '../lib/vsprintf.ts';
import { dev_driver_string, dev_name, type device } from '../base/device.ts';
import { PAGE_SIZE, ___GFP_ZERO, ___GFP_DIRECT_RECLAIM } from '../mm/page_alloc.ts';
import { first, sg_next, type scatterlist, type sg_table } from '../lib/scatterlist.ts';
import { DMA_BIDIRECTIONAL, DMA_MAPPING_ERROR, valid_dma_direction,
  DMA_TO_DEVICE, DMA_FROM_DEVICE, DIR_NAME, type dma_addr_t } from './types.ts';
import { warn_at } from './warn-sites.ts';
import { DT } from './debug.ts';
import { mask_ok, dma_get_mask } from './mask.ts';
import * as direct from './direct.ts';
import * as iommu from './iommu.ts';
import { IOMMU_WRITE } from '../hw/iommu.ts';
import { check_addr_len, ADDR, DMA } from '../kernel/die.ts';
import { map_module_static } from './module_static.ts';

// ---- shared checks ---------------------------------------------------------------------------

// The BUG_ON(!valid_dma_direction(dir)) of each entry point in Linux 6.1's kernel/dma/mapping.c.
const MAPPING_C_BUG = { map: 'kernel/dma/mapping.c:150', unmap: 'kernel/dma/mapping.c:172', map_sg: 'kernel/dma/mapping.c:188',
  unmap_sg: 'kernel/dma/mapping.c:285', sync_cpu: 'kernel/dma/mapping.c:333', sync_dev: 'kernel/dma/mapping.c:347',
  sync_sg_cpu: 'kernel/dma/mapping.c:361', sync_sg_dev: 'kernel/dma/mapping.c:375', resource: 'kernel/dma/mapping.c:301' };

export function check_dir(dir: number, where: keyof typeof MAPPING_C_BUG, site: Site): void {
  if (valid_dma_direction(dir)) return;
  kernel_bug('DMA_INVALID_DIRECTION', MAPPING_C_BUG[where], [
    `dmalab: BUG_ON(!valid_dma_direction(dir)): direction ${dir}${dir === 3 ? ' (DMA_NONE)' : ''} is not DMA_TO_DEVICE, DMA_FROM_DEVICE or DMA_BIDIRECTIONAL`,
  ], site);
}

// ---- single mappings -----------------------------------------------------------------------

function map_phys(dev: device, phys: number, size: number, dir: number, attrs: number, site: Site): dma_addr_t {
  check_dir(dir, 'map', site);
  if (!mask_ok(dev, site, 'dma_map')) return DMA_MAPPING_ERROR;
  let addr: number;
  if (M.faults.should_fail('dma_map', site)) addr = DMA_MAPPING_ERROR;
  else if (dev._iommu) addr = iommu.iommu_dma_map_page(dev, phys, size, dir, attrs);
  else addr = direct.dma_direct_map_page(dev, phys, size, dir, attrs, site);
  M.trace.emit(M.clock.now, T.dma_map, dev.id, addr, size, phys, dir);
  M.dbg.map_page(dev, phys, size, dir, addr, attrs, site);
  if (addr !== DMA_MAPPING_ERROR) M.own.track(dev, phys, size, addr, dir, site, DT.single);
  return addr;
}

/** The physical address behind a CPU pointer, as virt_to_page() + offset_in_page() compute it. */
function cpu_phys(v: number): number {
  const mmu = M.mmu;
  if (mmu.is_linear(v)) return mmu.lm_to_phys(v);
  if (mmu.is_kimage(v)) return mmu.kimage_to_phys(v);
  return v - mmu.page_offset + mmu.ram_base;
}

function map_single(dev: device, ptr: number, size: number, dir: number, attrs: number, site: Site): dma_addr_t {
  const mmu = M.mmu;
  if (mmu.is_vmalloc(ptr)) {
    const st = M.stacks.owner_of(ptr);
    M.diag.report('DMA_MAP_VMALLOC_REJECTED', [`${dev_driver_string(dev)} ${dev_name(dev)}: rejecting DMA map of vmalloc memory`], {
      warn: warn_at('VMALLOC_REJECT', dev.driver?.name), sites: [['Mapped at', site]],
      notes: [st ? `dmalab: ${px(ptr)} is on a task's stack, and kernel stacks are vmalloc memory (CONFIG_VMAP_STACK): use kmalloc'ed memory for DMA`
        : M.kimage.section_of(ptr)
          ? `dmalab: ${px(ptr)} is the driver image's static data, which this architecture keeps in the vmalloc area: kmalloc the buffer`
          : `dmalab: ${px(ptr)} is vmalloc memory: it is not physically contiguous and has no linear-map address; use kmalloc or alloc_pages for DMA`],
    });
    return DMA_MAPPING_ERROR;
  }
  M.dbg.map_single(dev, ptr, size, site);
  if (M.modspace.section_of(ptr)) map_module_static(dev, ptr, size, site);
  const sect = M.kimage.section_of(ptr);
  if (sect) {
    M.diag.report('DMA_MAP_STATIC', [
      `dmalab: ${dev_driver_string(dev)} ${dev_name(dev)}: maps ${sect === 'data' ? 'static data (.data/.bss)' : 'read-only data (.rodata)'} of the driver image [addr=${px(ptr)}] [len=${size}]`,
      'dmalab: the kernel image is not DMA-able memory (dma-debug cannot see this on x86-64 or arm64); kmalloc the buffer',
    ], { sites: [['Mapped at', site]] });
  }
  return map_phys(dev, cpu_phys(ptr), size, dir, attrs, site);
}

export function dma_map_single_attrs(dev: device, ptr: number, size: number, dir: number, attrs: number): dma_addr_t {
  return map_single(dev, ptr, size, dir, attrs, take_site(dma_map_single_attrs));
}
export function dma_map_single(dev: device, ptr: number, size: number, dir: number): dma_addr_t {
  check_addr_len('dma_map_single', 'ptr', ptr, ADDR, 'size', size);
  return map_single(dev, ptr, size, dir, 0, take_site(dma_map_single));
}

function page_phys(page: number, offset: number): number {
  return M.mmu.page_to_pfn(page) * PAGE_SIZE + offset;
}

export function dma_map_page_attrs(dev: device, page: number, offset: number, size: number, dir: number, attrs: number): dma_addr_t {
  return map_phys(dev, page_phys(page, offset), size, dir, attrs, take_site(dma_map_page_attrs));
}
export function dma_map_page(dev: device, page: number, offset: number, size: number, dir: number): dma_addr_t {
  return map_phys(dev, page_phys(page, offset), size, dir, 0, take_site(dma_map_page));
}

function unmap_phys(dev: device, addr: dma_addr_t, size: number, dir: number, attrs: number, site: Site, what: string): void {
  check_dir(dir, 'unmap', site);
  M.own.check_inflight(dev, addr, size, site, what);
  M.api_site = site;
  M.api_label = 'Unmapped at';
  try {
    if (dev._iommu) iommu.iommu_dma_unmap_page(dev, addr, size, dir, attrs, site);
    else if (addr !== DMA_MAPPING_ERROR) direct.dma_direct_unmap_page(dev, addr, size, dir, attrs);
  } finally {
    M.api_site = 0;
  }
  M.trace.emit(M.clock.now, T.dma_unmap, dev.id, addr, size, 0, dir);
  M.dbg.unmap_page(dev, addr, size, dir, site);
  M.own.untrack(dev, addr, size, DT.single, site);
}

export function dma_unmap_single_attrs(dev: device, addr: dma_addr_t, size: number, dir: number, attrs: number): void {
  unmap_phys(dev, addr, size, dir, attrs, take_site(dma_unmap_single_attrs), 'dma_unmap_single()');
}
export function dma_unmap_single(dev: device, addr: dma_addr_t, size: number, dir: number): void {
  check_addr_len('dma_unmap_single', 'addr', addr, DMA, 'size', size);
  unmap_phys(dev, addr, size, dir, 0, take_site(dma_unmap_single), 'dma_unmap_single()');
}
export function dma_unmap_page_attrs(dev: device, addr: dma_addr_t, size: number, dir: number, attrs: number): void {
  unmap_phys(dev, addr, size, dir, attrs, take_site(dma_unmap_page_attrs), 'dma_unmap_page()');
}
export function dma_unmap_page(dev: device, addr: dma_addr_t, size: number, dir: number): void {
  unmap_phys(dev, addr, size, dir, 0, take_site(dma_unmap_page), 'dma_unmap_page()');
}

/** dma_mapping_error(): tells dma-debug the handle was checked, then tests it. */
export function dma_mapping_error(dev: device, addr: dma_addr_t): number {
  M.dbg.mapping_error(dev, addr);
  return addr === DMA_MAPPING_ERROR ? -ENOMEM : 0;
}

// ---- resources (MMIO of another device) ------------------------------------------------------

export function dma_map_resource(dev: device, phys: number, size: number, dir: number, attrs: number): dma_addr_t {
  const site = take_site(dma_map_resource);
  check_dir(dir, 'resource', site);
  if (!mask_ok(dev, site, 'dma_map_resource')) return DMA_MAPPING_ERROR;
  if (M.pages.is_ram(phys)) {
    // 6.1.192 maps it without a word (no cache maintenance, no bounce); dma-debug in newer
    // kernels says so (debug_dma_map_phys() in kernel/dma/debug.c).
    M.diag.report('DMA_MAP_RESOURCE_RAM', [
      `dmalab: ${dev_driver_string(dev)} ${dev_name(dev)}: dma_map_resource called for RAM address 0x${x016(phys)} [len=${size}]`,
      'dmalab: dma_map_resource() is for another device\'s registers or FIFO; map memory with dma_map_single() or dma_map_page()',
    ], { sites: [['Mapped at', site]] });
  }
  let addr: number;
  if (dev._iommu) addr = iommu.iommu_dma_map_range(dev, phys, size, iommu.dma_info_to_prot(dir), dev._dma_limit);
  else addr = direct.dma_direct_map_resource(dev, phys, size, dma_get_mask(dev));
  M.dbg.map_page(dev, phys, size, dir, addr, attrs, site, true);
  if (addr !== DMA_MAPPING_ERROR) M.own.track(dev, phys, size, addr, dir, site, DT.resource);
  return addr;
}
export function dma_unmap_resource(dev: device, addr: dma_addr_t, size: number, dir: number, attrs: number): void {
  const site = take_site(dma_unmap_resource);
  check_dir(dir, 'resource', site);
  if (dev._iommu && addr !== DMA_MAPPING_ERROR) iommu.iommu_dma_unmap_range(dev, addr, size);
  M.dbg.unmap_page(dev, addr, size, dir, site, true);
  M.own.untrack(dev, addr, size, DT.resource, site);
  void attrs;
}

// ---- sync ------------------------------------------------------------------------------------

function sync_single(dev: device, addr: dma_addr_t, size: number, dir: number, to_cpu: boolean, site: Site): void {
  check_dir(dir, to_cpu ? 'sync_cpu' : 'sync_dev', site);
  M.api_site = site;
  M.api_label = 'Synced at';
  try {
    if (dev._iommu) (to_cpu ? iommu.iommu_dma_sync_single_for_cpu : iommu.iommu_dma_sync_single_for_device)(dev, addr, size, dir);
    else (to_cpu ? direct.dma_direct_sync_single_for_cpu : direct.dma_direct_sync_single_for_device)(dev, addr, size, dir);
  } finally {
    M.api_site = 0;
  }
  // arm64's cache maintenance ends with a dsb: the store buffer drains, later loads wait.
  M.order?.full();
  M.trace.emit(M.clock.now, to_cpu ? T.dma_sync_cpu : T.dma_sync_dev, dev.id, addr, size, 0, dir);
  M.dbg.sync_single(dev, addr, size, dir, to_cpu, site);
  M.own.sync_range(dev, addr, size, to_cpu);
}

export function dma_sync_single_for_cpu(dev: device, addr: dma_addr_t, size: number, dir: number): void {
  check_addr_len('dma_sync_single_for_cpu', 'addr', addr, DMA, 'size', size);
  sync_single(dev, addr, size, dir, true, take_site(dma_sync_single_for_cpu));
}
export function dma_sync_single_for_device(dev: device, addr: dma_addr_t, size: number, dir: number): void {
  check_addr_len('dma_sync_single_for_device', 'addr', addr, DMA, 'size', size);
  sync_single(dev, addr, size, dir, false, take_site(dma_sync_single_for_device));
}
export function dma_sync_single_range_for_cpu(dev: device, addr: dma_addr_t, offset: number, size: number, dir: number): void {
  sync_single(dev, addr + offset, size, dir, true, take_site(dma_sync_single_range_for_cpu));
}
export function dma_sync_single_range_for_device(dev: device, addr: dma_addr_t, offset: number, size: number, dir: number): void {
  sync_single(dev, addr + offset, size, dir, false, take_site(dma_sync_single_range_for_device));
}

// ---- scatter-gather --------------------------------------------------------------------------

function segs_of(sg: scatterlist[] | scatterlist, nents: number): { list: scatterlist[]; segs: iommu.SgSeg[] } {
  const list: scatterlist[] = [];
  for (let s: scatterlist | null = first(sg); s && list.length < nents; s = sg_next(s)) list.push(s);
  const segs = list.map((s) => ({ phys: M.mmu.page_to_pfn(s.page_link) * PAGE_SIZE + s.offset, length: s.length, dma: s.dma_address, dma_len: s.dma_length }));
  return { list, segs };
}

/** __dma_map_sg_attrs(): returns the number of DMA segments, or a negative errno. */
function map_sg(dev: device, sg: scatterlist[] | scatterlist, nents: number, dir: number, attrs: number, site: Site): number {
  check_dir(dir, 'map_sg', site);
  if (!mask_ok(dev, site, 'dma_map_sg')) return 0;
  const { list, segs } = segs_of(sg, nents);
  if (list.length < nents) return -EINVAL;
  let ents: number;
  if (M.faults.should_fail('dma_map', site)) ents = -ENOMEM;
  else if (dev._iommu) ents = iommu.iommu_dma_map_sg(dev, segs, nents, dir, attrs) || -ENOMEM;
  else ents = direct.dma_direct_map_sg(dev, segs, nents, dir, attrs, site);
  if (ents <= 0) return ents;
  list.forEach((s, i) => { s.dma_address = segs[i]!.dma; s.dma_length = segs[i]!.dma_len; });
  M.trace.emit(M.clock.now, T.dma_map_sg, dev.id, nents, ents, segs[0]!.dma, dir);
  M.dbg.map_sg(dev, segs, nents, ents, dir, attrs, site);
  M.own.track_sg(dev, segs, nents, ents, dir, site);
  return ents;
}

export function dma_map_sg_attrs(dev: device, sg: scatterlist[] | scatterlist, nents: number, dir: number, attrs: number): number {
  const r = map_sg(dev, sg, nents, dir, attrs, take_site(dma_map_sg_attrs));
  return r < 0 ? 0 : r;
}
export function dma_map_sg(dev: device, sg: scatterlist[] | scatterlist, nents: number, dir: number): number {
  const r = map_sg(dev, sg, nents, dir, 0, take_site(dma_map_sg));
  return r < 0 ? 0 : r;
}
/** dma_map_sgtable(): maps orig_nents entries; sets sgt.nents; 0 or a negative errno. */
export function dma_map_sgtable(dev: device, sgt: sg_table, dir: number, attrs: number): number {
  const r = map_sg(dev, sgt.sgl, sgt.orig_nents, dir, attrs, take_site(dma_map_sgtable));
  if (r < 0) return r;
  if (r === 0) return -EIO;
  sgt.nents = r;
  return 0;
}

function unmap_sg(dev: device, sg: scatterlist[] | scatterlist, nents: number, dir: number, attrs: number, site: Site): void {
  check_dir(dir, 'unmap_sg', site);
  const { segs } = segs_of(sg, nents);
  for (const s of segs) if (s.dma_len) M.own.check_inflight(dev, s.dma, s.dma_len, site, 'dma_unmap_sg()');
  M.trace.emit(M.clock.now, T.dma_unmap_sg, dev.id, nents, 0, 0, dir);
  M.dbg.unmap_sg(dev, segs, nents, dir, site);
  for (const s of segs) if (s.dma_len) M.own.untrack(dev, s.dma, s.dma_len, DT.sg, site);
  if (dev._iommu) iommu.iommu_dma_unmap_sg(dev, segs, nents, dir, attrs);
  else direct.dma_direct_unmap_sg(dev, segs, dir, attrs);
}

export function dma_unmap_sg_attrs(dev: device, sg: scatterlist[] | scatterlist, nents: number, dir: number, attrs: number): void {
  unmap_sg(dev, sg, nents, dir, attrs, take_site(dma_unmap_sg_attrs));
}
export function dma_unmap_sg(dev: device, sg: scatterlist[] | scatterlist, nents: number, dir: number): void {
  unmap_sg(dev, sg, nents, dir, 0, take_site(dma_unmap_sg));
}
export function dma_unmap_sgtable(dev: device, sgt: sg_table, dir: number, attrs: number): void {
  unmap_sg(dev, sgt.sgl, sgt.orig_nents, dir, attrs, take_site(dma_unmap_sgtable));
}

function sync_sg(dev: device, sg: scatterlist[] | scatterlist, nelems: number, dir: number, to_cpu: boolean, site: Site): void {
  check_dir(dir, to_cpu ? 'sync_sg_cpu' : 'sync_sg_dev', site);
  const { segs } = segs_of(sg, nelems);
  M.api_site = site;
  M.api_label = 'Synced at';
  try {
    if (dev._iommu) iommu.iommu_dma_sync_sg(dev, segs, segs.length, dir, to_cpu);
    else for (const s of segs) (to_cpu ? direct.dma_direct_sync_single_for_cpu : direct.dma_direct_sync_single_for_device)(dev, s.dma, s.length, dir);
  } finally {
    M.api_site = 0;
  }
  M.order?.full();
  M.trace.emit(M.clock.now, to_cpu ? T.dma_sync_sg_cpu : T.dma_sync_sg_dev, dev.id, nelems, 0, 0, dir);
  M.dbg.sync_sg(dev, segs, nelems, dir, to_cpu, site);
  M.own.sync_sg(dev, segs, to_cpu);
}

export function dma_sync_sg_for_cpu(dev: device, sg: scatterlist[] | scatterlist, nelems: number, dir: number): void {
  sync_sg(dev, sg, nelems, dir, true, take_site(dma_sync_sg_for_cpu));
}
export function dma_sync_sg_for_device(dev: device, sg: scatterlist[] | scatterlist, nelems: number, dir: number): void {
  sync_sg(dev, sg, nelems, dir, false, take_site(dma_sync_sg_for_device));
}
export function dma_sync_sgtable_for_cpu(dev: device, sgt: sg_table, dir: number): void {
  sync_sg(dev, sgt.sgl, sgt.orig_nents, dir, true, take_site(dma_sync_sgtable_for_cpu));
}
export function dma_sync_sgtable_for_device(dev: device, sgt: sg_table, dir: number): void {
  sync_sg(dev, sgt.sgl, sgt.orig_nents, dir, false, take_site(dma_sync_sgtable_for_device));
}

export { DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL, DIR_NAME, IOMMU_WRITE, ___GFP_ZERO, ___GFP_DIRECT_RECLAIM, DT };
