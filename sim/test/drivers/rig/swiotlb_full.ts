// tools/kernel-rig-cases/swiotlb-full/edu_tlbfull.c, line for line (SWIOTLB_FULL): map
// 4096-byte buffers until the bounce pool is full, then one mapping bigger than the pool.
import { pcim_enable_device, pci_set_master, PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { dma_map_single, dma_unmap_single, dma_mapping_error, dma_set_mask_and_coherent, DMA_BIT_MASK,
  DMA_TO_DEVICE } from '#linux/dma-mapping';
import { kmalloc, kfree, __get_free_pages, free_pages, GFP_KERNEL } from '#linux/slab';
import { dev_info } from '#linux/device';
import { ENOMEM } from '#linux/errno';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_tlbfull';
const NB = 80;

let bufs: number[] = [];
let big = 0;

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  const h: number[] = [];
  let n = 0;
  bufs = [];

  let ret = pcim_enable_device(pdev);
  if (ret) return ret;
  pci_set_master(pdev);
  ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
  if (ret) return ret;

  for (let i = 0; i < NB; i++) {
    bufs[i] = kmalloc(4096, GFP_KERNEL);
    if (!bufs[i]) return -ENOMEM;
  }
  big = __get_free_pages(GFP_KERNEL, 7);
  if (!big) return -ENOMEM;

  dev_info(dev, 'CASE A: mapping 4096-byte buffers until the map fails\n');
  for (n = 0; n < NB; n++) {
    h[n] = dma_map_single(dev, bufs[n]!, 4096, DMA_TO_DEVICE);
    if (dma_mapping_error(dev, h[n]!)) break;
  }
  dev_info(dev, 'CASE A: %d mappings succeeded (first %pad, last %pad); map #%d failed\n', n, h[0], h[n ? n - 1 : 0], n + 1);
  for (let i = 0; i < n; i++) dma_unmap_single(dev, h[i]!, 4096, DMA_TO_DEVICE);

  dev_info(dev, 'CASE B: one 512 KiB mapping\n');
  const hb = dma_map_single(dev, big, 512 * 1024, DMA_TO_DEVICE);
  dev_info(dev, 'CASE B: -> %pad error=%d\n', hb, dma_mapping_error(dev, hb));
  if (!dma_mapping_error(dev, hb)) dma_unmap_single(dev, hb, 512 * 1024, DMA_TO_DEVICE);
  dev_info(dev, 'CASE done\n');
  return 0;
}

function remove(_pdev: pci_dev): void {
  for (let i = 0; i < NB; i++) kfree(bufs[i]!);
  free_pages(big, 7);
}

export const edu_tlbfull_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
