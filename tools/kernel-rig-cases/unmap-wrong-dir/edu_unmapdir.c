// SPDX-License-Identifier: GPL-2.0
/*
 * Case "unmap-wrong-dir" (check C-U7): unmap with a different direction.
 *   step 1: h = dma_map_single(buf, 4096, FROM_DEVICE) (checked);
 *           dma_unmap_single(h, 4096, TO_DEVICE)          -> C-U7
 *   step 2: h = dma_map_single(buf, 4096, TO_DEVICE) (checked);
 *           dma_unmap_single(h, 4096, DMA_BIDIRECTIONAL)  -> C-U7
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include <linux/slab.h>
#include "edu.h"

#define DRV_NAME "edu_unmapdir"

static void *buf;

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	dma_addr_t h;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
	if (ret)
		return ret;
	buf = kmalloc(4096, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;

	h = dma_map_single(dev, buf, 4096, DMA_FROM_DEVICE);
	if (dma_mapping_error(dev, h))
		return -EIO;
	dev_info(dev, "CASE step 1: mapped FROM_DEVICE at %pad, unmapping TO_DEVICE\n", &h);
	dma_unmap_single(dev, h, 4096, DMA_TO_DEVICE);

	h = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, h))
		return -EIO;
	dev_info(dev, "CASE step 2: mapped TO_DEVICE at %pad, unmapping BIDIRECTIONAL\n", &h);
	dma_unmap_single(dev, h, 4096, DMA_BIDIRECTIONAL);
	dev_info(dev, "CASE done\n");
	return 0;
}

static void remove(struct pci_dev *pdev)
{
	kfree(buf);
}

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
