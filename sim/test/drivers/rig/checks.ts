// One edu driver, many small scenarios: for each check the kernel (or dma-debug) makes, the
// mistake it catches and the same code written correctly. Probe sets edu up as the rig's
// modules do, then runs the scenario; remove() runs the scenario's own teardown. The tests in
// sim/test/rig/checks.test.ts run each pair on every machine shape where the mistake exists.
import { pcim_enable_device, pcim_iomap_regions, pcim_iomap_table, pci_set_master, pci_alloc_irq_vectors,
  pci_irq_vector, pci_free_irq_vectors, PCI_IRQ_LEGACY, PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { dma_map_single, dma_unmap_single, dma_map_page, dma_unmap_page, dma_mapping_error,
  dma_sync_single_for_cpu, dma_sync_single_for_device, dma_map_sg, dma_unmap_sg, dma_sync_sg_for_cpu,
  dma_alloc_coherent, dma_free_coherent, dma_set_mask_and_coherent, dma_set_seg_boundary, DMA_BIT_MASK,
  DMA_MAPPING_ERROR, DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_NONE } from '#linux/dma-mapping';
import { dma_pool_create, dma_pool_alloc, dma_pool_free, dma_pool_destroy, type dma_pool } from '#linux/dmapool';
import { sg_array, sg_init_table, sg_set_page, type scatterlist } from '#linux/scatterlist';
import { kmalloc, kfree, GFP_KERNEL } from '#linux/slab';
import { alloc_pages, __free_pages, GFP_DMA } from '#linux/gfp';
import { vmalloc, vfree, vmalloc_to_page } from '#linux/vmalloc';
import { offset_in_page, page_to_pfn, pfn_to_page, page_to_phys, PAGE_SIZE } from '#linux/mm';
import { virt_to_phys, type iomem } from '#linux/io';
import { request_irq, free_irq, IRQF_SHARED, IRQ_NONE, type irqreturn_t } from '#linux/interrupt';
import { type device } from '#linux/device';
import { stack_alloc } from '#dmalab/stack';
import { out } from '#dmalab/ref';
import { EIO } from '#linux/errno';
import { EDU_VENDOR, EDU_DEVICE, EDU_BUF_ADDR, EDU_DMA_XFER, EDU_CMD_TO_RAM, edu_dma_poll } from '../edu_rig.ts';

export interface ctx { pdev: pci_dev; dev: device; bar: iomem; v: Record<string, number>; pool?: dma_pool | null }
export type Step = (c: ctx) => void;
export interface Scenario { bug: Step; fix: Step; remove?: Step }

/** n page-sized entries, each its own page. */
function pages_sg(c: ctx, sg: scatterlist[], n: number): void {
  sg_init_table(sg, n);
  for (let i = 0; i < n; i++) {
    c.v[`pg${i}`] = alloc_pages(GFP_KERNEL, 0);
    sg_set_page(sg[i]!, c.v[`pg${i}`]!, PAGE_SIZE, 0);
  }
}
function free_pages_sg(c: ctx, n: number): void {
  for (let i = 0; i < n; i++) __free_pages(c.v[`pg${i}`]!, 0);
}

function irq_handler(_irq: number, _data: unknown): irqreturn_t {
  return IRQ_NONE;
}

export const SCENARIOS: Record<string, Scenario> = {
  /* C-M1: a physical address where the CPU pointer belongs. */
  'C-M1': {
    bug: (c) => {
      c.v.buf = kmalloc(64, GFP_KERNEL);
      const h = dma_map_single(c.dev, virt_to_phys(c.v.buf), 64, DMA_TO_DEVICE);
      if (!dma_mapping_error(c.dev, h)) dma_unmap_single(c.dev, h, 64, DMA_TO_DEVICE);
    },
    fix: (c) => {
      c.v.buf = kmalloc(64, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 64, DMA_TO_DEVICE);
      if (!dma_mapping_error(c.dev, h)) dma_unmap_single(c.dev, h, 64, DMA_TO_DEVICE);
    },
    remove: (c) => kfree(c.v.buf!),
  },
  /* C-M4: the stack (vmalloc'ed, VMAP_STACK) mapped through its page. */
  'C-M4': {
    bug: (c) => {
      const st = stack_alloc(64);
      const h = dma_map_page(c.dev, vmalloc_to_page(st), offset_in_page(st), 64, DMA_TO_DEVICE);
      if (!dma_mapping_error(c.dev, h)) dma_unmap_page(c.dev, h, 64, DMA_TO_DEVICE);
    },
    fix: (c) => {
      const b = kmalloc(64, GFP_KERNEL);
      const h = dma_map_single(c.dev, b, 64, DMA_TO_DEVICE);
      if (!dma_mapping_error(c.dev, h)) dma_unmap_single(c.dev, h, 64, DMA_TO_DEVICE);
      kfree(b);
    },
  },
  /* VMALLOC_REJECT: dma_map_single() of vmalloc memory. */
  'VMALLOC_REJECT': {
    bug: (c) => {
      const b = vmalloc(4096);
      const h = dma_map_single(c.dev, b, 4096, DMA_TO_DEVICE);
      if (!dma_mapping_error(c.dev, h)) dma_unmap_single(c.dev, h, 4096, DMA_TO_DEVICE);
      vfree(b);
    },
    fix: (c) => {
      const b = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, b, 4096, DMA_TO_DEVICE);
      if (!dma_mapping_error(c.dev, h)) dma_unmap_single(c.dev, h, 4096, DMA_TO_DEVICE);
      kfree(b);
    },
  },
  /* C-M6: one 128 KiB sg entry; the PCI core allows 64 KiB segments. */
  'C-M6': {
    bug: (c) => {
      const sg = sg_array(1);
      c.v.blk = alloc_pages(GFP_KERNEL, 5);
      sg_init_table(sg, 1);
      sg_set_page(sg[0]!, c.v.blk, 128 * 1024, 0);
      const n = dma_map_sg(c.dev, sg, 1, DMA_TO_DEVICE);
      if (n) dma_unmap_sg(c.dev, sg, 1, DMA_TO_DEVICE);
    },
    fix: (c) => {
      const sg = sg_array(2);
      c.v.blk = alloc_pages(GFP_KERNEL, 5);
      sg_init_table(sg, 2);
      sg_set_page(sg[0]!, c.v.blk, 64 * 1024, 0);
      sg_set_page(sg[1]!, pfn_to_page(page_to_pfn(c.v.blk) + 16), 64 * 1024, 0);
      const n = dma_map_sg(c.dev, sg, 2, DMA_TO_DEVICE);
      if (n) dma_unmap_sg(c.dev, sg, 2, DMA_TO_DEVICE);
    },
    remove: (c) => __free_pages(c.v.blk!, 5),
  },
  /* C-M6 twice in one call: each segment that is too long is reported on its own. */
  'C-M6x2': {
    bug: (c) => {
      const sg = sg_array(2);
      c.v.blk = alloc_pages(GFP_KERNEL, 6);
      sg_init_table(sg, 2);
      sg_set_page(sg[0]!, c.v.blk, 128 * 1024, 0);
      sg_set_page(sg[1]!, pfn_to_page(page_to_pfn(c.v.blk) + 33), 128 * 1024, 0);
      const n = dma_map_sg(c.dev, sg, 2, DMA_TO_DEVICE);
      if (n) dma_unmap_sg(c.dev, sg, 2, DMA_TO_DEVICE);
    },
    fix: (c) => {
      const sg = sg_array(4);
      c.v.blk = alloc_pages(GFP_KERNEL, 6);
      sg_init_table(sg, 4);
      for (let i = 0; i < 4; i++) sg_set_page(sg[i]!, pfn_to_page(page_to_pfn(c.v.blk) + 16 * i + (i >= 2 ? 1 : 0)), 64 * 1024, 0);
      const n = dma_map_sg(c.dev, sg, 4, DMA_TO_DEVICE);
      if (n) dma_unmap_sg(c.dev, sg, 4, DMA_TO_DEVICE);
    },
    remove: (c) => __free_pages(c.v.blk!, 6),
  },
  /* C-M7: an 8 KiB entry across a 64 KiB boundary the device declared. */
  'C-M7': {
    bug: (c) => {
      const sg = sg_array(1);
      c.v.blk = alloc_pages(GFP_KERNEL, 5);
      dma_set_seg_boundary(c.dev, 0xffff);
      sg_init_table(sg, 1);
      sg_set_page(sg[0]!, pfn_to_page(page_to_pfn(c.v.blk) + 15), 8192, 0);
      const n = dma_map_sg(c.dev, sg, 1, DMA_TO_DEVICE);
      if (n) dma_unmap_sg(c.dev, sg, 1, DMA_TO_DEVICE);
    },
    fix: (c) => {
      const sg = sg_array(2);
      c.v.blk = alloc_pages(GFP_KERNEL, 5);
      dma_set_seg_boundary(c.dev, 0xffff);
      sg_init_table(sg, 2);
      sg_set_page(sg[0]!, pfn_to_page(page_to_pfn(c.v.blk) + 15), 4096, 0);
      sg_set_page(sg[1]!, pfn_to_page(page_to_pfn(c.v.blk) + 16), 4096, 0);
      const n = dma_map_sg(c.dev, sg, 2, DMA_TO_DEVICE);
      if (n) dma_unmap_sg(c.dev, sg, 2, DMA_TO_DEVICE);
    },
    remove: (c) => __free_pages(c.v.blk!, 5),
  },
  /* C-M8: two device-written mappings in one cache line. */
  'C-M8': {
    bug: (c) => {
      c.v.buf = kmalloc(64, GFP_KERNEL);
      const a = dma_map_single(c.dev, c.v.buf, 32, DMA_FROM_DEVICE);
      const b = dma_map_single(c.dev, c.v.buf + 32, 32, DMA_FROM_DEVICE);
      if (!dma_mapping_error(c.dev, b)) dma_unmap_single(c.dev, b, 32, DMA_FROM_DEVICE);
      if (!dma_mapping_error(c.dev, a)) dma_unmap_single(c.dev, a, 32, DMA_FROM_DEVICE);
    },
    fix: (c) => {
      c.v.buf = kmalloc(64, GFP_KERNEL);
      c.v.buf2 = kmalloc(64, GFP_KERNEL);
      const a = dma_map_single(c.dev, c.v.buf, 32, DMA_FROM_DEVICE);
      const b = dma_map_single(c.dev, c.v.buf2, 32, DMA_FROM_DEVICE);
      if (!dma_mapping_error(c.dev, b)) dma_unmap_single(c.dev, b, 32, DMA_FROM_DEVICE);
      if (!dma_mapping_error(c.dev, a)) dma_unmap_single(c.dev, a, 32, DMA_FROM_DEVICE);
    },
    remove: (c) => { kfree(c.v.buf!); kfree(c.v.buf2 ?? 0); },
  },
  /* C-U1: a failed mapping unmapped anyway. */
  'C-U1': {
    bug: (c) => {
      const h = DMA_MAPPING_ERROR;
      dma_unmap_single(c.dev, h, 4096, DMA_TO_DEVICE);
    },
    fix: (c) => {
      const h = DMA_MAPPING_ERROR;
      if (!dma_mapping_error(c.dev, h)) dma_unmap_single(c.dev, h, 4096, DMA_TO_DEVICE);
    },
  },
  /* C-U2: unmapped twice. */
  'C-U2': {
    bug: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 4096, DMA_TO_DEVICE);
      if (dma_mapping_error(c.dev, h)) return;
      dma_unmap_single(c.dev, h, 4096, DMA_TO_DEVICE);
      dma_unmap_single(c.dev, h, 4096, DMA_TO_DEVICE);
    },
    fix: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 4096, DMA_TO_DEVICE);
      if (dma_mapping_error(c.dev, h)) return;
      dma_unmap_single(c.dev, h, 4096, DMA_TO_DEVICE);
    },
    remove: (c) => kfree(c.v.buf!),
  },
  /* C-U3: unmapped with another size. */
  'C-U3': {
    bug: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 4096, DMA_TO_DEVICE);
      if (!dma_mapping_error(c.dev, h)) dma_unmap_single(c.dev, h, 2048, DMA_TO_DEVICE);
    },
    fix: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 4096, DMA_TO_DEVICE);
      if (!dma_mapping_error(c.dev, h)) dma_unmap_single(c.dev, h, 4096, DMA_TO_DEVICE);
    },
    remove: (c) => kfree(c.v.buf!),
  },
  /* C-U4: a coherent buffer released with dma_unmap_single(). */
  'C-U4': {
    bug: (c) => {
      const h = out(0);
      c.v.cpu = dma_alloc_coherent(c.dev, 4096, h, GFP_KERNEL);
      c.v.h = h.value;
      dma_unmap_single(c.dev, h.value, 4096, DMA_TO_DEVICE);
    },
    fix: (c) => {
      const h = out(0);
      c.v.cpu = dma_alloc_coherent(c.dev, 4096, h, GFP_KERNEL);
      dma_free_coherent(c.dev, 4096, c.v.cpu, h.value);
    },
  },
  /* C-U5: dma_free_coherent() with a pointer into the buffer. */
  'C-U5': {
    bug: (c) => {
      const h = out(0);
      const cpu = dma_alloc_coherent(c.dev, 4096, h, GFP_KERNEL);
      dma_free_coherent(c.dev, 4096, cpu + 64, h.value);
    },
    fix: (c) => {
      const h = out(0);
      const cpu = dma_alloc_coherent(c.dev, 4096, h, GFP_KERNEL);
      dma_free_coherent(c.dev, 4096, cpu, h.value);
    },
  },
  /* C-U6: an sg list unmapped with fewer entries than it was mapped with. */
  'C-U6': {
    bug: (c) => {
      const sg = sg_array(4);
      pages_sg(c, sg, 4);
      const n = dma_map_sg(c.dev, sg, 4, DMA_TO_DEVICE);
      if (n) dma_unmap_sg(c.dev, sg, 2, DMA_TO_DEVICE);
    },
    fix: (c) => {
      const sg = sg_array(4);
      pages_sg(c, sg, 4);
      const n = dma_map_sg(c.dev, sg, 4, DMA_TO_DEVICE);
      if (n) dma_unmap_sg(c.dev, sg, 4, DMA_TO_DEVICE);
    },
    remove: (c) => free_pages_sg(c, 4),
  },
  /* C-U7: unmapped with another direction. */
  'C-U7': {
    bug: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 4096, DMA_FROM_DEVICE);
      if (!dma_mapping_error(c.dev, h)) dma_unmap_single(c.dev, h, 4096, DMA_TO_DEVICE);
    },
    fix: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 4096, DMA_FROM_DEVICE);
      if (!dma_mapping_error(c.dev, h)) dma_unmap_single(c.dev, h, 4096, DMA_FROM_DEVICE);
    },
    remove: (c) => kfree(c.v.buf!),
  },
  /* C-U8: a mapping never checked with dma_mapping_error(). */
  'C-U8': {
    bug: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 4096, DMA_TO_DEVICE);
      dma_unmap_single(c.dev, h, 4096, DMA_TO_DEVICE);
    },
    fix: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 4096, DMA_TO_DEVICE);
      if (dma_mapping_error(c.dev, h)) return;
      dma_unmap_single(c.dev, h, 4096, DMA_TO_DEVICE);
    },
    remove: (c) => kfree(c.v.buf!),
  },
  /* C-S1: synced after the unmap. */
  'C-S1': {
    bug: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 4096, DMA_FROM_DEVICE);
      if (dma_mapping_error(c.dev, h)) return;
      dma_unmap_single(c.dev, h, 4096, DMA_FROM_DEVICE);
      dma_sync_single_for_cpu(c.dev, h, 4096, DMA_FROM_DEVICE);
    },
    fix: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 4096, DMA_FROM_DEVICE);
      if (dma_mapping_error(c.dev, h)) return;
      dma_sync_single_for_cpu(c.dev, h, 4096, DMA_FROM_DEVICE);
      dma_unmap_single(c.dev, h, 4096, DMA_FROM_DEVICE);
    },
    remove: (c) => kfree(c.v.buf!),
  },
  /* C-S3 + C-S4: a TO_DEVICE mapping synced for the CPU as FROM_DEVICE. */
  'C-S4': {
    bug: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 4096, DMA_TO_DEVICE);
      if (dma_mapping_error(c.dev, h)) return;
      dma_sync_single_for_cpu(c.dev, h, 4096, DMA_FROM_DEVICE);
      dma_unmap_single(c.dev, h, 4096, DMA_TO_DEVICE);
    },
    fix: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 4096, DMA_TO_DEVICE);
      if (dma_mapping_error(c.dev, h)) return;
      dma_sync_single_for_cpu(c.dev, h, 4096, DMA_TO_DEVICE);
      dma_unmap_single(c.dev, h, 4096, DMA_TO_DEVICE);
    },
    remove: (c) => kfree(c.v.buf!),
  },
  /* C-S3 + C-S5: a FROM_DEVICE mapping handed back to the device as TO_DEVICE. */
  'C-S5': {
    bug: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 4096, DMA_FROM_DEVICE);
      if (dma_mapping_error(c.dev, h)) return;
      edu_dma_poll(c.bar, EDU_BUF_ADDR, h, EDU_DMA_XFER, EDU_CMD_TO_RAM);
      dma_sync_single_for_cpu(c.dev, h, 4096, DMA_FROM_DEVICE);
      dma_sync_single_for_device(c.dev, h, 4096, DMA_TO_DEVICE);
      dma_unmap_single(c.dev, h, 4096, DMA_FROM_DEVICE);
    },
    fix: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 4096, DMA_FROM_DEVICE);
      if (dma_mapping_error(c.dev, h)) return;
      edu_dma_poll(c.bar, EDU_BUF_ADDR, h, EDU_DMA_XFER, EDU_CMD_TO_RAM);
      dma_sync_single_for_cpu(c.dev, h, 4096, DMA_FROM_DEVICE);
      dma_sync_single_for_device(c.dev, h, 4096, DMA_FROM_DEVICE);
      dma_unmap_single(c.dev, h, 4096, DMA_FROM_DEVICE);
    },
    remove: (c) => kfree(c.v.buf!),
  },
  /* C-S6: an sg list synced with fewer entries than it was mapped with. */
  'C-S6': {
    bug: (c) => {
      const sg = sg_array(4);
      pages_sg(c, sg, 4);
      const n = dma_map_sg(c.dev, sg, 4, DMA_FROM_DEVICE);
      if (!n) return;
      dma_sync_sg_for_cpu(c.dev, sg, 2, DMA_FROM_DEVICE);
      dma_unmap_sg(c.dev, sg, 4, DMA_FROM_DEVICE);
    },
    fix: (c) => {
      const sg = sg_array(4);
      pages_sg(c, sg, 4);
      const n = dma_map_sg(c.dev, sg, 4, DMA_FROM_DEVICE);
      if (!n) return;
      dma_sync_sg_for_cpu(c.dev, sg, 4, DMA_FROM_DEVICE);
      dma_unmap_sg(c.dev, sg, 4, DMA_FROM_DEVICE);
    },
    remove: (c) => free_pages_sg(c, 4),
  },
  /* C-L1: a mapping still there when the driver is unbound. */
  'C-L1': {
    bug: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      c.v.h = dma_map_single(c.dev, c.v.buf, 4096, DMA_FROM_DEVICE);
      if (dma_mapping_error(c.dev, c.v.h)) c.v.h = -1;
    },
    fix: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      c.v.h = dma_map_single(c.dev, c.v.buf, 4096, DMA_FROM_DEVICE);
      if (dma_mapping_error(c.dev, c.v.h)) c.v.h = -1;
      c.v.unmap_in_remove = 1;
    },
    remove: (c) => {
      if (c.v.unmap_in_remove && c.v.h !== -1) dma_unmap_single(c.dev, c.v.h!, 4096, DMA_FROM_DEVICE);
      kfree(c.v.buf!);
    },
  },
  /* DIRECT_OVERFLOW: a page above the 28-bit mask, and no bounce buffers to fall back on. */
  'DIRECT_OVERFLOW': {
    bug: (c) => {
      let n = 0;
      for (; n < 256; n++) {
        c.v[`blk${n}`] = alloc_pages(GFP_KERNEL, 9);
        if (!c.v[`blk${n}`] || page_to_phys(c.v[`blk${n}`]!) >= 0x10000000) break;
      }
      c.v.nblk = n + 1;
      const h = dma_map_page(c.dev, c.v[`blk${n}`]!, 0, 4096, DMA_TO_DEVICE);
      if (!dma_mapping_error(c.dev, h)) dma_unmap_page(c.dev, h, 4096, DMA_TO_DEVICE);
    },
    fix: (c) => {
      // Memory the device can reach: GFP_DMA, below 16 MiB.
      c.v.blk0 = alloc_pages(GFP_KERNEL | GFP_DMA, 0);
      c.v.nblk = 0;
      const h = dma_map_page(c.dev, c.v.blk0, 0, 4096, DMA_TO_DEVICE);
      if (!dma_mapping_error(c.dev, h)) dma_unmap_page(c.dev, h, 4096, DMA_TO_DEVICE);
    },
    remove: (c) => {
      for (let i = 0; i < c.v.nblk!; i++) if (c.v[`blk${i}`]) __free_pages(c.v[`blk${i}`]!, 9);
      if (!c.v.nblk) __free_pages(c.v.blk0!, 0);
    },
  },
  /* SWIOTLB_FULL: 65 bounce buffers of 4 KiB held at once in a 128-slot pool. */
  'SWIOTLB_FULL': {
    bug: (c) => {
      const h: number[] = [];
      for (let i = 0; i < 65; i++) {
        c.v[`b${i}`] = kmalloc(4096, GFP_KERNEL);
        h[i] = dma_map_single(c.dev, c.v[`b${i}`]!, 4096, DMA_TO_DEVICE);
      }
      for (let i = 0; i < 65; i++) if (!dma_mapping_error(c.dev, h[i]!)) dma_unmap_single(c.dev, h[i]!, 4096, DMA_TO_DEVICE);
    },
    fix: (c) => {
      // One at a time: each mapping is released before the next is made.
      for (let i = 0; i < 65; i++) {
        c.v[`b${i}`] = kmalloc(4096, GFP_KERNEL);
        const h = dma_map_single(c.dev, c.v[`b${i}`]!, 4096, DMA_TO_DEVICE);
        if (!dma_mapping_error(c.dev, h)) dma_unmap_single(c.dev, h, 4096, DMA_TO_DEVICE);
      }
    },
    remove: (c) => { for (let i = 0; i < 65; i++) kfree(c.v[`b${i}`]!); },
  },
  /* SWIOTLB_OVERFLOW: streaming DMA when the bounce pool itself is out of the device's reach. */
  'SWIOTLB_OVERFLOW': {
    bug: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 4096, DMA_TO_DEVICE);
      if (!dma_mapping_error(c.dev, h)) dma_unmap_single(c.dev, h, 4096, DMA_TO_DEVICE);
    },
    fix: (c) => {
      // A coherent buffer never bounces: it comes from memory the device can reach.
      const h = out(0);
      c.v.buf = 0;
      const cpu = dma_alloc_coherent(c.dev, 4096, h, GFP_KERNEL);
      if (cpu) dma_free_coherent(c.dev, 4096, cpu, h.value);
    },
    remove: (c) => kfree(c.v.buf!),
  },
  /* POOL_BUSY: a pool destroyed with a block still allocated. */
  'POOL_BUSY': {
    bug: (c) => {
      const h = out(0);
      const pool = dma_pool_create('chk_pool', c.dev, 64, 64, 0)!;
      dma_pool_alloc(pool, GFP_KERNEL, h);
      dma_pool_destroy(pool);
    },
    fix: (c) => {
      const h = out(0);
      const pool = dma_pool_create('chk_pool', c.dev, 64, 64, 0)!;
      const v = dma_pool_alloc(pool, GFP_KERNEL, h);
      dma_pool_free(pool, v, h.value);
      dma_pool_destroy(pool);
    },
  },
  /* POOL_BAD_DMA: a block handed back with a handle that is in none of the pool's pages. */
  'POOL_BAD_DMA': {
    bug: (c) => {
      const h = out(0);
      const pool = dma_pool_create('chk_pool', c.dev, 64, 64, 0)!;
      const v = dma_pool_alloc(pool, GFP_KERNEL, h);
      dma_pool_free(pool, v, h.value + 0x100000);
      dma_pool_free(pool, v, h.value);
      dma_pool_destroy(pool);
    },
    fix: (c) => {
      const h = out(0);
      const pool = dma_pool_create('chk_pool', c.dev, 64, 64, 0)!;
      const v = dma_pool_alloc(pool, GFP_KERNEL, h);
      dma_pool_free(pool, v, h.value);
      dma_pool_destroy(pool);
    },
  },
  /* IOMMU_FAULT: the device told to read a buffer after it was unmapped. */
  'IOMMU_FAULT': {
    bug: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 4096, DMA_TO_DEVICE);
      if (dma_mapping_error(c.dev, h)) return;
      dma_unmap_single(c.dev, h, 4096, DMA_TO_DEVICE);
      edu_dma_poll(c.bar, h, EDU_BUF_ADDR, EDU_DMA_XFER, 0);
    },
    fix: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 4096, DMA_TO_DEVICE);
      if (dma_mapping_error(c.dev, h)) return;
      edu_dma_poll(c.bar, h, EDU_BUF_ADDR, EDU_DMA_XFER, 0);
      dma_unmap_single(c.dev, h, 4096, DMA_TO_DEVICE);
    },
    remove: (c) => kfree(c.v.buf!),
  },
  /* IRQ_ALREADY_FREE: free_irq() twice. */
  'IRQ_ALREADY_FREE': {
    bug: (c) => {
      if (pci_alloc_irq_vectors(c.pdev, 1, 1, PCI_IRQ_LEGACY) < 0) return;
      const irq = pci_irq_vector(c.pdev, 0);
      if (request_irq(irq, irq_handler, IRQF_SHARED, 'chk', c.dev)) return;
      free_irq(irq, c.dev);
      free_irq(irq, c.dev);
    },
    fix: (c) => {
      if (pci_alloc_irq_vectors(c.pdev, 1, 1, PCI_IRQ_LEGACY) < 0) return;
      const irq = pci_irq_vector(c.pdev, 0);
      if (request_irq(irq, irq_handler, IRQF_SHARED, 'chk', c.dev)) return;
      free_irq(irq, c.dev);
    },
    remove: (c) => pci_free_irq_vectors(c.pdev),
  },
  /* VFREE_INVALID: vfree() of a pointer into the area instead of its start. */
  'VFREE_INVALID': {
    bug: (c) => {
      c.v.vbuf = vmalloc(8192);
      vfree(c.v.vbuf + 16);
    },
    fix: (c) => {
      c.v.vbuf = vmalloc(8192);
      vfree(c.v.vbuf);
      c.v.vbuf = 0;
    },
    remove: (c) => vfree(c.v.vbuf!),
  },
  /* DMA_INVALID_DIRECTION: DMA_NONE is not a direction (a kernel BUG). */
  'DMA_INVALID_DIRECTION': {
    bug: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 4096, DMA_NONE);
      if (!dma_mapping_error(c.dev, h)) dma_unmap_single(c.dev, h, 4096, DMA_NONE);
    },
    fix: (c) => {
      c.v.buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(c.dev, c.v.buf, 4096, DMA_TO_DEVICE);
      if (!dma_mapping_error(c.dev, h)) dma_unmap_single(c.dev, h, 4096, DMA_TO_DEVICE);
    },
    remove: (c) => kfree(c.v.buf!),
  },
};

const contexts = new WeakMap<pci_dev, ctx>();

/** The driver for one scenario: `which` is 'bug' or 'fix'. */
export function checks_driver(name: string, which: 'bug' | 'fix'): pci_driver {
  const scn = SCENARIOS[name];
  if (!scn) throw new Error(`no scenario '${name}'`);
  return {
    name: 'edu_check',
    id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)],
    probe(pdev: pci_dev): number {
      let ret = pcim_enable_device(pdev);
      if (ret) return ret;
      ret = pcim_iomap_regions(pdev, 1, 'edu_check');
      if (ret) return ret;
      pci_set_master(pdev);
      ret = dma_set_mask_and_coherent(pdev.dev, DMA_BIT_MASK(28));
      if (ret) return -EIO;
      const c: ctx = { pdev, dev: pdev.dev, bar: pcim_iomap_table(pdev)[0]!, v: {} };
      contexts.set(pdev, c);
      scn[which](c);
      return 0;
    },
    remove(pdev: pci_dev): void {
      const c = contexts.get(pdev);
      if (c && scn.remove) scn.remove(c);
    },
  };
}
