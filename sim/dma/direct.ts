// dma-direct (kernel/dma/direct.c, direct.h): no IOMMU; a bus address is the physical address
// plus the host bridge's offset. Buffers the device cannot reach go through swiotlb if the
// machine has it, else the mapping fails with the kernel's overflow warning. On non-coherent
// machines the arch cache maintenance of arch/arm64/mm/dma-mapping.c runs at map/sync/unmap.
import { M } from '../kernel/machine.ts';
import type { Site } from '../kernel/site.ts';
import { pa, llx } from '../lib/vsprintf.ts';
import { dev_driver_string, dev_name, type device } from '../base/device.ts';
import { DMA_ATTR_SKIP_CPU_SYNC, DMA_MAPPING_ERROR, DMA_TO_DEVICE, DMA_FROM_DEVICE } from './types.ts';
import { warn_at } from './warn-sites.ts';
import { swiotlb_map } from './swiotlb.ts';

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
