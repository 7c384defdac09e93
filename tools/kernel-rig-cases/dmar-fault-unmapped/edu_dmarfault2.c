// SPDX-License-Identifier: GPL-2.0
/*
 * Case "dmar-fault-unmapped" (run with --iommu): edu DMA to IOVAs that were
 * never mapped in the device's domain (QEMU 7.2 stops delivering fault records
 * after a few faults, so this is separate from dmar-fault).
 *   step 1: edu DMA RAM->device from IOVA 0x1000     -> DMA Read fault
 *   step 2: edu DMA device->RAM into IOVA 0x3000     -> DMA Write fault
 *   step 3: edu DMA RAM->device from 0x20000000, above the 28-bit mask and
 *           above guest RAM (still below the 39-bit address width)
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include <linux/delay.h>
#include "edu.h"

#define DRV_NAME "edu_dmarfault2"

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	void __iomem *bar;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, 1, DRV_NAME);
	if (ret)
		return ret;
	bar = pcim_iomap_table(pdev)[0];
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
	if (ret)
		return ret;

	ret = edu_dma_poll(bar, 0x1000, EDU_BUF_ADDR, EDU_DMA_XFER, 0);
	dev_info(dev, "CASE step 1: DMA RAM->device from never-mapped 0x1000 ret=%d\n", ret);
	msleep(100);
	ret = edu_dma_poll(bar, EDU_BUF_ADDR, 0x3000, EDU_DMA_XFER, EDU_CMD_TO_RAM);
	dev_info(dev, "CASE step 2: DMA device->RAM into never-mapped 0x3000 ret=%d\n", ret);
	msleep(100);
	ret = edu_dma_poll(bar, 0x20000000, EDU_BUF_ADDR, EDU_DMA_XFER, 0);
	dev_info(dev, "CASE step 3: DMA RAM->device from 0x20000000 ret=%d\n", ret);
	msleep(100);
	dev_info(dev, "CASE done\n");
	return 0;
}

static void remove(struct pci_dev *pdev) { }

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
