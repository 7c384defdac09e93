// SPDX-License-Identifier: GPL-2.0
/*
 * Case "dmar-fault": device DMA to IOVAs that are not mapped (run with --iommu;
 * also with --append iommu.strict=1).  edu DMA, cnt = 4095 (see edu.h).
 *   step 1: h = dma_map_single(buf, 4096, TO_DEVICE) (checked); edu DMA
 *           RAM->device from h (valid); dma_unmap_single(h) (correct)
 *   step 2: immediately: edu DMA RAM->device from the stale h
 *           (lazy mode: the IOTLB flush is still queued)
 *   step 3: msleep(100) (the flush queue timeout is 10 ms), then edu DMA
 *           RAM->device from stale h                     -> DMA Read fault
 *   step 4: h2 = dma_map_single(buf2, 4096, FROM_DEVICE), unmap, msleep(100),
 *           edu DMA device->RAM into stale h2           -> DMA Write fault
 *   step 5: edu DMA RAM->device from IOVA 0x1000, never mapped
 *   step 6: the same again
 *   step 7: edu DMA device->RAM into IOVA 0x3000, never mapped
 * Each step is followed by msleep(100) so the fault handler gets to print.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include <linux/slab.h>
#include <linux/delay.h>
#include "edu.h"

#define DRV_NAME "edu_dmarfault"

static void *buf, *buf2;

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	void __iomem *bar;
	dma_addr_t h, h2;
	int ret, i;

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
	buf = kmalloc(4096, GFP_KERNEL);
	buf2 = kmalloc(4096, GFP_KERNEL);
	if (!buf || !buf2)
		return -ENOMEM;
	for (i = 0; i < 4096; i++)
		((u8 *)buf)[i] = (u8)i;
	memset(buf2, 0x5a, 4096);

	h = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, h))
		return -EIO;
	ret = edu_dma_poll(bar, h, EDU_BUF_ADDR, EDU_DMA_XFER, 0);
	dev_info(dev, "CASE step 1: valid DMA RAM->device from %pad ret=%d; unmapping\n", &h, ret);
	dma_unmap_single(dev, h, 4096, DMA_TO_DEVICE);

	ret = edu_dma_poll(bar, h, EDU_BUF_ADDR, EDU_DMA_XFER, 0);
	dev_info(dev, "CASE step 2: DMA RAM->device from stale %pad right after unmap ret=%d\n", &h, ret);
	msleep(100);

	ret = edu_dma_poll(bar, h, EDU_BUF_ADDR, EDU_DMA_XFER, 0);
	dev_info(dev, "CASE step 3: DMA RAM->device from stale %pad after 100 ms ret=%d\n", &h, ret);
	msleep(100);

	h2 = dma_map_single(dev, buf2, 4096, DMA_FROM_DEVICE);
	if (dma_mapping_error(dev, h2))
		return -EIO;
	dma_unmap_single(dev, h2, 4096, DMA_FROM_DEVICE);
	msleep(100);
	ret = edu_dma_poll(bar, EDU_BUF_ADDR, h2, EDU_DMA_XFER, EDU_CMD_TO_RAM);
	dev_info(dev, "CASE step 4: DMA device->RAM into stale %pad ret=%d; buf2[0..3]=%*ph\n",
		 &h2, ret, 4, buf2);
	msleep(100);

	ret = edu_dma_poll(bar, 0x1000, EDU_BUF_ADDR, EDU_DMA_XFER, 0);
	dev_info(dev, "CASE step 5: DMA RAM->device from never-mapped 0x1000 ret=%d\n", ret);
	msleep(100);

	ret = edu_dma_poll(bar, 0x1000, EDU_BUF_ADDR, EDU_DMA_XFER, 0);
	dev_info(dev, "CASE step 6: the same again ret=%d\n", ret);
	msleep(100);

	ret = edu_dma_poll(bar, EDU_BUF_ADDR, 0x3000, EDU_DMA_XFER, EDU_CMD_TO_RAM);
	dev_info(dev, "CASE step 7: DMA device->RAM into never-mapped 0x3000 ret=%d\n", ret);
	msleep(100);
	dev_info(dev, "CASE done\n");
	return 0;
}

static void remove(struct pci_dev *pdev)
{
	kfree(buf);
	kfree(buf2);
}

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
