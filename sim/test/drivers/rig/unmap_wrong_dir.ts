// tools/kernel-rig-cases/unmap-wrong-dir/edu_unmapdir.c, line for line (C-U7).
import { pcim_enable_device, pci_set_master, PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { dma_map_single, dma_unmap_single, dma_mapping_error, dma_set_mask_and_coherent, DMA_BIT_MASK,
  DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL } from '#linux/dma-mapping';
import { kmalloc, kfree, GFP_KERNEL } from '#linux/slab';
import { dev_info } from '#linux/device';
import { ENOMEM, EIO } from '#linux/errno';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_unmapdir';

let buf = 0;

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  let ret = pcim_enable_device(pdev);
  if (ret) return ret;
  pci_set_master(pdev);
  ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
  if (ret) return ret;

  buf = kmalloc(4096, GFP_KERNEL);
  if (!buf) return -ENOMEM;
  let h = dma_map_single(dev, buf, 4096, DMA_FROM_DEVICE);
  if (dma_mapping_error(dev, h)) return -EIO;
  dev_info(dev, 'CASE step 1: mapped FROM_DEVICE at %pad, unmapping TO_DEVICE\n', h);
  dma_unmap_single(dev, h, 4096, DMA_TO_DEVICE);

  h = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE);
  if (dma_mapping_error(dev, h)) return -EIO;
  dev_info(dev, 'CASE step 2: mapped TO_DEVICE at %pad, unmapping BIDIRECTIONAL\n', h);
  dma_unmap_single(dev, h, 4096, DMA_BIDIRECTIONAL);
  dev_info(dev, 'CASE done\n');
  return 0;
}

function remove(_pdev: pci_dev): void {
  kfree(buf);
}

export const edu_unmapdir_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
