// dma_map_single() of a loadable module's static data (C-M1 and what follows it), as 6.1 does it
// on each architecture. Module memory is neither the linear map nor vmalloc, so the vmalloc
// refusal does not catch it and dma-debug says "maps memory from invalid area"; then
// virt_to_page() makes a struct page that does not exist:
//  - x86-64 (the rig, tools/kernel-rig-cases/map-module-static, docs/kernel-6.1-measured.md
//    §C-M1): __pa() of a module address lies above RAM, whose section has no mem_map, so reading
//    page->flags faults at pfn * sizeof(struct page) (56 bytes on the rig's kernel): an oops in
//    dma_map_page_attrs (iommu_dma_map_page with the IOMMU), then the panic.
//  - arm64 (reasoned from the arm64 build, tools/kernel-rig-arm64.sh, never booted): with
//    CONFIG_DEBUG_VIRTUAL, virt_to_page() warns "virt_to_phys used for non-linear address" and
//    treats the address as the image's, a physical address below DRAM; the non-coherent
//    machine's cache clean for the device (arch_sync_dma_for_device) then touches its
//    linear-map alias, which nothing maps: an oops in dcache_clean_poc, then the panic.
import { M } from '../kernel/machine.ts';
import type { Site } from '../kernel/site.ts';
import { px } from '../lib/vsprintf.ts';
import { dev_driver_string, dev_name, type device } from '../base/device.ts';
import { page_fault_oops } from '../mm/access.ts';
import { pa_checked } from '../mm/mm_api.ts';

/** Report the mapping of module static data at `ptr`, then oops (this never returns). */
export function map_module_static(dev: device, ptr: number, size: number, site: Site): never {
  const mmu = M.mmu;
  const x86 = M.shape.arch === 'x86_64';
  if (!x86) pa_checked(ptr, site, 'virt_to_page');   // arm64's DEBUG_VIRTUAL warning comes first
  const sect = M.modspace.section_of(ptr)!;
  M.diag.report('DMA_MAP_STATIC', [
    `dmalab: ${dev_driver_string(dev)} ${dev_name(dev)}: maps ${sect === 'data' ? 'static data (.data/.bss)' : 'read-only data (.rodata)'} of the driver module [addr=${px(ptr)}] [len=${size}]`,
    'dmalab: a module\'s statics live in module space, which is neither the linear map nor vmalloc: it has no struct page, so the kernel oopses next; kmalloc the buffer',
  ], { sites: [['Mapped at', site]] });
  if (x86) {
    // __pa(): x - __START_KERNEL_map (0xffffffff80000000); the page is pfn * 56 from a NULL
    // mem_map, and page_to_pfn() reads its flags.
    const pfn = Math.floor((ptr - 0x1fffff80000000) / 4096);
    page_fault_oops(pfn * 56, false, site, 'Mapped at', [], undefined,
      dev._iommu ? 'iommu_dma_map_page+0x20/0x194' : 'dma_map_page_attrs+0x65/0x1f8');
  }
  // arm64: __kimg_to_phys() gives an address below DRAM; the cache clean for the device then
  // touches its phys_to_virt(), which wraps below PAGE_OFFSET (fffffffff8...): nothing there.
  const phys = ptr - M.shape.kimage_vaddr + M.shape.kimage_phys;
  page_fault_oops((phys - mmu.ram_base) + 2 ** 53, true, site, 'Mapped at', [], undefined, 'dcache_clean_poc');
}
