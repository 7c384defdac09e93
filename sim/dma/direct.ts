// dma-direct (kernel/dma/direct.c, direct.h): no IOMMU; a bus address is the physical address
// plus the host bridge's offset. Buffers the device cannot reach go through swiotlb if the
// machine has it, else the mapping fails with the kernel's overflow warning. On non-coherent
// machines the arch cache maintenance of arch/arm64/mm/dma-mapping.c runs at map/sync/unmap.
import { M } from '../kernel/machine.ts';
import type { Site } from '../kernel/site.ts';
import { pa, llx, px, x016 } from '../lib/vsprintf.ts';
import { dev_driver_string, dev_name, type device } from '../base/device.ts';
import { PAGE_SIZE, PageKind, ___GFP_DMA, ___GFP_DMA32 } from '../mm/page_alloc.ts';
import { PTE_UNCACHED } from '../mm/memory.ts';
import { kernel_zero_phys } from '../mm/access.ts';
import { DMA_ATTR_SKIP_CPU_SYNC, DMA_MAPPING_ERROR, DMA_TO_DEVICE, DMA_FROM_DEVICE } from './types.ts';
import { warn_at } from './warn-sites.ts';
import { swiotlb_map } from './swiotlb.ts';

/** A coherent allocation as a backend made it: its pages, the CPU's view, the bus address. */
export interface CoherentPages { phys: number; order: number; vaddr: number; area: ReturnType<typeof M.mmu.map_area> | null; addr: number }

export function dev_is_dma_coherent(dev: device): boolean {
  return dev.dma_coherent;
}
export function phys_to_dma(_dev: device, phys: number): number {
  return phys + M.shape.bus_offset;
}
export function dma_to_phys(_dev: device, addr: number): number {
  return addr - M.shape.bus_offset;
}

/** dma_capable(): does [addr, addr+size) fit under the device's mask (and bus limit)? */
export function dma_capable(dev: device, addr: number, size: number): boolean {
  if (addr === DMA_MAPPING_ERROR || addr < 0) return false;
  return addr + size - 1 <= dev._dma_limit;
}

// ---- arch/arm64/mm/dma-mapping.c: cache maintenance for non-coherent devices --------------

/** Before the device looks: clean (write back) the lines, for every direction (arm64 since
 *  "Don't invalidate FROM_DEVICE buffers at start of DMA transfer"). */
export function arch_sync_dma_for_device(phys: number, size: number, _dir: number): void {
  if (M.cache && M.ram.contains(phys, size)) M.cache.clean(phys, size);
}
/** Before the CPU looks again: invalidate, unless the device only read the buffer. */
export function arch_sync_dma_for_cpu(phys: number, size: number, dir: number): void {
  if (dir === DMA_TO_DEVICE) return;
  if (M.cache && M.ram.contains(phys, size)) M.cache.invalidate(phys, size);
}
/** arch_dma_prep_coherent(): clean the kernel's cacheable alias of a coherent buffer. */
export function arch_dma_prep_coherent(phys: number, size: number): void {
  if (M.cache) M.cache.clean_invalidate(phys, size);
}

/** dma_direct_map_page(). */
export function dma_direct_map_page(dev: device, phys: number, size: number, dir: number, attrs: number, site: Site): number {
  const addr = phys_to_dma(dev, phys);
  const sw = M.swiotlb;
  if (sw && sw.force) return swiotlb_map(dev, phys, size, dir, attrs, site);
  if (!dma_capable(dev, addr, size)) {
    if (sw) return swiotlb_map(dev, phys, size, dir, attrs, site);
    const mask = dev.dma_mask ?? 0n;
    // dev_WARN_ONCE(): once per boot for the call site, whatever the device.
    M.diag.report('DMA_ADDR_OVERFLOW', [
      `${dev_driver_string(dev)} ${dev_name(dev)}: DMA addr ${pa(addr)}+${size} overflow (mask ${llx(mask)}, bus limit 0).`,
    ], { warn: warn_at('DIRECT_OVERFLOW'), once: 'dma-direct-overflow', sites: [['Mapped at', site]] });
    return DMA_MAPPING_ERROR;
  }
  if (!dev_is_dma_coherent(dev) && !(attrs & DMA_ATTR_SKIP_CPU_SYNC)) arch_sync_dma_for_device(phys, size, dir);
  return addr;
}

export function dma_direct_sync_single_for_cpu(dev: device, addr: number, size: number, dir: number): void {
  const phys = dma_to_phys(dev, addr);
  if (!dev_is_dma_coherent(dev)) arch_sync_dma_for_cpu(phys, size, dir);
  if (M.swiotlb?.is_swiotlb_buffer(phys)) M.swiotlb.sync_single_for_cpu(dev, phys, size, dir);
}

export function dma_direct_sync_single_for_device(dev: device, addr: number, size: number, dir: number): void {
  const phys = dma_to_phys(dev, addr);
  if (M.swiotlb?.is_swiotlb_buffer(phys)) M.swiotlb.sync_single_for_device(dev, phys, size, dir);
  if (!dev_is_dma_coherent(dev)) arch_sync_dma_for_device(phys, size, dir);
}

export function dma_direct_unmap_page(dev: device, addr: number, size: number, dir: number, attrs: number): void {
  const phys = dma_to_phys(dev, addr);
  if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC)) dma_direct_sync_single_for_cpu(dev, addr, size, dir);
  if (M.swiotlb?.is_swiotlb_buffer(phys)) M.swiotlb.tbl_unmap_single(dev, phys, size, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC);
}

/** dma_direct_map_sg(): each entry on its own, never merged; unwind on failure. Returns the
 *  number of DMA segments, or -EIO (5). */
export function dma_direct_map_sg(dev: device, segs: { phys: number; length: number; dma: number; dma_len: number }[], nents: number, dir: number, attrs: number, site: Site): number {
  for (let i = 0; i < nents; i++) {
    const s = segs[i]!;
    s.dma = dma_direct_map_page(dev, s.phys, s.length, dir, attrs, site);
    s.dma_len = s.length;
    if (s.dma === DMA_MAPPING_ERROR) {
      for (let j = 0; j < i; j++) dma_direct_unmap_page(dev, segs[j]!.dma, segs[j]!.length, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC);
      return -5;
    }
  }
  return nents;
}

export function dma_direct_unmap_sg(dev: device, segs: { length: number; dma: number; dma_len: number }[], dir: number, attrs: number): void {
  for (const s of segs) if (s.dma_len && s.dma !== DMA_MAPPING_ERROR) dma_direct_unmap_page(dev, s.dma, s.length, dir, attrs);
}

/** dma_direct_map_resource(): the bus sees another device's registers at their physical
 *  address; beyond the mask it fails, with the kernel's line. */
export function dma_direct_map_resource(dev: device, phys: number, size: number, mask: bigint): number {
  if (phys + size - 1 <= dev._dma_limit) return phys;
  M.printk(3, `${dev_driver_string(dev)} ${dev_name(dev)}: DMA addr 0x${x016(phys)}+${size} overflow (mask ${mask.toString(16)}, bus limit 0).`);
  return DMA_MAPPING_ERROR;
}

/** __dma_direct_alloc_pages(): the zone the coherent mask asks for (dma_direct_optimal_gfp_mask),
 *  then lower zones until the pages fit under it; `limit` -1: any zone (an IOMMU maps them). */
export function dma_direct_alloc_pages(dev: device, order: number, gfp: number, site: Site, any_zone: boolean): number {
  const limit = any_zone ? Number.MAX_SAFE_INTEGER : dma_to_phys(dev, Math.min(dev._coherent_limit || 0xffffffff, Number.MAX_SAFE_INTEGER));
  const zones: number[] = [];
  if (limit < M.shape.zone_dma_end) zones.push(___GFP_DMA);
  else {
    if (limit < (M.shape.zone_dma32_end || M.shape.zone_dma_end) - 1) zones.push(___GFP_DMA32);
    else zones.push(0);
    zones.push(___GFP_DMA);
  }
  for (const z of zones) {
    const pfn = M.pages.alloc((gfp & ~(___GFP_DMA | ___GFP_DMA32)) | z, order, PageKind.BUDDY, 0, site);
    if (pfn < 0) continue;
    if (any_zone || (pfn * PAGE_SIZE + (PAGE_SIZE << order) - 1 <= limit)) return pfn;
    M.pages.free(pfn);
  }
  return -1;
}

/** dma_common_contiguous_remap() (kernel/dma/remap.c): the pages vmap()ed, with `prot`. */
export function dma_common_contiguous_remap(phys: number, order: number, prot: number, site: Site): ReturnType<typeof M.mmu.map_area> {
  const pages = Array.from({ length: 1 << order }, (_, i) => phys + i * PAGE_SIZE);
  return M.mmu.map_area(PAGE_SIZE << order, pages, prot, 'coherent', 0, site);
}

/** The CPU's view of coherent pages: on a non-coherent machine an uncached remap of them (the
 *  cacheable alias cleaned first), else the linear map; zeroed either way. */
export function coherent_cpu_view(dev: device, phys: number, order: number, site: Site): Pick<CoherentPages, 'vaddr' | 'area'> {
  const len = PAGE_SIZE << order;
  if (M.cache && !dev.dma_coherent) {
    arch_dma_prep_coherent(phys, len);
    const area = dma_common_contiguous_remap(phys, order, PTE_UNCACHED, site);
    kernel_zero_phys(phys, len, false);
    M.order?.mark(phys, len, true);
    return { vaddr: area.addr, area };
  }
  kernel_zero_phys(phys, len, true);
  return { vaddr: M.mmu.phys_to_lm(phys), area: null };
}

/** dma_direct_alloc(): zeroed pages under the coherent mask; null when there are none. */
export function dma_direct_alloc(dev: device, order: number, gfp: number, site: Site): CoherentPages | null {
  const pfn = dma_direct_alloc_pages(dev, order, gfp, site, false);
  if (pfn < 0) return null;
  const phys = pfn * PAGE_SIZE;
  return { phys, order, addr: phys_to_dma(dev, phys), ...coherent_cpu_view(dev, phys, order, site) };
}

/** dma_direct_free() / the end of iommu_dma_free(): the CPU mapping goes, then the pages. A
 *  remapped buffer is vunmap()ed by the CPU address it was freed with (__iommu_dma_free() in
 *  drivers/iommu/dma-iommu.c, dma_direct_free() in kernel/dma/direct.c): __vunmap() refuses
 *  one that is not page aligned (mm/vmalloc.c), the remap stays, and the pages are freed under
 *  it. */
export function dma_direct_free(a: CoherentPages, cpu_addr: number, site: Site): void {
  if (a.area && M.mmu.is_vmalloc(cpu_addr) && cpu_addr % PAGE_SIZE !== 0) {
    M.diag.report('VFREE_INVALID', [`Trying to vfree() bad address (${px(cpu_addr)})`],
      { warn: warn_at('VFREE_BAD_ADDRESS'), sites: [['Freed at', site]], distinct: true });
  } else if (a.area) M.mmu.unmap_area(a.area);
  if (a.area) M.order?.mark(a.phys, PAGE_SIZE << a.order, false);
  M.pages.free(a.phys / PAGE_SIZE);
}

/** dma_direct_alloc_noncoherent() (dma_alloc_pages() without an IOMMU): cacheable pages the
 *  device can reach; null when there are none. */
export function dma_direct_alloc_noncoherent(dev: device, size: number, order: number, gfp: number, site: Site): { phys: number; addr: number } | null {
  const pfn = M.pages.alloc(gfp | ___GFP_DMA32, order, PageKind.BUDDY, 0, site);
  if (pfn < 0) return null;
  const phys = pfn * PAGE_SIZE, addr = phys_to_dma(dev, phys);
  if (!dma_capable(dev, addr, size)) { M.pages.free(pfn); return null; }
  return { phys, addr };
}

/** dma_direct_supported(): masks of 32 bits or more always; smaller ones must cover the DMA
 *  zone (or all of RAM if that is smaller). */
export function dma_direct_supported(dev: device, mask: bigint): boolean {
  if (mask >= 0xffffffffn) return true;
  const last_ram = M.shape.ram_base + M.shape.ram_size - 4096;
  const zone_top = M.shape.zone_dma_end - 1;
  const min_mask = Math.min(last_ram, zone_top);
  return mask >= BigInt(phys_to_dma(dev, min_mask));
}

export { DMA_FROM_DEVICE };
