// SPDX-License-Identifier: GPL-2.0
/*
 * Case "unmap-errors" (checks C-U1, C-U2): unmaps of addresses dma-debug does
 * not know.  All in probe, on the QEMU edu device, mask 28 bits:
 *   step 1: dma_unmap_single(DMA_MAPPING_ERROR, 4096, TO_DEVICE)   -> C-U1
 *   step 2: dma_unmap_single(0x0bad0000, 4096, TO_DEVICE), an address that was
 *           never mapped                                          -> C-U2
 *   step 3: buf = kmalloc(4096); h = dma_map_single(TO_DEVICE) (checked);
 *           dma_unmap_single(h) (correct), then dma_unmap_single(h) again
 *           (double unmap)                                        -> C-U2
 * Under --iommu, iommu_dma_unmap_page() WARNs first (iova_to_phys == 0) for
 * steps 1-3 and skips the real unmap; dma-debug runs after the real unmap.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include <linux/slab.h>
#include "edu.h"

#define DRV_NAME "edu_unmap_err"
#define NEVER_MAPPED ((dma_addr_t)0x0bad0000)

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

	dev_info(dev, "CASE step 1: dma_unmap_single(DMA_MAPPING_ERROR)\n");
	dma_unmap_single(dev, DMA_MAPPING_ERROR, 4096, DMA_TO_DEVICE);

	dev_info(dev, "CASE step 2: dma_unmap_single(never mapped %pad)\n",
		 &(dma_addr_t){NEVER_MAPPED});
	dma_unmap_single(dev, NEVER_MAPPED, 4096, DMA_TO_DEVICE);

	buf = kmalloc(4096, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	h = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, h))
		return -EIO;
	dev_info(dev, "CASE step 3: mapped %pad, unmapping twice\n", &h);
	dma_unmap_single(dev, h, 4096, DMA_TO_DEVICE);
	dma_unmap_single(dev, h, 4096, DMA_TO_DEVICE);
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
