// tools/kernel-rig-cases/free-coherent-cpu-addr/edu_cpuaddr.c, line for line (C-U5, C-U3):
// dma_free_coherent with another CPU address, then with another size.
import { pcim_enable_device, pci_set_master, PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { dma_alloc_coherent, dma_free_coherent, dma_set_mask_and_coherent, DMA_BIT_MASK } from '#linux/dma-mapping';
import { GFP_KERNEL } from '#linux/slab';
import { dev_info } from '#linux/device';
import { virt_to_phys } from '#linux/io';
import { out } from '#dmalab/ref';
import { ENOMEM } from '#linux/errno';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_cpuaddr';

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  const ch = out(0), ch2 = out(0);

  let ret = pcim_enable_device(pdev);
  if (ret) return ret;
  pci_set_master(pdev);
  ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
  if (ret) return ret;

  const c = dma_alloc_coherent(dev, 4096, ch, GFP_KERNEL);
  if (!c) return -ENOMEM;
  dev_info(dev, 'CASE step 1: alloc cpu=%px phys=%pa dma=%pad; freeing with cpu=%px\n',
    c, virt_to_phys(c), ch.value, c + 64);
  dma_free_coherent(dev, 4096, c + 64, ch.value);

  const c2 = dma_alloc_coherent(dev, 8192, ch2, GFP_KERNEL);
  if (!c2) return -ENOMEM;
  dev_info(dev, 'CASE step 2: alloc 8192 at dma=%pad, freeing with size 4096\n', ch2.value);
  dma_free_coherent(dev, 4096, c2, ch2.value);
  dev_info(dev, 'CASE done\n');
  return 0;
}

function remove(_pdev: pci_dev): void {}

export const edu_cpuaddr_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
