// tools/kernel-rig-cases/dmar-fault-unmapped/edu_dmarfault2.c, line for line (DMAR faults):
// edu DMA to IOVAs never mapped, and to one above the device's 28-bit reach.
import { pcim_enable_device, pcim_iomap_regions, pcim_iomap_table, pci_set_master, PCI_DEVICE,
  type pci_dev, type pci_driver } from '#linux/pci';
import { dma_set_mask_and_coherent, DMA_BIT_MASK } from '#linux/dma-mapping';
import { dev_info } from '#linux/device';
import { msleep } from '#linux/delay';
import { EDU_VENDOR, EDU_DEVICE, EDU_BUF_ADDR, EDU_DMA_XFER, EDU_CMD_TO_RAM, edu_dma_poll } from '../edu_rig.ts';

const DRV_NAME = 'edu_dmarfault2';

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

  ret = edu_dma_poll(bar, 0x1000, EDU_BUF_ADDR, EDU_DMA_XFER, 0);
  dev_info(dev, 'CASE step 1: DMA RAM->device from never-mapped 0x1000 ret=%d\n', ret);
  msleep(100);
  ret = edu_dma_poll(bar, EDU_BUF_ADDR, 0x3000, EDU_DMA_XFER, EDU_CMD_TO_RAM);
  dev_info(dev, 'CASE step 2: DMA device->RAM into never-mapped 0x3000 ret=%d\n', ret);
  msleep(100);
  ret = edu_dma_poll(bar, 0x20000000, EDU_BUF_ADDR, EDU_DMA_XFER, 0);
  dev_info(dev, 'CASE step 3: DMA RAM->device from 0x20000000 ret=%d\n', ret);
  msleep(100);
  dev_info(dev, 'CASE done\n');
  return 0;
}

function remove(_pdev: pci_dev): void {}

export const edu_dmarfault2_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
