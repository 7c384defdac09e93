// ../shared/kernel-rig/examples/wrong-dir-sync/edu_wrongdir.c, line for line: a sync for the
// device in the wrong direction, then a stack buffer mapped two ways.
import { pci_enable_device, pci_disable_device, pci_request_regions, pci_release_regions, pci_iomap,
  pci_iounmap, pci_set_master, pci_clear_master, pci_set_drvdata, pci_get_drvdata, PCI_DEVICE,
  type pci_dev, type pci_driver } from '#linux/pci';
import { dma_map_single, dma_unmap_single, dma_map_page, dma_unmap_page, dma_mapping_error,
  dma_sync_single_for_cpu, dma_sync_single_for_device, dma_set_mask_and_coherent, DMA_BIT_MASK,
  DMA_TO_DEVICE, DMA_FROM_DEVICE } from '#linux/dma-mapping';
import { kzalloc, kfree, GFP_KERNEL } from '#linux/slab';
import { devm_kzalloc, dev_info, dev_err, type device } from '#linux/device';
import { readl, virt_to_phys, type iomem } from '#linux/io';
import { memset } from '#linux/string';
import { is_vmalloc_addr, offset_in_page } from '#linux/mm';
import { vmalloc_to_page } from '#linux/vmalloc';
import { stack_alloc } from '#dmalab/stack';
import { ENOMEM, EIO } from '#linux/errno';
import { EDU_VENDOR, EDU_DEVICE, EDU_REG_ID, EDU_BUF_SIZE, EDU_BUF_ADDR, EDU_DMA_XFER, EDU_CMD_TO_RAM, edu_dma_poll } from './edu_rig.ts';

const DRV_NAME = 'edu_wrongdir';

interface edu_wd { bar: iomem }

function edu_wd_map_stack(dev: device): void {
  const stackbuf = stack_alloc(64);
  memset(stackbuf, 0x5a, 64);
  /* BUG 2: DMA from the kernel stack. */
  let hs = dma_map_single(dev, stackbuf, 64, DMA_TO_DEVICE);
  if (dma_mapping_error(dev, hs)) {
    dev_info(dev, 'dma_map_single(stack buffer) -> mapping error\n');
  } else {
    dev_info(dev, 'dma_map_single(stack buffer) -> dma=%pad\n', hs);
    dma_unmap_single(dev, hs, 64, DMA_TO_DEVICE);
  }
  if (is_vmalloc_addr(stackbuf)) {
    const pg = vmalloc_to_page(stackbuf);
    /* BUG 2b: map the (vmalloc'ed) stack page via dma_map_page. */
    hs = dma_map_page(dev, pg, offset_in_page(stackbuf), 64, DMA_TO_DEVICE);
    if (dma_mapping_error(dev, hs)) {
      dev_info(dev, 'dma_map_page(stack page) -> mapping error\n');
    } else {
      dev_info(dev, 'dma_map_page(stack page) -> dma=%pad\n', hs);
      dma_unmap_page(dev, hs, 64, DMA_TO_DEVICE);
    }
  }
}

function edu_wd_probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  let ret: number;

  if (!devm_kzalloc(dev, 8, GFP_KERNEL)) return -ENOMEM;
  const p: edu_wd = { bar: 0 };
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

  const buf = kzalloc(EDU_BUF_SIZE, GFP_KERNEL);
  if (!buf) return unwind(pdev, p, -ENOMEM);
  const h = dma_map_single(dev, buf, EDU_BUF_SIZE, DMA_FROM_DEVICE);
  if (dma_mapping_error(dev, h)) {
    dev_err(dev, 'dma_map_single failed\n');
    kfree(buf);
    return unwind(pdev, p, -EIO);
  }
  dev_info(dev, 'buf phys=%pa mapped FROM_DEVICE at dma=%pad size=%d\n', virt_to_phys(buf), h, EDU_BUF_SIZE);
  ret = edu_dma_poll(p.bar, EDU_BUF_ADDR, h, EDU_DMA_XFER, EDU_CMD_TO_RAM);
  dev_info(dev, 'edu DMA device->RAM done ret=%d\n', ret);
  dma_sync_single_for_cpu(dev, h, EDU_BUF_SIZE, DMA_FROM_DEVICE);

  /* BUG 1: sync for device with a direction different from the mapping. */
  dma_sync_single_for_device(dev, h, EDU_BUF_SIZE, DMA_TO_DEVICE);
  dev_info(dev, 'synced dma=%pad for device with DMA_TO_DEVICE (mapped FROM_DEVICE)\n', h);

  dma_unmap_single(dev, h, EDU_BUF_SIZE, DMA_FROM_DEVICE);
  kfree(buf);

  edu_wd_map_stack(dev);

  pci_set_drvdata(pdev, p);
  dev_info(dev, 'probe done\n');
  return 0;
}

function unwind(pdev: pci_dev, p: edu_wd, ret: number): number {
  pci_iounmap(pdev, p.bar);
  pci_release_regions(pdev);
  pci_disable_device(pdev);
  return ret;
}

function edu_wd_remove(pdev: pci_dev): void {
  const p = pci_get_drvdata<edu_wd>(pdev);
  dev_info(pdev.dev, 'remove\n');
  pci_clear_master(pdev);
  pci_iounmap(pdev, p.bar);
  pci_release_regions(pdev);
  pci_disable_device(pdev);
}

export const edu_wrongdir_driver: pci_driver = {
  name: DRV_NAME,
  id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)],
  probe: edu_wd_probe,
  remove: edu_wd_remove,
};
