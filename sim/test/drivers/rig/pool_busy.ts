// tools/kernel-rig-cases/pool-busy/edu_poolbusy.c, line for line (POOL_BUSY, pool bad dma):
// dma_pool_free with a wrong handle, then dma_pool_destroy with the block outstanding.
import { pcim_enable_device, pci_set_master, PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { dma_set_mask_and_coherent, DMA_BIT_MASK } from '#linux/dma-mapping';
import { dma_pool_create, dma_pool_alloc, dma_pool_free, dma_pool_destroy } from '#linux/dmapool';
import { GFP_KERNEL } from '#linux/slab';
import { dev_info } from '#linux/device';
import { out } from '#dmalab/ref';
import { ENOMEM } from '#linux/errno';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_poolbusy';

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  const h = out(0);
  let ret = pcim_enable_device(pdev);
  if (ret) return ret;
  pci_set_master(pdev);
  ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
  if (ret) return ret;

  const pool = dma_pool_create('edu_pool', dev, 64, 64, 0);
  if (!pool) return -ENOMEM;
  const v = dma_pool_alloc(pool, GFP_KERNEL, h);
  if (!v) return -ENOMEM;
  dev_info(dev, 'CASE: pool block v=%px dma=%pad\n', v, h.value);
  dev_info(dev, 'CASE A: dma_pool_free with a wrong dma handle\n');
  dma_pool_free(pool, v, h.value + 0x100000);
  dev_info(dev, 'CASE B: dma_pool_destroy with the block outstanding\n');
  dma_pool_destroy(pool);
  dev_info(dev, 'CASE done\n');
  return 0;
}

function remove(_pdev: pci_dev): void {}

export const edu_poolbusy_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
