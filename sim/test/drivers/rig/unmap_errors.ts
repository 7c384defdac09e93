// tools/kernel-rig-cases/unmap-errors/edu_unmap_err.c, line for line (C-U1, C-U2): unmap
// DMA_MAPPING_ERROR, unmap an address never mapped, unmap a mapping twice.
import { pcim_enable_device, pci_set_master, PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { dma_map_single, dma_unmap_single, dma_mapping_error, dma_set_mask_and_coherent, DMA_BIT_MASK,
  DMA_MAPPING_ERROR, DMA_TO_DEVICE } from '#linux/dma-mapping';
import { kmalloc, kfree, GFP_KERNEL } from '#linux/slab';
import { dev_info } from '#linux/device';
import { ENOMEM, EIO } from '#linux/errno';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_unmap_err';
const NEVER_MAPPED = 0x0bad0000;

let buf = 0;

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  let ret = pcim_enable_device(pdev);
  if (ret) return ret;
  pci_set_master(pdev);
  ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
  if (ret) return ret;

  dev_info(dev, 'CASE step 1: dma_unmap_single(DMA_MAPPING_ERROR)\n');
  dma_unmap_single(dev, DMA_MAPPING_ERROR, 4096, DMA_TO_DEVICE);

  dev_info(dev, 'CASE step 2: dma_unmap_single(never mapped %pad)\n', NEVER_MAPPED);
  dma_unmap_single(dev, NEVER_MAPPED, 4096, DMA_TO_DEVICE);

  buf = kmalloc(4096, GFP_KERNEL);
  if (!buf) return -ENOMEM;
  const h = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE);
  if (dma_mapping_error(dev, h)) return -EIO;
  dev_info(dev, 'CASE step 3: mapped %pad, unmapping twice\n', h);
  dma_unmap_single(dev, h, 4096, DMA_TO_DEVICE);
  dma_unmap_single(dev, h, 4096, DMA_TO_DEVICE);
  dev_info(dev, 'CASE done\n');
  return 0;
}

function remove(_pdev: pci_dev): void {
  kfree(buf);
}

export const edu_unmap_err_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
