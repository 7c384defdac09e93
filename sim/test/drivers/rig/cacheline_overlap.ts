// tools/kernel-rig-cases/cacheline-overlap/edu_overlap.c, line for line (C-M8 and the
// "exceeded 7 overlapping mappings" WARN_ONCE): FROM_DEVICE mappings sharing a cache line.
import { pcim_enable_device, pci_set_master, PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { dma_map_single, dma_map_single_attrs, dma_unmap_single, dma_unmap_single_attrs, dma_mapping_error,
  dma_set_mask_and_coherent, DMA_BIT_MASK, DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC } from '#linux/dma-mapping';
import { __get_free_page, free_page, GFP_KERNEL } from '#linux/gfp';
import { dev_info } from '#linux/device';
import { virt_to_phys } from '#linux/io';
import { ENOMEM } from '#linux/errno';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_overlap';

let p = 0;

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  const hd: number[] = [];

  let ret = pcim_enable_device(pdev);
  if (ret) return ret;
  pci_set_master(pdev);
  ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
  if (ret) return ret;

  p = __get_free_page(GFP_KERNEL);
  if (!p) return -ENOMEM;
  const v = p;
  dev_info(dev, 'CASE A: map p (phys %pa) and p+32, both FROM_DEVICE\n', virt_to_phys(v));
  const h1 = dma_map_single(dev, v, 32, DMA_FROM_DEVICE);
  const h2 = dma_map_single(dev, v + 32, 32, DMA_FROM_DEVICE);
  dev_info(dev, 'CASE B: map p+40 FROM_DEVICE with DMA_ATTR_SKIP_CPU_SYNC\n');
  const h3 = dma_map_single_attrs(dev, v + 40, 16, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
  dev_info(dev, 'CASE C: map p+48 TO_DEVICE\n');
  const h4 = dma_map_single(dev, v + 48, 16, DMA_TO_DEVICE);
  dev_info(dev, 'CASE D: map p+128 nine times FROM_DEVICE\n');
  for (let i = 0; i < 9; i++) hd[i] = dma_map_single(dev, v + 128, 64, DMA_FROM_DEVICE);
  dev_info(dev, 'CASE unmapping all\n');
  for (let i = 0; i < 9; i++) if (!dma_mapping_error(dev, hd[i]!)) dma_unmap_single(dev, hd[i]!, 64, DMA_FROM_DEVICE);
  if (!dma_mapping_error(dev, h4)) dma_unmap_single(dev, h4, 16, DMA_TO_DEVICE);
  if (!dma_mapping_error(dev, h3)) dma_unmap_single_attrs(dev, h3, 16, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
  if (!dma_mapping_error(dev, h2)) dma_unmap_single(dev, h2, 32, DMA_FROM_DEVICE);
  if (!dma_mapping_error(dev, h1)) dma_unmap_single(dev, h1, 32, DMA_FROM_DEVICE);
  dev_info(dev, 'CASE done\n');
  return 0;
}

function remove(_pdev: pci_dev): void {
  free_page(p);
}

export const edu_overlap_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
