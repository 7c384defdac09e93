// tools/kernel-rig-cases/sync-errors/edu_syncerr.c, line for line (C-S1, C-S3, C-S4): syncs of
// an address never mapped, past the end, in the wrong direction, after the unmap.
import { pcim_enable_device, pci_set_master, PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { dma_map_single, dma_unmap_single, dma_mapping_error, dma_sync_single_for_cpu,
  dma_sync_single_range_for_cpu, dma_set_mask_and_coherent, DMA_BIT_MASK, DMA_TO_DEVICE,
  DMA_FROM_DEVICE } from '#linux/dma-mapping';
import { kzalloc, kfree, GFP_KERNEL } from '#linux/slab';
import { dev_info } from '#linux/device';
import { ENOMEM, EIO } from '#linux/errno';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_syncerr';

let buf = 0, buf2 = 0;

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  let ret = pcim_enable_device(pdev);
  if (ret) return ret;
  pci_set_master(pdev);
  ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
  if (ret) return ret;

  buf = kzalloc(4096, GFP_KERNEL);
  buf2 = kzalloc(4096, GFP_KERNEL);
  if (!buf || !buf2) return -ENOMEM;

  dev_info(dev, 'CASE step 1: sync_for_cpu of never-mapped 0x0bad0000\n');
  dma_sync_single_for_cpu(dev, 0x0bad0000, 4096, DMA_FROM_DEVICE);

  const h = dma_map_single(dev, buf, 4096, DMA_FROM_DEVICE);
  if (dma_mapping_error(dev, h)) return -EIO;
  dev_info(dev, 'CASE step 2a: mapped %pad size 4096, sync_for_cpu size 8192\n', h);
  dma_sync_single_for_cpu(dev, h, 8192, DMA_FROM_DEVICE);
  dev_info(dev, 'CASE step 2b: sync_for_cpu(h + 2048, 4096)\n');
  dma_sync_single_for_cpu(dev, h + 2048, 4096, DMA_FROM_DEVICE);
  dev_info(dev, 'CASE step 2c: sync_single_range_for_cpu(h, 1024, 1024) (correct)\n');
  dma_sync_single_range_for_cpu(dev, h, 1024, 1024, DMA_FROM_DEVICE);
  dma_unmap_single(dev, h, 4096, DMA_FROM_DEVICE);

  const h2 = dma_map_single(dev, buf2, 4096, DMA_TO_DEVICE);
  if (dma_mapping_error(dev, h2)) return -EIO;
  dev_info(dev, 'CASE step 3: mapped TO_DEVICE at %pad, sync_for_cpu FROM_DEVICE\n', h2);
  dma_sync_single_for_cpu(dev, h2, 4096, DMA_FROM_DEVICE);
  dma_unmap_single(dev, h2, 4096, DMA_TO_DEVICE);
  dev_info(dev, 'CASE step 4: sync_for_cpu after unmap\n');
  dma_sync_single_for_cpu(dev, h2, 4096, DMA_TO_DEVICE);
  dev_info(dev, 'CASE done\n');
  return 0;
}

function remove(_pdev: pci_dev): void {
  kfree(buf);
  kfree(buf2);
}

export const edu_syncerr_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
