// tools/kernel-rig-cases/wrong-function/edu_wrongfn.c, line for line (C-U4, with C-U6/C-U7):
// release a mapping with the free/unmap call of another mapping type.
import { pcim_enable_device, pci_set_master, PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { dma_map_single, dma_unmap_single, dma_mapping_error, dma_alloc_coherent, dma_free_coherent,
  dma_map_sg, dma_unmap_sg, dma_set_mask_and_coherent, DMA_BIT_MASK, DMA_TO_DEVICE,
  DMA_BIDIRECTIONAL } from '#linux/dma-mapping';
import { sg_array, sg_init_one, sg_dma_address } from '#linux/scatterlist';
import { kmalloc, kfree, __get_free_page, GFP_KERNEL } from '#linux/slab';
import { dev_info } from '#linux/device';
import { out } from '#dmalab/ref';
import { ENOMEM, EIO } from '#linux/errno';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_wrongfn';

let q = 0, r = 0;

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  const sg = sg_array(1)[0]!;
  const ch = out(0);

  let ret = pcim_enable_device(pdev);
  if (ret) return ret;
  pci_set_master(pdev);
  ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
  if (ret) return ret;

  /* step 1 */
  const p = __get_free_page(GFP_KERNEL);
  if (!p) return -ENOMEM;
  let h = dma_map_single(dev, p, 4096, DMA_TO_DEVICE);
  if (dma_mapping_error(dev, h)) return -EIO;
  dev_info(dev, 'CASE step 1: dma_free_coherent on dma_map_single handle %pad\n', h);
  dma_free_coherent(dev, 4096, p, h);

  /* step 2 */
  const c = dma_alloc_coherent(dev, 4096, ch, GFP_KERNEL);
  if (!c) return -ENOMEM;
  dev_info(dev, 'CASE step 2: dma_unmap_single on dma_alloc_coherent handle %pad\n', ch.value);
  dma_unmap_single(dev, ch.value, 4096, DMA_BIDIRECTIONAL);

  /* step 3 */
  q = kmalloc(4096, GFP_KERNEL);
  r = kmalloc(4096, GFP_KERNEL);
  if (!q || !r) return -ENOMEM;
  h = dma_map_single(dev, q, 4096, DMA_TO_DEVICE);
  if (dma_mapping_error(dev, h)) return -EIO;
  sg_init_one(sg, q, 4096);
  sg.dma_address = h;
  sg.dma_length = 4096;
  dev_info(dev, 'CASE step 3: dma_unmap_sg on dma_map_single handle %pad\n', h);
  dma_unmap_sg(dev, sg, 1, DMA_TO_DEVICE);

  /* step 4 */
  sg_init_one(sg, r, 4096);
  const n = dma_map_sg(dev, sg, 1, DMA_TO_DEVICE);
  if (n !== 1) return -EIO;
  dev_info(dev, 'CASE step 4: dma_unmap_single on dma_map_sg handle %pad\n', sg_dma_address(sg));
  dma_unmap_single(dev, sg_dma_address(sg), 4096, DMA_TO_DEVICE);
  dev_info(dev, 'CASE done\n');
  return 0;
}

function remove(_pdev: pci_dev): void {
  kfree(q);
  kfree(r);
}

export const edu_wrongfn_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
