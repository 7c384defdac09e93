// tools/kernel-rig-cases/dmar-fault/edu_dmarfault.c, line for line (DMAR faults): edu DMA
// through stale and never-mapped IOVAs. `%*ph` is spelled out as four %02x.
import { pcim_enable_device, pcim_iomap_regions, pcim_iomap_table, pci_set_master, PCI_DEVICE,
  type pci_dev, type pci_driver } from '#linux/pci';
import { dma_map_single, dma_unmap_single, dma_mapping_error, dma_set_mask_and_coherent, DMA_BIT_MASK,
  DMA_TO_DEVICE, DMA_FROM_DEVICE } from '#linux/dma-mapping';
import { kmalloc, kfree, GFP_KERNEL } from '#linux/slab';
import { dev_info } from '#linux/device';
import { msleep } from '#linux/delay';
import { memset } from '#linux/string';
import { get_u8, put_u8 } from '#dmalab/mem';
import { ENOMEM, EIO } from '#linux/errno';
import { EDU_VENDOR, EDU_DEVICE, EDU_BUF_ADDR, EDU_DMA_XFER, EDU_CMD_TO_RAM, edu_dma_poll } from '../edu_rig.ts';

const DRV_NAME = 'edu_dmarfault';

let buf = 0, buf2 = 0;

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  let ret = pcim_enable_device(pdev);
  if (ret) return ret;
  ret = pcim_iomap_regions(pdev, 1, DRV_NAME);
  if (ret) return ret;
  const bar = pcim_iomap_table(pdev)[0]!;
  pci_set_master(pdev);
  ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
  if (ret) return ret;

  buf = kmalloc(4096, GFP_KERNEL);
  buf2 = kmalloc(4096, GFP_KERNEL);
  if (!buf || !buf2) return -ENOMEM;
  for (let i = 0; i < 4096; i++) put_u8(i & 0xff, buf + i);
  memset(buf2, 0x5a, 4096);

  const h = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE);
  if (dma_mapping_error(dev, h)) return -EIO;
  ret = edu_dma_poll(bar, h, EDU_BUF_ADDR, EDU_DMA_XFER, 0);
  dev_info(dev, 'CASE step 1: valid DMA RAM->device from %pad ret=%d; unmapping\n', h, ret);
  dma_unmap_single(dev, h, 4096, DMA_TO_DEVICE);
  ret = edu_dma_poll(bar, h, EDU_BUF_ADDR, EDU_DMA_XFER, 0);
  dev_info(dev, 'CASE step 2: DMA RAM->device from stale %pad right after unmap ret=%d\n', h, ret);
  msleep(100);
  ret = edu_dma_poll(bar, h, EDU_BUF_ADDR, EDU_DMA_XFER, 0);
  dev_info(dev, 'CASE step 3: DMA RAM->device from stale %pad after 100 ms ret=%d\n', h, ret);
  msleep(100);

  const h2 = dma_map_single(dev, buf2, 4096, DMA_FROM_DEVICE);
  if (dma_mapping_error(dev, h2)) return -EIO;
  dma_unmap_single(dev, h2, 4096, DMA_FROM_DEVICE);
  msleep(100);
  ret = edu_dma_poll(bar, EDU_BUF_ADDR, h2, EDU_DMA_XFER, EDU_CMD_TO_RAM);
  dev_info(dev, 'CASE step 4: DMA device->RAM into stale %pad ret=%d; buf2[0..3]=%02x %02x %02x %02x\n',
    h2, ret, get_u8(buf2), get_u8(buf2 + 1), get_u8(buf2 + 2), get_u8(buf2 + 3));
  msleep(100);
  ret = edu_dma_poll(bar, 0x1000, EDU_BUF_ADDR, EDU_DMA_XFER, 0);
  dev_info(dev, 'CASE step 5: DMA RAM->device from never-mapped 0x1000 ret=%d\n', ret);
  msleep(100);
  ret = edu_dma_poll(bar, 0x1000, EDU_BUF_ADDR, EDU_DMA_XFER, 0);
  dev_info(dev, 'CASE step 6: the same again ret=%d\n', ret);
  msleep(100);
  ret = edu_dma_poll(bar, EDU_BUF_ADDR, 0x3000, EDU_DMA_XFER, EDU_CMD_TO_RAM);
  dev_info(dev, 'CASE step 7: DMA device->RAM into never-mapped 0x3000 ret=%d\n', ret);
  msleep(100);
  dev_info(dev, 'CASE done\n');
  return 0;
}

function remove(_pdev: pci_dev): void {
  kfree(buf);
  kfree(buf2);
}

export const edu_dmarfault_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
