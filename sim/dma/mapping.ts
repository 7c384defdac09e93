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
import type { Ref } from '../lib/ref.ts';
import { dev_driver_string, dev_name, type device } from '../base/device.ts';
import { devres_add, devres_release } from '../base/devres.ts';
import { PAGE_SIZE, PageKind, ___GFP_DMA, ___GFP_DMA32, ___GFP_ZERO, ___GFP_DIRECT_RECLAIM } from '../mm/page_alloc.ts';
import { PTE_UNCACHED } from '../mm/memory.ts';
import { kernel_zero_phys } from '../mm/access.ts';
import { get_order, might_alloc } from '../mm/mm_api.ts';
import { first, sg_next, type scatterlist, type sg_table } from '../lib/scatterlist.ts';
import { DMA_ATTR_SKIP_CPU_SYNC, DMA_BIDIRECTIONAL, DMA_MAPPING_ERROR, mask_limit, valid_dma_direction,
  DMA_TO_DEVICE, DMA_FROM_DEVICE, DIR_NAME, type dma_addr_t } from './types.ts';
import { warn_at } from './warn-sites.ts';
import { DT } from './debug.ts';
import * as direct from './direct.ts';
import * as iommu from './iommu.ts';
import { IOMMU_READ, IOMMU_WRITE } from '../hw/iommu.ts';
import { check_int, check_addr_len, ADDR, DMA, LEN } from '../kernel/die.ts';
import { map_module_static } from './module_static.ts';

const NONE = -1;

// ---- masks (kernel/dma/mapping.c) -----------------------------------------------------------

function dma_supported(dev: device, mask: bigint): boolean {
  if (dev._iommu) return true;
  return direct.dma_direct_supported(dev, mask);
}

function set_mask(dev: device, mask: bigint | number, site: Site): number {
  const m = BigInt.asUintN(64, BigInt(mask));
  if (M.faults.should_fail('dma_set_mask', site)) return -EIO;
  if (dev.dma_mask === null || !dma_supported(dev, m)) return -EIO;
  dev.dma_mask = m;
  dev._dma_limit = mask_limit(m);
  return 0;
}

function set_coherent_mask(dev: device, mask: bigint | number): number {
  const m = BigInt.asUintN(64, BigInt(mask));
  if (!dma_supported(dev, m)) return -EIO;
  dev.coherent_dma_mask = m;
  dev._coherent_limit = mask_limit(m);
  return 0;
}

export function dma_set_mask(dev: device, mask: bigint | number): number {
  const r = set_mask(dev, mask, take_site(dma_set_mask));
  dev._mask_error = r;
  return r;
}
export function dma_set_coherent_mask(dev: device, mask: bigint | number): number {
  return set_coherent_mask(dev, mask);
}
/** dma_set_mask_and_coherent(): the coherent mask is set only if the streaming one was, and
 *  its result is ignored. */
export function dma_set_mask_and_coherent(dev: device, mask: bigint | number): number {
  const r = set_mask(dev, mask, take_site(dma_set_mask_and_coherent));
  if (r === 0) set_coherent_mask(dev, mask);
  dev._mask_error = r;
  return r;
}
export function dma_coerce_mask_and_coherent(dev: device, mask: bigint | number): number {
  if (dev.dma_mask === null) dev.dma_mask = dev.coherent_dma_mask;
  return dma_set_mask_and_coherent(dev, mask);
}
export function dma_get_mask(dev: device): bigint {
  return dev.dma_mask !== null && dev.dma_mask !== 0n ? dev.dma_mask : 0xffffffffn;
}
/** dma_get_cache_alignment(): ARCH_DMA_MINALIGN, or 1 where the arch has none (x86). */
export function dma_get_cache_alignment(): number {
  return M.shape.dma_minalign;
}
export function dma_max_mapping_size(dev: device): number {
  if (!dev._iommu && M.swiotlb && (M.swiotlb.force || dma_addressing_limited(dev))) return 2048 * 128;
  return Number.MAX_SAFE_INTEGER;
}
export function dma_get_required_mask(dev: device): bigint {
  if (dev._iommu) return 0xffffffffn;
  const top = direct.phys_to_dma(dev, M.shape.ram_base + M.shape.ram_size - 1);
  let m = 1n;
  while (m <= BigInt(top)) m <<= 1n;
  return m - 1n;
}
export function dma_addressing_limited(dev: device): boolean {
  return dma_get_mask(dev) < dma_get_required_mask(dev);
}
export function dma_get_max_seg_size(dev: device): number {
  return dev.dma_parms ? dev.dma_parms.max_segment_size : 65536;
}
export function dma_set_max_seg_size(dev: device, size: number): number {
  if (!dev.dma_parms) dev.dma_parms = { max_segment_size: 65536, segment_boundary_mask: Number.MAX_SAFE_INTEGER };
  dev.dma_parms.max_segment_size = size;
  return 0;
}
export function dma_get_seg_boundary(dev: device): number {
  return dev.dma_parms ? dev.dma_parms.segment_boundary_mask : Number.MAX_SAFE_INTEGER;
}
export function dma_set_seg_boundary(dev: device, mask: number): void {
  if (!dev.dma_parms) dev.dma_parms = { max_segment_size: 65536, segment_boundary_mask: Number.MAX_SAFE_INTEGER };
  dev.dma_parms.segment_boundary_mask = mask;
}
export function dma_need_sync(dev: device, addr: dma_addr_t): boolean {
  return dev._iommu || !dev.dma_coherent || !!M.swiotlb?.is_swiotlb_buffer(direct.dma_to_phys(dev, addr));
}

// ---- shared checks ---------------------------------------------------------------------------

// The BUG_ON(!valid_dma_direction(dir)) of each entry point in Linux 6.1's kernel/dma/mapping.c.
const MAPPING_C_BUG = { map: 'kernel/dma/mapping.c:150', unmap: 'kernel/dma/mapping.c:172', map_sg: 'kernel/dma/mapping.c:188',
  unmap_sg: 'kernel/dma/mapping.c:285', sync_cpu: 'kernel/dma/mapping.c:333', sync_dev: 'kernel/dma/mapping.c:347',
  sync_sg_cpu: 'kernel/dma/mapping.c:361', sync_sg_dev: 'kernel/dma/mapping.c:375', resource: 'kernel/dma/mapping.c:301' };

function check_dir(dir: number, where: keyof typeof MAPPING_C_BUG, site: Site): void {
  if (valid_dma_direction(dir)) return;
  kernel_bug('DMA_INVALID_DIRECTION', MAPPING_C_BUG[where], [
    `dmalab: BUG_ON(!valid_dma_direction(dir)): direction ${dir}${dir === 3 ? ' (DMA_NONE)' : ''} is not DMA_TO_DEVICE, DMA_FROM_DEVICE or DMA_BIDIRECTIONAL`,
  ], site);
}

/** The mask checks before a map or an allocation. The map paths WARN_ON_ONCE(!dev->dma_mask)
 *  and fail (a bare WARN: the note says what it means); allocations do not look at dma_mask. */
function mask_ok(dev: device, site: Site, what: string, maps = true): boolean {
  if (maps && dev.dma_mask === null) {
    M.diag.report('DMA_NO_MASK', [], {
      warn: warn_at(what === 'dma_map_sg' ? 'DMA_NO_MASK_SG' : what === 'dma_map_resource' ? 'DMA_NO_MASK_RESOURCE' : 'DMA_NO_MASK'),
      once: `nomask:${dev.id}`, sites: [['Called at', site]],
      notes: [`dmalab: ${dev_driver_string(dev)} ${dev_name(dev)}: ${what === 'dma_map' ? 'a DMA mapping' : `${what}()`} on a device without a DMA mask (dev->dma_mask is NULL): it fails`],
    });
    return false;
  }
  if (dev._mask_error) {
    M.diag.report('DMA_MASK_ERROR_IGNORED', [
      `dmalab: ${dev_driver_string(dev)} ${dev_name(dev)}: ${what} after dma_set_mask*() failed with ${dev._mask_error}`,
      'dmalab: "You must not use DMA on this device unless the dma_set_mask family of functions has returned success"',
    ], { once: `maskerr:${dev.id}`, sites: [['Called at', site]] });
  }
  return true;
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
  const e = M.dbg.map_page(dev, phys, size, dir, addr, attrs, site);
  if (addr !== DMA_MAPPING_ERROR) M.own.track(dev, phys, size, addr, dir, site, e);
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
  else if (phys + size - 1 > dev._dma_limit) {
    M.printk(3, `${dev_driver_string(dev)} ${dev_name(dev)}: DMA addr 0x${x016(phys)}+${size} overflow (mask ${dma_get_mask(dev).toString(16)}, bus limit 0).`);
    addr = DMA_MAPPING_ERROR;
  } else addr = phys;
  M.dbg.map_page(dev, phys, size, dir, addr, attrs, site, true);
  return addr;
}
export function dma_unmap_resource(dev: device, addr: dma_addr_t, size: number, dir: number, attrs: number): void {
  const site = take_site(dma_unmap_resource);
  check_dir(dir, 'resource', site);
  if (dev._iommu && addr !== DMA_MAPPING_ERROR) iommu.iommu_dma_unmap_range(dev, addr, size);
  M.dbg.unmap_page(dev, addr, size, dir, site, true);
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
  M.trace.emit(M.clock.now, to_cpu ? T.dma_sync_cpu : T.dma_sync_dev, dev.id, addr, size, 0, dir);
  const e = M.dbg.sync_single(dev, addr, size, dir, to_cpu, site);
  if (e !== NONE) M.own.sync(M.dbg.e_own[e]!, addr - M.dbg.e_addr[e]!, size, to_cpu);
  else {
    // dma-debug found no mapping holding the whole range (it has said so), but the sync still
    // did its work on the memory it covered: the part of a mapping it overlaps changes hands.
    const o = M.dbg.find_overlapping(dev, addr, size);
    if (o !== NONE) {
      const from = Math.max(addr, M.dbg.e_addr[o]!), to = Math.min(addr + size, M.dbg.e_addr[o]! + M.dbg.e_size[o]!);
      M.own.sync(M.dbg.e_own[o]!, from - M.dbg.e_addr[o]!, to - from, to_cpu);
    }
  }
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
  else {
    // dma_direct_map_sg(): each entry on its own, never merged; unwind on failure.
    ents = nents;
    for (let i = 0; i < nents; i++) {
      const s = segs[i]!;
      s.dma = direct.dma_direct_map_page(dev, s.phys, s.length, dir, attrs, site);
      s.dma_len = s.length;
      if (s.dma === DMA_MAPPING_ERROR) {
        for (let j = 0; j < i; j++) direct.dma_direct_unmap_page(dev, segs[j]!.dma, segs[j]!.length, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC);
        ents = -EIO;
        break;
      }
    }
  }
  if (ents <= 0) return ents;
  list.forEach((s, i) => { s.dma_address = segs[i]!.dma; s.dma_length = segs[i]!.dma_len; });
  M.trace.emit(M.clock.now, T.dma_map_sg, dev.id, nents, ents, segs[0]!.dma, dir);
  const entries = M.dbg.map_sg(dev, segs, nents, ents, dir, attrs, site);
  // Ownership: one record per list entry, attached to the DMA segment that carries it.
  let seg = 0, seg_off = 0;
  for (let i = 0; i < nents; i++) {
    const s = segs[i]!;
    let bus: number;
    if (dev._iommu) {
      while (seg + 1 < ents && seg_off >= segs[seg]!.dma_len) { seg++; seg_off = 0; }
      bus = segs[seg]!.dma + seg_off;
      seg_off += s.length;
    } else {
      seg = i;
      bus = s.dma;
    }
    M.own.track(dev, s.phys, s.length, bus, dir, site, entries[seg] ?? NONE);
  }
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
  if (dev._iommu) iommu.iommu_dma_unmap_sg(dev, segs, nents, dir, attrs);
  else for (const s of segs) if (s.dma_len && s.dma !== DMA_MAPPING_ERROR) direct.dma_direct_unmap_page(dev, s.dma, s.length, dir, attrs);
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
  M.trace.emit(M.clock.now, to_cpu ? T.dma_sync_sg_cpu : T.dma_sync_sg_dev, dev.id, nelems, 0, 0, dir);
  const entries = M.dbg.sync_sg(dev, segs, nelems, dir, to_cpu, site);
  for (const e of entries) for (const r of M.own.records_of_entry(e)) M.own.sync(r, 0, M.own.r_size[r]!, to_cpu);
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

// ---- coherent allocations --------------------------------------------------------------------

interface CoherentAlloc { dev: device; phys: number; order: number; vaddr: number; area: ReturnType<typeof M.mmu.map_area> | null; handle: number; size: number }
const coherent_allocs = new WeakMap<object, Map<number, CoherentAlloc>>();
function allocs_of(dev: device): Map<number, CoherentAlloc> {
  let m = coherent_allocs.get(dev);
  if (!m) { m = new Map(); coherent_allocs.set(dev, m); }
  return m;
}

/** dma_direct_alloc() / iommu_dma_alloc(): zeroed pages the device can reach, mapped for the
 *  CPU uncached on a non-coherent machine. */
function alloc_attrs(dev: device, size: number, handle: Ref<dma_addr_t>, gfp: number, attrs: number, site: Site): number {
  if (dev.coherent_dma_mask === 0n) {
    M.diag.report('DMA_NO_MASK', [], {
      warn: warn_at('NO_COHERENT_MASK'), once: `nocmask:${dev.id}`, sites: [['Allocated at', site]],
      notes: [`dmalab: ${dev_driver_string(dev)} ${dev_name(dev)}: dma_alloc_coherent() on a device without a coherent DMA mask`],
    });
  }
  mask_ok(dev, site, 'dma_alloc_coherent', false);
  might_alloc(gfp, site);
  if (M.faults.should_fail('dma_alloc', site)) return 0;
  const order = get_order(size);
  const limit = dev._iommu ? Number.MAX_SAFE_INTEGER : direct.dma_to_phys(dev, Math.min(dev._coherent_limit || 0xffffffff, Number.MAX_SAFE_INTEGER));
  // dma_direct_optimal_gfp_mask(), then retry lower zones until the pages fit the mask.
  const zones: number[] = [];
  if (limit < M.shape.zone_dma_end) zones.push(___GFP_DMA);
  else {
    if (limit < (M.shape.zone_dma32_end || M.shape.zone_dma_end) - 1) zones.push(___GFP_DMA32);
    else zones.push(0);
    zones.push(___GFP_DMA);
  }
  let pfn = -1;
  for (const z of zones) {
    pfn = M.pages.alloc((gfp & ~(___GFP_DMA | ___GFP_DMA32)) | z, order, PageKind.BUDDY, 0, site);
    if (pfn < 0) continue;
    if (dev._iommu || (pfn * PAGE_SIZE + (PAGE_SIZE << order) - 1 <= limit)) break;
    M.pages.free(pfn);
    pfn = -1;
  }
  if (pfn < 0) return 0;
  const phys = pfn * PAGE_SIZE;
  const len = PAGE_SIZE << order;
  let addr: number;
  if (dev._iommu) {
    addr = iommu.iommu_dma_map_range(dev, phys, len, IOMMU_READ | IOMMU_WRITE, dev._coherent_limit || 0xffffffff);
    if (addr === DMA_MAPPING_ERROR) { M.pages.free(pfn); return 0; }
  } else addr = direct.phys_to_dma(dev, phys);
  let vaddr: number, area = null;
  if (M.cache && !dev.dma_coherent) {
    // Non-coherent: clean the cacheable alias, then give the CPU an uncached mapping.
    direct.arch_dma_prep_coherent(phys, len);
    const pages = Array.from({ length: 1 << order }, (_, i) => phys + i * PAGE_SIZE);
    area = M.mmu.map_area(len, pages, PTE_UNCACHED, 'coherent', 0, site);
    vaddr = area.addr;
    kernel_zero_phys(phys, len, false);
  } else if (dev._iommu && gfp & ___GFP_DIRECT_RECLAIM) {
    // iommu_dma_alloc_remap() (drivers/iommu/dma-iommu.c): a sleeping allocation is pages
    // vmap()ed into the vmalloc area, even on a coherent x86 machine.
    const pages = Array.from({ length: 1 << order }, (_, i) => phys + i * PAGE_SIZE);
    area = M.mmu.map_area(len, pages, 0, 'coherent', 0, site);
    vaddr = area.addr;
    kernel_zero_phys(phys, len, true);
  } else {
    vaddr = M.mmu.phys_to_lm(phys);
    kernel_zero_phys(phys, len, true);
  }
  handle.value = addr;
  allocs_of(dev).set(addr, { dev, phys, order, vaddr, area, handle: addr, size });
  M.trace.emit(M.clock.now, T.dma_alloc, dev.id, addr, size, vaddr);
  M.dbg.alloc_coherent(dev, size, addr, phys, attrs, site);
  return vaddr;
}

/** The physical address debug.c derives from a coherent CPU address. */
function coherent_cpu_phys(v: number): number {
  const mmu = M.mmu;
  // vmalloc_to_pfn() of an address no longer mapped is 0: debug.c still checks the free.
  if (mmu.is_vmalloc(v)) return Math.max(0, mmu.translate(v));
  if (mmu.is_linear(v)) return mmu.lm_to_phys(v);
  return -1;
}

function free_attrs(dev: device, size: number, cpu_addr: number, handle: dma_addr_t, site: Site): void {
  if (M.sched.irqs_disabled()) {
    M.diag.report('DMA_FREE_IRQS_DISABLED', [], {
      warn: warn_at('FREE_IRQS_DISABLED'), sites: [['Freed at', site]],
      notes: [`dmalab: ${dev_driver_string(dev)} ${dev_name(dev)}: dma_free_coherent() with interrupts disabled (under spin_lock_irqsave()?): it may need to sleep or flush TLBs; free after unlocking`],
    });
  }
  if (!cpu_addr) return;
  const phys = coherent_cpu_phys(cpu_addr);
  if (phys >= 0) M.dbg.free_coherent(dev, size, phys, handle, site);
  const a = allocs_of(dev).get(handle);
  M.own.check_inflight(dev, handle, a ? a.size : size, site, 'dma_free_coherent()');
  M.trace.emit(M.clock.now, T.dma_free, dev.id, handle, size, cpu_addr);
  if (!a) return;
  // The kernel frees by the DMA handle (dma_direct_to_page); a wrong CPU address or size is
  // reported above, and here the allocation is freed as it was made.
  allocs_of(dev).delete(handle);
  M.own.note_freed(dev, handle, a.size, 0, site);
  if (dev._iommu) iommu.iommu_dma_unmap_range(dev, handle, PAGE_SIZE << a.order);
  if (a.area && M.mmu.is_vmalloc(cpu_addr) && cpu_addr % PAGE_SIZE !== 0) {
    // A remapped buffer is vunmap()ed by the CPU address it was freed with (__iommu_dma_free()
    // in drivers/iommu/dma-iommu.c, dma_direct_free() in kernel/dma/direct.c): __vunmap()
    // refuses one that is not page aligned (mm/vmalloc.c), the remap stays, and the pages are
    // freed under it.
    M.diag.report('VFREE_INVALID', [`Trying to vfree() bad address (${px(cpu_addr)})`],
      { warn: warn_at('VFREE_BAD_ADDRESS'), sites: [['Freed at', site]], distinct: true });
  } else if (a.area) M.mmu.unmap_area(a.area);
  M.pages.free(a.phys / PAGE_SIZE);
}

/** For the sim's own callers (dma pools): allocate / free with a given call site. */
export function alloc_coherent_site(dev: device, size: number, handle: Ref<dma_addr_t>, gfp: number, site: Site): number {
  return alloc_attrs(dev, size, handle, gfp, 0, site);
}
export function free_coherent_site(dev: device, size: number, cpu_addr: number, handle: dma_addr_t, site: Site): void {
  free_attrs(dev, size, cpu_addr, handle, site);
}

export function dma_alloc_attrs(dev: device, size: number, handle: Ref<dma_addr_t>, gfp: number, attrs: number): number {
  return alloc_attrs(dev, size, handle, gfp, attrs, take_site(dma_alloc_attrs));
}
export function dma_alloc_coherent(dev: device, size: number, handle: Ref<dma_addr_t>, gfp: number): number {
  check_int('dma_alloc_coherent', 'size', size, LEN);
  return alloc_attrs(dev, size, handle, gfp, 0, take_site(dma_alloc_coherent));
}
export function dma_free_attrs(dev: device, size: number, cpu_addr: number, handle: dma_addr_t, attrs: number): void {
  free_attrs(dev, size, cpu_addr, handle, take_site(dma_free_attrs));
  void attrs;
}
export function dma_free_coherent(dev: device, size: number, cpu_addr: number, handle: dma_addr_t): void {
  check_addr_len('dma_free_coherent', 'cpu_addr', cpu_addr, ADDR, 'size', size);
  free_attrs(dev, size, cpu_addr, handle, take_site(dma_free_coherent));
}

/** dmam_alloc_coherent(): freed automatically when the driver is unbound. */
export function dmam_alloc_coherent(dev: device, size: number, handle: Ref<dma_addr_t>, gfp: number): number {
  const site = take_site(dmam_alloc_coherent);
  const v = alloc_attrs(dev, size, handle, gfp, 0, site);
  if (v) {
    const h = handle.value;
    devres_add(dev, 'dmam_alloc_coherent', () => free_attrs(dev, size, v, h, site), `dmam:${v}`);
  }
  return v;
}
export function dmam_free_coherent(dev: device, size: number, vaddr: number, handle: dma_addr_t): void {
  const site = take_site(dmam_free_coherent);
  if (!devres_release(dev, `dmam:${vaddr}`)) {
    M.diag.report('DMAM_FREE_NOT_MANAGED', [], {
      warn: warn_at('DMAM_FREE'), sites: [['Freed at', site]],
      notes: [`dmalab: ${dev_driver_string(dev)} ${dev_name(dev)}: dmam_free_coherent() of ${px(vaddr)}, which dmam_alloc_coherent() did not allocate (use dma_free_coherent() for it)`],
    });
    free_attrs(dev, size, vaddr, handle, site);
  }
}

// ---- non-coherent allocations ---------------------------------------------------------------

/** dma_alloc_noncoherent(): cacheable memory the driver must sync like a streaming mapping.
 *  It starts out owned by the CPU. */
export function dma_alloc_noncoherent(dev: device, size: number, handle: Ref<dma_addr_t>, dir: number, gfp: number): number {
  const site = take_site(dma_alloc_noncoherent);
  check_dir(dir, 'map', site);
  mask_ok(dev, site, 'dma_alloc_noncoherent', false);
  might_alloc(gfp, site);
  if (M.faults.should_fail('dma_alloc', site)) return 0;
  const order = get_order(size);
  const pfn = M.pages.alloc(gfp | (dev._iommu ? 0 : ___GFP_DMA32), order, PageKind.BUDDY, 0, site);
  if (pfn < 0) return 0;
  const phys = pfn * PAGE_SIZE;
  const addr = dev._iommu ? iommu.iommu_dma_map_range(dev, phys, PAGE_SIZE << order, iommu.dma_info_to_prot(dir), dev._dma_limit) : direct.phys_to_dma(dev, phys);
  if (addr === DMA_MAPPING_ERROR || (!dev._iommu && !direct.dma_capable(dev, addr, size))) { M.pages.free(pfn); return 0; }
  handle.value = addr;
  const e = M.dbg.alloc_coherent(dev, size, addr, phys, 0, site, dir);
  const r = M.own.track(dev, phys, size, addr, dir, site, e);
  M.own.sync(r, 0, size, true);
  allocs_of(dev).set(addr, { dev, phys, order, vaddr: M.mmu.phys_to_lm(phys), area: null, handle: addr, size });
  return M.mmu.phys_to_lm(phys);
}
export function dma_free_noncoherent(dev: device, size: number, vaddr: number, handle: dma_addr_t, dir: number): void {
  const site = take_site(dma_free_noncoherent);
  M.own.check_inflight(dev, handle, size, site, 'dma_free_noncoherent()');
  M.dbg.free_coherent(dev, size, M.mmu.is_linear(vaddr) ? M.mmu.lm_to_phys(vaddr) : -1, handle, site, dir);
  const a = allocs_of(dev).get(handle);
  if (!a) return;
  allocs_of(dev).delete(handle);
  if (dev._iommu) iommu.iommu_dma_unmap_range(dev, handle, PAGE_SIZE << a.order);
  M.pages.free(a.phys / PAGE_SIZE);
}

export { DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL, DIR_NAME, IOMMU_WRITE, ___GFP_ZERO, ___GFP_DIRECT_RECLAIM, DT };
