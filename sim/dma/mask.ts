// DMA masks (kernel/dma/mapping.c's dma_set_mask() and dma_supported(), include/linux/
// dma-mapping.h's inlines): what a device can address, and the checks every map and allocation
// makes of it before it runs.
import { M } from '../kernel/machine.ts';
import { take_site, type Site } from '../kernel/site.ts';
import { EIO } from '../kernel/errno.ts';
import { dev_driver_string, dev_name, type device } from '../base/device.ts';
import { mask_limit, type dma_addr_t } from './types.ts';
import { warn_at } from './warn-sites.ts';
import * as direct from './direct.ts';

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

/** The mask checks before a map or an allocation. The map paths WARN_ON_ONCE(!dev->dma_mask)
 *  and fail (a bare WARN: the note says what it means); allocations do not look at dma_mask. */
export function mask_ok(dev: device, site: Site, what: string, maps = true): boolean {
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
