// tools/kernel-rig-cases/direct-overflow/edu_overflow.c, line for line (DIRECT_OVERFLOW):
// dma-direct map of a page above the 28-bit mask with no swiotlb, twice (WARN_ONCE).
import { pcim_enable_device, pci_set_master, PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { dma_map_page, dma_unmap_page, dma_mapping_error, dma_set_mask_and_coherent, DMA_BIT_MASK,
  DMA_TO_DEVICE } from '#linux/dma-mapping';
import { alloc_pages, __free_pages, GFP_KERNEL, __GFP_NOWARN } from '#linux/gfp';
import { page_to_phys, page_to_pfn, pfn_to_page } from '#linux/mm';
import { dev_info } from '#linux/device';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_overflow';
const MAXBLK = 256;

let blk: number[] = [];
let nblk = 0;

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  let high = 0;
  blk = [];
  nblk = 0;

  let ret = pcim_enable_device(pdev);
  if (ret) return ret;
  pci_set_master(pdev);
  ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
  if (ret) return ret;

  while (nblk < MAXBLK) {
    const pg = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 9);
    if (!pg) break;
    blk[nblk++] = pg;
    if (page_to_phys(pg) >= 0x10000000) {
      high = pg;
      break;
    }
  }
  dev_info(dev, 'CASE: %d blocks allocated; high page phys=%pa\n', nblk, high ? page_to_phys(high) : 0);
  if (!high) return 0;

  dev_info(dev, 'CASE A: dma_map_page(page above mask, 4096, TO_DEVICE)\n');
  let h = dma_map_page(dev, high, 0, 4096, DMA_TO_DEVICE);
  dev_info(dev, 'CASE A: -> %pad, dma_mapping_error=%d\n', h, dma_mapping_error(dev, h));
  if (!dma_mapping_error(dev, h)) dma_unmap_page(dev, h, 4096, DMA_TO_DEVICE);
  dev_info(dev, 'CASE B: again\n');
  h = dma_map_page(dev, pfn_to_page(page_to_pfn(high) + 1), 0, 4096, DMA_TO_DEVICE);
  dev_info(dev, 'CASE B: -> %pad, dma_mapping_error=%d\n', h, dma_mapping_error(dev, h));
  if (!dma_mapping_error(dev, h)) dma_unmap_page(dev, h, 4096, DMA_TO_DEVICE);
  dev_info(dev, 'CASE done\n');
  return 0;
}

function remove(_pdev: pci_dev): void {
  while (nblk) __free_pages(blk[--nblk]!, 9);
}

export const edu_overflow_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
