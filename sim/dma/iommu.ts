// dma-iommu (drivers/iommu/dma-iommu.c, 6.1): with an IOMMU the DMA address is an IOVA. Each
// mapping gets IOVA space below the device's mask and page-table entries with the permission
// its direction implies (TO_DEVICE read-only, FROM_DEVICE write-only); a scatterlist gets one
// contiguous IOVA range, and page-aligned pieces merge into fewer DMA segments.
import { M } from '../kernel/machine.ts';
import { dev_driver_string, dev_name, type device } from '../base/device.ts';
import type { Site } from '../kernel/site.ts';
import { warn_at } from './warn-sites.ts';
import { IOMMU_READ, IOMMU_WRITE } from '../hw/iommu.ts';
import { IovaDomain } from './iova.ts';
import { DMA_ATTR_SKIP_CPU_SYNC, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE } from './types.ts';
import { arch_sync_dma_for_cpu, arch_sync_dma_for_device, dev_is_dma_coherent, dma_direct_alloc_pages,
  dma_common_contiguous_remap, coherent_cpu_view, dma_direct_free, type CoherentPages } from './direct.ts';
import { kernel_zero_phys } from '../mm/access.ts';
import { PageKind, ___GFP_DIRECT_RECLAIM } from '../mm/page_alloc.ts';

const G = 4096;
const domains = new WeakMap<device, IovaDomain>();

function domain(dev: device): IovaDomain {
  let d = domains.get(dev);
  if (!d) {
    d = new IovaDomain(G);
    domains.set(dev, d);
  }
  return d;
}

export function dma_info_to_prot(dir: number): number {
  return dir === DMA_TO_DEVICE ? IOMMU_READ : dir === DMA_FROM_DEVICE ? IOMMU_WRITE : dir === DMA_BIDIRECTIONAL ? IOMMU_READ | IOMMU_WRITE : 0;
}

/** iommu_dma_alloc_iova(): PCI devices with masks above 32 bits try below 4 GiB first. */
function alloc_iova(dev: device, size: number, limit: number): number {
  const d = domain(dev);
  const npages = size / G;
  // Fault injection: an IOVA space this small is exhausted quickly.
  if (M.faults.iova_pages && d.pages_in_use() + npages > M.faults.iova_pages) return 0;
  let pfn = -1;
  if (limit > 0xffffffff) pfn = d.alloc(npages, Math.floor(0xffffffff / G), M.clock.now);
  if (pfn < 0) pfn = d.alloc(npages, Math.floor(Math.min(limit, 2 ** 48 - 1) / G), M.clock.now);
  return pfn < 0 ? 0 : pfn * G;
}

/** __iommu_dma_map(): map [phys, phys+size) somewhere below `limit`; DMA_MAPPING_ERROR if full. */
export function iommu_dma_map_range(dev: device, phys: number, size: number, prot: number, limit: number): number {
  const off = phys % G;
  const len = Math.ceil((size + off) / G) * G;
  const iova = alloc_iova(dev, len, limit);
  if (!iova) return DMA_MAPPING_ERROR;
  M.iommu!.map(dev, iova, phys - off, len, prot);
  return iova + off;
}

/** __iommu_dma_unmap(): remove the page-table entries, free the IOVA (lazily). */
export function iommu_dma_unmap_range(dev: device, addr: number, size: number): void {
  const off = addr % G;
  const start = addr - off;
  const len = Math.ceil((size + off) / G) * G;
  M.iommu!.unmap(dev, start, len);
  domain(dev).free(start / G, M.clock.now);
}

export function iommu_dma_map_page(dev: device, phys: number, size: number, dir: number, attrs: number): number {
  if (!dev_is_dma_coherent(dev) && !(attrs & DMA_ATTR_SKIP_CPU_SYNC)) arch_sync_dma_for_device(phys, size, dir);
  return iommu_dma_map_range(dev, phys, size, dma_info_to_prot(dir), dev._dma_limit);
}

export function iommu_dma_unmap_page(dev: device, addr: number, size: number, dir: number, attrs: number, site?: Site): void {
  const m = addr === DMA_MAPPING_ERROR ? null : M.iommu!.lookup(dev, addr);
  if (!m) {
    // WARN_ON(!phys): a bare warning, no message line, before dma-debug's own report.
    M.diag.report('IOMMU_UNMAP_NOT_MAPPED', [], {
      warn: warn_at('IOMMU_UNMAP_UNMAPPED'), sites: site ? [['Unmapped at', site]] : [],
      notes: [addr === DMA_MAPPING_ERROR
        ? `dmalab: ${dev_driver_string(dev)} ${dev_name(dev)}: unmapping DMA_MAPPING_ERROR: that mapping failed (check dma_mapping_error() before using or unmapping a handle)`
        : `dmalab: ${dev_driver_string(dev)} ${dev_name(dev)}: the IOMMU maps nothing at IOVA 0x${addr.toString(16)}: unmapped twice, or never mapped`],
    });
    return;
  }
  if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC) && !dev_is_dma_coherent(dev)) arch_sync_dma_for_cpu(m.phys, size, dir);
  iommu_dma_unmap_range(dev, addr, size);
}

export function iommu_dma_sync_single_for_cpu(dev: device, addr: number, size: number, dir: number): void {
  if (dev_is_dma_coherent(dev)) return;
  const m = M.iommu!.lookup(dev, addr);
  if (m) arch_sync_dma_for_cpu(m.phys, size, dir);
}

export function iommu_dma_sync_single_for_device(dev: device, addr: number, size: number, dir: number): void {
  if (dev_is_dma_coherent(dev)) return;
  const m = M.iommu!.lookup(dev, addr);
  if (m) arch_sync_dma_for_device(m.phys, size, dir);
}

/** One scatterlist entry as dma-iommu sees it. */
export interface SgSeg { phys: number; length: number; dma: number; dma_len: number }

/** iommu_dma_map_sg() + __finalise_sg(): one IOVA range for the list, then merge segments
 *  that start on a page boundary into the previous output segment (up to max_seg_size).
 *  Fills segs[i].dma / dma_len for the output segments; returns their count (0 on failure). */
export function iommu_dma_map_sg(dev: device, segs: SgSeg[], nents: number, dir: number, attrs: number): number {
  const coherent = dev_is_dma_coherent(dev);
  if (!coherent && !(attrs & DMA_ATTR_SKIP_CPU_SYNC)) for (let i = 0; i < nents; i++) arch_sync_dma_for_device(segs[i]!.phys, segs[i]!.length, dir);
  const mask = dev.dma_parms ? dev.dma_parms.segment_boundary_mask : Number.MAX_SAFE_INTEGER;
  const iova_len_of: number[] = [];
  let total = 0;
  for (let i = 0; i < nents; i++) {
    const s = segs[i]!;
    const off = s.phys % G;
    let len = Math.ceil((s.length + off) / G) * G;
    // (mask - iova_len + 1) & mask in unsigned arithmetic: the padding to the next boundary
    const pad = mask < Number.MAX_SAFE_INTEGER ? (mask + 1 - (total % (mask + 1))) % (mask + 1) : 0;
    if (pad && pad < len - 1 && i > 0) { iova_len_of[i - 1]! += pad; total += pad; }
    iova_len_of.push(len);
    total += len;
    void len;
  }
  const iova = alloc_iova(dev, total, dev._dma_limit);
  if (!iova) return 0;
  const prot = dma_info_to_prot(dir);
  let at = iova;
  for (let i = 0; i < nents; i++) {
    const s = segs[i]!;
    const off = s.phys % G;
    M.iommu!.map(dev, at, s.phys - off, Math.ceil((s.length + off) / G) * G, prot);
    at += iova_len_of[i]!;
  }
  // __finalise_sg
  const max_len = dev.dma_parms ? dev.dma_parms.max_segment_size : 65536;
  let dma_addr = iova, cur = -1, cur_len = 0, count = 0;
  const out: { dma: number; len: number }[] = [];
  for (let i = 0; i < nents; i++) {
    const s = segs[i]!;
    const s_off = s.phys % G;
    const s_len = s.length;
    const s_iova_len = iova_len_of[i]!;
    if (cur_len && !s_off && dma_addr % (mask + 1 || Number.MAX_SAFE_INTEGER) !== 0 && max_len - cur_len >= s_len) {
      cur_len += s_len;
    } else {
      cur = count++;
      cur_len = s_len;
      out[cur] = { dma: dma_addr + s_off, len: 0 };
    }
    out[cur]!.len = cur_len;
    dma_addr += s_iova_len;
    if (s_len + s_off < s_iova_len) cur_len = 0;
  }
  for (let i = 0; i < nents; i++) {
    segs[i]!.dma = i < count ? out[i]!.dma : DMA_MAPPING_ERROR;
    segs[i]!.dma_len = i < count ? out[i]!.len : 0;
  }
  (segs as SgSeg[] & { _iova?: number; _iova_len?: number })._iova = iova;
  return count;
}

/** iommu_dma_unmap_sg(): sync each original entry for the CPU, then unmap the one range from the
 *  first DMA address to the end of the last non-empty segment. */
export function iommu_dma_unmap_sg(dev: device, segs: SgSeg[], nents: number, dir: number, attrs: number): void {
  if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC) && !dev_is_dma_coherent(dev)) for (let i = 0; i < nents; i++) arch_sync_dma_for_cpu(segs[i]!.phys, segs[i]!.length, dir);
  const start = segs[0]?.dma;
  if (start === undefined || start === DMA_MAPPING_ERROR) return;
  let end = start;
  for (let i = 0; i < nents; i++) {
    if (!segs[i]!.dma_len) break;
    end = segs[i]!.dma + segs[i]!.dma_len;
  }
  iommu_dma_unmap_range(dev, start, end - start);
}

export function iommu_dma_sync_sg(dev: device, segs: SgSeg[], nents: number, dir: number, to_cpu: boolean): void {
  if (dev_is_dma_coherent(dev)) return;
  for (let i = 0; i < nents; i++) (to_cpu ? arch_sync_dma_for_cpu : arch_sync_dma_for_device)(segs[i]!.phys, segs[i]!.length, dir);
}

/** iommu_dma_alloc(): pages from any zone, mapped at an IOVA under the coherent mask. A
 *  sleeping allocation is pages vmap()ed into the vmalloc area (iommu_dma_alloc_remap()), even
 *  on a coherent x86 machine. */
export function iommu_dma_alloc(dev: device, order: number, gfp: number, site: Site): CoherentPages | null {
  const pfn = dma_direct_alloc_pages(dev, order, gfp, site, true);
  if (pfn < 0) return null;
  const phys = pfn * G, len = G << order;
  const addr = iommu_dma_map_range(dev, phys, len, IOMMU_READ | IOMMU_WRITE, dev._coherent_limit || 0xffffffff);
  if (addr === DMA_MAPPING_ERROR) { M.pages.free(pfn); return null; }
  if ((!M.cache || dev.dma_coherent) && gfp & ___GFP_DIRECT_RECLAIM) {
    const area = dma_common_contiguous_remap(phys, order, 0, site);
    kernel_zero_phys(phys, len, true);
    return { phys, order, addr, vaddr: area.addr, area };
  }
  return { phys, order, addr, ...coherent_cpu_view(dev, phys, order, site) };
}

/** iommu_dma_free(): the IOVA range goes, then the CPU mapping and the pages. */
export function iommu_dma_free(dev: device, a: CoherentPages, cpu_addr: number, site: Site): void {
  iommu_dma_unmap_range(dev, a.addr, G << a.order);
  dma_direct_free(a, cpu_addr, site);
}

/** dma_alloc_pages() behind an IOMMU: cacheable pages at an IOVA with the direction's rights. */
export function iommu_dma_alloc_noncoherent(dev: device, order: number, dir: number, gfp: number, site: Site): { phys: number; addr: number } | null {
  const pfn = M.pages.alloc(gfp, order, PageKind.BUDDY, 0, site);
  if (pfn < 0) return null;
  const phys = pfn * G;
  const addr = iommu_dma_map_range(dev, phys, G << order, dma_info_to_prot(dir), dev._dma_limit);
  if (addr === DMA_MAPPING_ERROR) { M.pages.free(pfn); return null; }
  return { phys, addr };
}
