// tools/kernel-rig-cases/sg-segment/edu_sgseg.c, line for line (C-M6, C-M7): a 128 KiB sg
// segment (the PCI core's max is 64 KiB), then an 8 KiB one across a 64 KiB boundary.
import { pcim_enable_device, pci_set_master, PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { dma_map_sg, dma_unmap_sg, dma_set_mask_and_coherent, dma_get_max_seg_size, dma_get_seg_boundary,
  dma_set_seg_boundary, DMA_BIT_MASK, DMA_TO_DEVICE } from '#linux/dma-mapping';
import { sg_array, sg_init_table, sg_set_page, sg_dma_address, sg_dma_len } from '#linux/scatterlist';
import { alloc_pages, __free_pages, GFP_KERNEL } from '#linux/gfp';
import { page_to_phys, page_to_pfn, pfn_to_page } from '#linux/mm';
import { dev_info } from '#linux/device';
import { ENOMEM } from '#linux/errno';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_sgseg';
/** ULONG_MAX (what the C module restores), as a sim number. */
export const ULONG_MAX = Number.MAX_SAFE_INTEGER;

let blk = 0;

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  const sg = sg_array(1)[0]!;

  let ret = pcim_enable_device(pdev);
  if (ret) return ret;
  pci_set_master(pdev);
  ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
  if (ret) return ret;

  blk = alloc_pages(GFP_KERNEL, 5);
  if (!blk) return -ENOMEM;
  dev_info(dev, 'CASE max_seg_size=%u seg_boundary=%#lx block phys=%pa\n',
    dma_get_max_seg_size(dev), dma_get_seg_boundary(dev), page_to_phys(blk));
  sg_init_table([sg], 1);
  sg_set_page(sg, blk, 128 * 1024, 0);
  let n = dma_map_sg(dev, sg, 1, DMA_TO_DEVICE);
  dev_info(dev, 'CASE A: 128 KiB segment: dma_map_sg returned %d dma=%pad len=%u\n', n, sg_dma_address(sg), sg_dma_len(sg));
  if (n) dma_unmap_sg(dev, sg, 1, DMA_TO_DEVICE);

  dma_set_seg_boundary(dev, 0xffff);
  sg_init_table([sg], 1);
  sg_set_page(sg, pfn_to_page(page_to_pfn(blk) + 15), 8192, 0);
  n = dma_map_sg(dev, sg, 1, DMA_TO_DEVICE);
  dev_info(dev, 'CASE B: 8 KiB segment across 64K, boundary 0xffff: dma_map_sg returned %d dma=%pad len=%u\n', n, sg_dma_address(sg), sg_dma_len(sg));
  if (n) dma_unmap_sg(dev, sg, 1, DMA_TO_DEVICE);
  dma_set_seg_boundary(dev, ULONG_MAX);
  dev_info(dev, 'CASE done\n');
  return 0;
}

function remove(_pdev: pci_dev): void {
  __free_pages(blk, 5);
}

export const edu_sgseg_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
