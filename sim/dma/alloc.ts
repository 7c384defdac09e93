// Coherent and non-coherent allocations (kernel/dma/mapping.c's dma_alloc_attrs() and
// dma_alloc_noncoherent() halves, dmam_* from the same file): entry points that check their
// arguments, dispatch to dma-direct or dma-iommu, and call the checker's hooks.
import { M } from '../kernel/machine.ts';
import { take_site, type Site } from '../kernel/site.ts';
import { T } from '../kernel/trace.ts';
import { px } from '../lib/vsprintf.ts';
import type { Ref } from '../lib/ref.ts';
import { dev_driver_string, dev_name, type device } from '../base/device.ts';
import { devres_add, devres_release } from '../base/devres.ts';
import { PAGE_SIZE } from '../mm/page_alloc.ts';
import { get_order, might_alloc } from '../mm/mm_api.ts';
import { DMA_BIDIRECTIONAL, type dma_addr_t } from './types.ts';
import { warn_at } from './warn-sites.ts';
import { DT } from './debug.ts';
import { mask_ok } from './mask.ts';
import { check_dir } from './mapping.ts';
import * as direct from './direct.ts';
import * as iommu from './iommu.ts';
import { check_int, check_addr_len, ADDR, LEN } from '../kernel/die.ts';

// ---- coherent allocations --------------------------------------------------------------------

/** Live coherent and non-coherent allocations of a device, by handle: freed as they were made
 *  (the kernel finds the pages by the handle; a wrong CPU address or size is reported). */
type CoherentAlloc = direct.CoherentPages & { size: number };
const coherent_allocs = new WeakMap<object, Map<number, CoherentAlloc>>();
function allocs_of(dev: device): Map<number, CoherentAlloc> {
  let m = coherent_allocs.get(dev);
  if (!m) { m = new Map(); coherent_allocs.set(dev, m); }
  return m;
}

/** dma_alloc_attrs(): zeroed pages the device can reach, from dma-direct or dma-iommu. */
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
  const a = dev._iommu ? iommu.iommu_dma_alloc(dev, order, gfp, site) : direct.dma_direct_alloc(dev, order, gfp, site);
  if (!a) return 0;
  handle.value = a.addr;
  allocs_of(dev).set(a.addr, { ...a, size });
  M.trace.emit(M.clock.now, T.dma_alloc, dev.id, a.addr, size, a.vaddr);
  M.dbg.alloc_coherent(dev, size, a.addr, a.phys, attrs, site);
  M.own.track(dev, a.phys, size, a.addr, DMA_BIDIRECTIONAL, site, DT.coherent);
  return a.vaddr;
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
  allocs_of(dev).delete(handle);
  M.own.untrack(dev, handle, a.size, DT.coherent, site);
  if (dev._iommu) iommu.iommu_dma_free(dev, a, cpu_addr, site);
  else direct.dma_direct_free(a, cpu_addr, site);
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
  const p = dev._iommu ? iommu.iommu_dma_alloc_noncoherent(dev, order, dir, gfp, site) : direct.dma_direct_alloc_noncoherent(dev, size, order, gfp, site);
  if (!p) return 0;
  const { phys, addr } = p;
  handle.value = addr;
  M.dbg.alloc_coherent(dev, size, addr, phys, 0, site, dir);
  const r = M.own.track(dev, phys, size, addr, dir, site, DT.noncoherent);
  M.own.sync(r, 0, size, true);
  allocs_of(dev).set(addr, { phys, order, vaddr: M.mmu.phys_to_lm(phys), area: null, addr, size });
  return M.mmu.phys_to_lm(phys);
}
export function dma_free_noncoherent(dev: device, size: number, vaddr: number, handle: dma_addr_t, dir: number): void {
  const site = take_site(dma_free_noncoherent);
  M.own.check_inflight(dev, handle, size, site, 'dma_free_noncoherent()');
  M.dbg.free_coherent(dev, size, M.mmu.is_linear(vaddr) ? M.mmu.lm_to_phys(vaddr) : -1, handle, site, dir);
  M.own.untrack(dev, handle, size, DT.noncoherent, site);
  const a = allocs_of(dev).get(handle);
  if (!a) return;
  allocs_of(dev).delete(handle);
  if (dev._iommu) iommu.iommu_dma_unmap_range(dev, handle, PAGE_SIZE << a.order);
  M.pages.free(a.phys / PAGE_SIZE);
}
