// SPDX-License-Identifier: GPL-2.0
/*
 * Case "leak-sg" (check C-L1 for a scatterlist mapping).
 *   probe: a 2-entry sg of two separate pages, dma_map_sg(2, FROM_DEVICE);
 *          never unmapped.  Unbind (rmmod) -> "pending DMA allocations"
 *          [count=2] without IOMMU (2 mapped segments), [count=1] with it.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include <linux/scatterlist.h>
#include "edu.h"

#define DRV_NAME "edu_leaksg"

static struct scatterlist sg[2];

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	int ret, i, n;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
	if (ret)
		return ret;
	sg_init_table(sg, 2);
	for (i = 0; i < 2; i++) {
		struct page *pg = alloc_page(GFP_KERNEL);

		if (!pg)
			return -ENOMEM;
		sg_set_page(&sg[i], pg, PAGE_SIZE, 0);
	}
	n = dma_map_sg(dev, sg, 2, DMA_FROM_DEVICE);
	for (i = 0; i < n; i++)
		dev_info(dev, "CASE: dma_map_sg(2) -> %d: seg %d dma=%pad len=%u; never unmapped\n",
			 n, i, &sg_dma_address(&sg[i]), sg_dma_len(&sg[i]));
	return n ? 0 : -EIO;
}

static void remove(struct pci_dev *pdev)
{
	dev_info(&pdev->dev, "CASE remove: not unmapping the sg list\n");
}

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
