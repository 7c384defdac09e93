// SPDX-License-Identifier: GPL-2.0
/*
 * Case "sync-errors" (checks C-S1, C-S3, C-S4).
 *   step 1: dma_sync_single_for_cpu(0x0bad0000, 4096, FROM_DEVICE), never mapped -> C-S1
 *   step 2: h = dma_map_single(buf, 4096, FROM_DEVICE) (checked);
 *           2a dma_sync_single_for_cpu(h, 8192, FROM_DEVICE): runs past the end    -> C-S1
 *           2b dma_sync_single_for_cpu(h + 2048, 4096, FROM_DEVICE): past the end  -> C-S1
 *           2c dma_sync_single_range_for_cpu(h, 1024, 1024, FROM_DEVICE): inside, correct
 *           dma_unmap_single(h) (correct)
 *   step 3: h2 = dma_map_single(buf2, 4096, TO_DEVICE) (checked);
 *           dma_sync_single_for_cpu(h2, 4096, FROM_DEVICE)   -> C-S3 + C-S4
 *           dma_unmap_single(h2) (correct)
 *   step 4: dma_sync_single_for_cpu(h2, 4096, TO_DEVICE) after the unmap       -> C-S1
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include <linux/slab.h>
#include "edu.h"

#define DRV_NAME "edu_syncerr"

static void *buf, *buf2;

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	dma_addr_t h, h2;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
	if (ret)
		return ret;
	buf = kzalloc(4096, GFP_KERNEL);
	buf2 = kzalloc(4096, GFP_KERNEL);
	if (!buf || !buf2)
		return -ENOMEM;

	dev_info(dev, "CASE step 1: sync_for_cpu of never-mapped 0x0bad0000\n");
	dma_sync_single_for_cpu(dev, 0x0bad0000, 4096, DMA_FROM_DEVICE);

	h = dma_map_single(dev, buf, 4096, DMA_FROM_DEVICE);
	if (dma_mapping_error(dev, h))
		return -EIO;
	dev_info(dev, "CASE step 2a: mapped %pad size 4096, sync_for_cpu size 8192\n", &h);
	dma_sync_single_for_cpu(dev, h, 8192, DMA_FROM_DEVICE);
	dev_info(dev, "CASE step 2b: sync_for_cpu(h + 2048, 4096)\n");
	dma_sync_single_for_cpu(dev, h + 2048, 4096, DMA_FROM_DEVICE);
	dev_info(dev, "CASE step 2c: sync_single_range_for_cpu(h, 1024, 1024) (correct)\n");
	dma_sync_single_range_for_cpu(dev, h, 1024, 1024, DMA_FROM_DEVICE);
	dma_unmap_single(dev, h, 4096, DMA_FROM_DEVICE);

	h2 = dma_map_single(dev, buf2, 4096, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, h2))
		return -EIO;
	dev_info(dev, "CASE step 3: mapped TO_DEVICE at %pad, sync_for_cpu FROM_DEVICE\n", &h2);
	dma_sync_single_for_cpu(dev, h2, 4096, DMA_FROM_DEVICE);
	dma_unmap_single(dev, h2, 4096, DMA_TO_DEVICE);

	dev_info(dev, "CASE step 4: sync_for_cpu after unmap\n");
	dma_sync_single_for_cpu(dev, h2, 4096, DMA_TO_DEVICE);
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
