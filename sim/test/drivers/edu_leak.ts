// ../shared/kernel-rig/examples/leak-and-wrong-size/edu_leak.c, line for line: an unchecked
// map, an unmap with the wrong size, and a mapping left behind at unbind.
import { pci_enable_device, pci_disable_device, pci_request_regions, pci_release_regions, pci_iomap,
  pci_iounmap, pci_set_master, pci_clear_master, pci_set_drvdata, pci_get_drvdata, PCI_DEVICE,
  type pci_dev, type pci_driver } from '#linux/pci';
import { dma_map_single, dma_unmap_single, dma_mapping_error, dma_sync_single_for_cpu,
  dma_set_mask_and_coherent, DMA_BIT_MASK, DMA_TO_DEVICE, DMA_FROM_DEVICE } from '#linux/dma-mapping';
import { kmalloc, kfree, GFP_KERNEL } from '#linux/slab';
import { devm_kzalloc, dev_info, dev_err } from '#linux/device';
import { readl, virt_to_phys, type iomem } from '#linux/io';
import { memset } from '#linux/string';
import { get_u8, put_u8 } from '#dmalab/mem';
import { ENOMEM, EIO } from '#linux/errno';
import { EDU_VENDOR, EDU_DEVICE, EDU_REG_ID, EDU_BUF_SIZE, EDU_BUF_ADDR, EDU_DMA_XFER, EDU_CMD_TO_RAM, edu_dma_poll } from './edu_rig.ts';

const DRV_NAME = 'edu_leak';

interface edu_leak { bar: iomem; buf1: number; buf2: number; h1: number; h2: number }

function edu_leak_probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  let ret: number, bad = 0;

  if (!devm_kzalloc(dev, 48, GFP_KERNEL)) return -ENOMEM;
  const p: edu_leak = { bar: 0, buf1: 0, buf2: 0, h1: 0, h2: 0 };
  ret = pci_enable_device(pdev);
  if (ret) return ret;
  ret = pci_request_regions(pdev, DRV_NAME);
  if (ret) { pci_disable_device(pdev); return ret; }
  p.bar = pci_iomap(pdev, 0, 0);
  if (!p.bar) { pci_release_regions(pdev); pci_disable_device(pdev); return -ENOMEM; }
  pci_set_master(pdev);
  ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
  dev_info(dev, 'edu id=0x%08x dma_set_mask_and_coherent(28)=%d\n', readl(p.bar + EDU_REG_ID), ret);
  if (ret) return unwind(pdev, p, ret);

  p.buf1 = kmalloc(EDU_BUF_SIZE, GFP_KERNEL);
  p.buf2 = kmalloc(EDU_BUF_SIZE, GFP_KERNEL);
  if (!p.buf1 || !p.buf2) { kfree(p.buf1); kfree(p.buf2); return unwind(pdev, p, -ENOMEM); }
  for (let i = 0; i < EDU_BUF_SIZE; i++) put_u8((i * 7 + 3) & 0xff, p.buf1 + i);
  memset(p.buf2, 0, EDU_BUF_SIZE);

  /* BUG 1: the result is not checked with dma_mapping_error(). */
  p.h1 = dma_map_single(dev, p.buf1, EDU_BUF_SIZE, DMA_TO_DEVICE);
  dev_info(dev, 'buf1 phys=%pa mapped TO_DEVICE at dma=%pad size=%d\n', virt_to_phys(p.buf1), p.h1, EDU_BUF_SIZE);

  ret = edu_dma_poll(p.bar, p.h1, EDU_BUF_ADDR, EDU_DMA_XFER, 0);
  dev_info(dev, 'edu DMA RAM->device done ret=%d\n', ret);

  /* BUG 2: unmap with a different size than was mapped. */
  dma_unmap_single(dev, p.h1, EDU_BUF_SIZE / 2, DMA_TO_DEVICE);
  dev_info(dev, 'unmapped dma=%pad with size %d (mapped %d)\n', p.h1, EDU_BUF_SIZE / 2, EDU_BUF_SIZE);

  /* Second mapping: checked, used, but never unmapped (BUG 3). */
  p.h2 = dma_map_single(dev, p.buf2, EDU_BUF_SIZE, DMA_FROM_DEVICE);
  if (dma_mapping_error(dev, p.h2)) {
    dev_err(dev, 'buf2 dma_map_single failed\n');
    kfree(p.buf1); kfree(p.buf2);
    return unwind(pdev, p, -EIO);
  }
  dev_info(dev, 'buf2 phys=%pa mapped FROM_DEVICE at dma=%pad size=%d\n', virt_to_phys(p.buf2), p.h2, EDU_BUF_SIZE);
  ret = edu_dma_poll(p.bar, EDU_BUF_ADDR, p.h2, EDU_DMA_XFER, EDU_CMD_TO_RAM);
  dma_sync_single_for_cpu(dev, p.h2, EDU_BUF_SIZE, DMA_FROM_DEVICE);
  for (let i = 0; i < EDU_DMA_XFER; i++) if (get_u8(p.buf2 + i) !== ((i * 7 + 3) & 0xff)) bad++;
  dev_info(dev, 'edu DMA device->RAM done ret=%d, data check: %d/%d bytes differ\n', ret, bad, EDU_DMA_XFER);

  pci_set_drvdata(pdev, p);
  dev_info(dev, 'probe done; leaving dma=%pad mapped\n', p.h2);
  return 0;
}

function unwind(pdev: pci_dev, p: edu_leak, ret: number): number {
  pci_iounmap(pdev, p.bar);
  pci_release_regions(pdev);
  pci_disable_device(pdev);
  return ret;
}

function edu_leak_remove(pdev: pci_dev): void {
  const p = pci_get_drvdata<edu_leak>(pdev);
  dev_info(pdev.dev, 'remove: NOT unmapping dma=%pad\n', p.h2);
  /* BUG 3: p->h2 stays mapped; its buffer is leaked too. */
  kfree(p.buf1);
  pci_clear_master(pdev);
  pci_iounmap(pdev, p.bar);
  pci_release_regions(pdev);
  pci_disable_device(pdev);
}

export const edu_leak_driver: pci_driver = {
  name: DRV_NAME,
  id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)],
  probe: edu_leak_probe,
  remove: edu_leak_remove,
};
