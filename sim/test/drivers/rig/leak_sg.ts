// tools/kernel-rig-cases/leak-sg/edu_leaksg.c, line for line (C-L1 of an sg mapping): a
// 2-entry list mapped and never unmapped.
import { pcim_enable_device, pci_set_master, PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { dma_map_sg, dma_set_mask_and_coherent, DMA_BIT_MASK, DMA_FROM_DEVICE } from '#linux/dma-mapping';
import { sg_array, sg_init_table, sg_set_page, sg_dma_address, sg_dma_len, type scatterlist } from '#linux/scatterlist';
import { alloc_page, GFP_KERNEL } from '#linux/gfp';
import { PAGE_SIZE } from '#linux/mm';
import { dev_info } from '#linux/device';
import { ENOMEM, EIO } from '#linux/errno';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_leaksg';

let sg: scatterlist[] = [];

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  sg = sg_array(2);
  let ret = pcim_enable_device(pdev);
  if (ret) return ret;
  pci_set_master(pdev);
  ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
  if (ret) return ret;
  sg_init_table(sg, 2);
  for (let i = 0; i < 2; i++) {
    const pg = alloc_page(GFP_KERNEL);
    if (!pg) return -ENOMEM;
    sg_set_page(sg[i]!, pg, PAGE_SIZE, 0);
  }
  const n = dma_map_sg(dev, sg, 2, DMA_FROM_DEVICE);
  for (let i = 0; i < n; i++) {
    dev_info(dev, 'CASE: dma_map_sg(2) -> %d: seg %d dma=%pad len=%u; never unmapped\n', n, i, sg_dma_address(sg[i]!), sg_dma_len(sg[i]!));
  }
  return n ? 0 : -EIO;
}

function remove(pdev: pci_dev): void {
  dev_info(pdev.dev, 'CASE remove: not unmapping the sg list\n');
}

export const edu_leaksg_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
