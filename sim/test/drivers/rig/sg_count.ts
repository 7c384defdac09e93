// tools/kernel-rig-cases/sg-count/edu_sgcount.c, line for line (C-U6, C-S6): scatterlists of
// 4 separate pages unmapped/synced with other entry counts; a never-mapped sg synced.
import { pcim_enable_device, pci_set_master, PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { dma_map_sg, dma_unmap_sg, dma_sync_sg_for_cpu, dma_set_mask_and_coherent, DMA_BIT_MASK,
  DMA_TO_DEVICE, DMA_FROM_DEVICE } from '#linux/dma-mapping';
import { sg_array, sg_init_table, sg_init_one, sg_set_page, sg_dma_address, sg_dma_len, type scatterlist } from '#linux/scatterlist';
import { alloc_page, __free_page, GFP_KERNEL } from '#linux/gfp';
import { page_address, PAGE_SIZE } from '#linux/mm';
import { dev_info, type device } from '#linux/device';
import { ENOMEM, EIO } from '#linux/errno';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_sgcount';
const NP = 4;

let pages: number[][] = [];
let sg: scatterlist[][] = [];

function show(dev: device, what: string, s: scatterlist[], n: number): void {
  for (let i = 0; i < n; i++) {
    dev_info(dev, 'CASE %s: seg %d dma=%pad len=%u\n', what, i, sg_dma_address(s[i]!), sg_dma_len(s[i]!));
  }
}

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  const one = sg_array(1)[0]!;
  pages = [[], [], []];
  sg = [sg_array(NP), sg_array(NP), sg_array(NP)];

  let ret = pcim_enable_device(pdev);
  if (ret) return ret;
  pci_set_master(pdev);
  ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
  if (ret) return ret;

  for (let j = 0; j < 3; j++) {
    sg_init_table(sg[j]!, NP);
    for (let i = 0; i < NP; i++) {
      pages[j]![i] = alloc_page(GFP_KERNEL);
      if (!pages[j]![i]) return -ENOMEM;
      sg_set_page(sg[j]![i]!, pages[j]![i]!, PAGE_SIZE, 0);
    }
  }

  let n = dma_map_sg(dev, sg[0]!, NP, DMA_TO_DEVICE);
  dev_info(dev, 'CASE A: dma_map_sg(nents=%d) returned %d; dma_unmap_sg(nents=%d)\n', NP, n, n);
  show(dev, 'A', sg[0]!, n);
  if (!n) return -EIO;
  dma_unmap_sg(dev, sg[0]!, n, DMA_TO_DEVICE);

  n = dma_map_sg(dev, sg[1]!, NP, DMA_FROM_DEVICE);
  dev_info(dev, 'CASE B: dma_map_sg(nents=%d) returned %d; dma_sync_sg_for_cpu(nents=2)\n', NP, n);
  if (!n) return -EIO;
  dma_sync_sg_for_cpu(dev, sg[1]!, 2, DMA_FROM_DEVICE);
  dma_unmap_sg(dev, sg[1]!, NP, DMA_FROM_DEVICE);

  n = dma_map_sg(dev, sg[2]!, NP, DMA_TO_DEVICE);
  dev_info(dev, 'CASE C: dma_map_sg(nents=%d) returned %d; dma_unmap_sg(nents=2)\n', NP, n);
  show(dev, 'C', sg[2]!, n);
  if (!n) return -EIO;
  dma_unmap_sg(dev, sg[2]!, 2, DMA_TO_DEVICE);

  sg_init_one(one, page_address(pages[0]![0]!), PAGE_SIZE);
  one.dma_address = 0x0bad0000;
  one.dma_length = PAGE_SIZE;
  dev_info(dev, 'CASE D: dma_sync_sg_for_cpu on a never-mapped sg\n');
  dma_sync_sg_for_cpu(dev, one, 1, DMA_FROM_DEVICE);
  dev_info(dev, 'CASE done\n');
  return 0;
}

function remove(_pdev: pci_dev): void {
  /* sgC segments 2..3 are deliberately left mapped; pages leak with them */
  for (let j = 0; j < 2; j++) for (let i = 0; i < NP; i++) __free_page(pages[j]![i]!);
}

export const edu_sgcount_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
