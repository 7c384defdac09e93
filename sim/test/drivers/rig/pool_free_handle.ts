// tools/kernel-rig-cases/pool-free-handle/edu_poolfree.c, line for line: dma_pool_free with the
// right vaddr and a wrong handle inside the pool's page (alone, then followed by the right free,
// and two handles swapped), and what a double free does to the next allocations.
import { pcim_enable_device, pci_set_master, PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { dma_set_mask_and_coherent, DMA_BIT_MASK } from '#linux/dma-mapping';
import { dma_pool_create, dma_pool_alloc, dma_pool_free, dma_pool_destroy } from '#linux/dmapool';
import { GFP_KERNEL } from '#linux/slab';
import { dev_info } from '#linux/device';
import { out } from '#dmalab/ref';
import { ENOMEM } from '#linux/errno';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_poolfree';

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  const ha = out(0), hb = out(0), hc1 = out(0), hc2 = out(0), hd = out(0), hd1 = out(0), hd2 = out(0);
  let ret = pcim_enable_device(pdev);
  if (ret) return ret;
  pci_set_master(pdev);
  ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
  if (ret) return ret;
  const pa = dma_pool_create('pool_a', dev, 64, 64, 0);
  const pb = dma_pool_create('pool_b', dev, 64, 64, 0);
  const pc = dma_pool_create('pool_c', dev, 64, 64, 0);
  const pd = dma_pool_create('pool_d', dev, 64, 64, 0);
  if (!pa || !pb || !pc || !pd) return -ENOMEM;

  let a = dma_pool_alloc(pa, GFP_KERNEL, ha);
  dev_info(dev, 'CASE A: a=%px ha=%pad; dma_pool_free(a, ha + 64)\n', a, ha.value);
  dma_pool_free(pa, a, ha.value + 64);
  a = dma_pool_alloc(pa, GFP_KERNEL, ha);
  dev_info(dev, 'CASE A: next alloc a=%px ha=%pad\n', a, ha.value);
  dma_pool_free(pa, a, ha.value);
  dev_info(dev, 'CASE A: dma_pool_destroy(pool_a)\n');
  dma_pool_destroy(pa);

  const b = dma_pool_alloc(pb, GFP_KERNEL, hb);
  dev_info(dev, 'CASE B: b=%px hb=%pad; dma_pool_free(b, hb + 64), then dma_pool_free(b, hb)\n', b, hb.value);
  dma_pool_free(pb, b, hb.value + 64);
  dma_pool_free(pb, b, hb.value);
  dev_info(dev, 'CASE B: dma_pool_destroy(pool_b)\n');
  dma_pool_destroy(pb);

  const c1 = dma_pool_alloc(pc, GFP_KERNEL, hc1);
  const c2 = dma_pool_alloc(pc, GFP_KERNEL, hc2);
  dev_info(dev, 'CASE C: c1=%px hc1=%pad c2=%px hc2=%pad; dma_pool_free(c1, hc2), dma_pool_free(c2, hc1)\n',
    c1, hc1.value, c2, hc2.value);
  dma_pool_free(pc, c1, hc2.value);
  dma_pool_free(pc, c2, hc1.value);
  dev_info(dev, 'CASE C: dma_pool_destroy(pool_c)\n');
  dma_pool_destroy(pc);

  const d = dma_pool_alloc(pd, GFP_KERNEL, hd);
  dma_pool_free(pd, d, hd.value + 64);
  dma_pool_free(pd, d, hd.value);
  dma_pool_alloc(pd, GFP_KERNEL, hd1);
  dma_pool_alloc(pd, GFP_KERNEL, hd2);
  dev_info(dev, 'CASE D: after the double free of d=%pad: alloc %pad, alloc %pad\n', hd.value, hd1.value, hd2.value);
  dev_info(dev, 'CASE D: dma_pool_destroy(pool_d)\n');
  dma_pool_destroy(pd);
  dev_info(dev, 'CASE done\n');
  return 0;
}

function remove(_pdev: pci_dev): void {}

export const edu_poolfree_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
