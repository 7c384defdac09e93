// tools/kernel-rig-cases/leak-coherent/edu_leakcoh.c, line for line (C-L1 of a coherent
// buffer): dma_alloc_coherent(8192) never freed.
import { pcim_enable_device, pci_set_master, PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { dma_alloc_coherent, dma_set_mask_and_coherent, DMA_BIT_MASK } from '#linux/dma-mapping';
import { GFP_KERNEL } from '#linux/slab';
import { dev_info } from '#linux/device';
import { out } from '#dmalab/ref';
import { ENOMEM } from '#linux/errno';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_leakcoh';

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  const ch = out(0);
  let ret = pcim_enable_device(pdev);
  if (ret) return ret;
  pci_set_master(pdev);
  ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
  if (ret) return ret;
  const c = dma_alloc_coherent(dev, 8192, ch, GFP_KERNEL);
  if (!c) return -ENOMEM;
  dev_info(dev, 'CASE: dma_alloc_coherent(8192) -> dma=%pad; never freed\n', ch.value);
  return 0;
}

function remove(pdev: pci_dev): void {
  dev_info(pdev.dev, 'CASE remove: not freeing the coherent buffer\n');
}

export const edu_leakcoh_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
