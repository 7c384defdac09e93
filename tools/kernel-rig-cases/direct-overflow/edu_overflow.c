// SPDX-License-Identifier: GPL-2.0
/*
 * Case "direct-overflow": dma-direct map of a page above the device's 28-bit
 * mask with no swiotlb (x86, <= 4 GiB RAM, no swiotlb=force: swiotlb is not
 * set up).  Run with the default 512 MiB, no IOMMU.
 *   Allocate 2 MiB blocks (order 9) until one lies at or above 256 MiB, then
 *   A: h = dma_map_page(that page, 0, 4096, TO_DEVICE)
 *      -> "DMA addr ... overflow (mask fffffff, bus limit 0)." (dev_WARN_ONCE),
 *         h == DMA_MAPPING_ERROR, dma-debug adds no entry
 *   B: the same map again (WARN_ONCE: expected silent)
 *   All blocks are freed again.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include "edu.h"

#define DRV_NAME "edu_overflow"
#define MAXBLK 256

static struct page *blk[MAXBLK];
static int nblk;

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct page *high = NULL;
	dma_addr_t h;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
	if (ret)
		return ret;
	while (nblk < MAXBLK) {
		struct page *pg = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 9);

		if (!pg)
			break;
		blk[nblk++] = pg;
		if (page_to_phys(pg) >= 0x10000000ULL) {
			high = pg;
			break;
		}
	}
	dev_info(dev, "CASE: %d blocks allocated; high page phys=%pa\n", nblk,
		 &(phys_addr_t){high ? page_to_phys(high) : 0});
	if (!high)
		return 0;

	dev_info(dev, "CASE A: dma_map_page(page above mask, 4096, TO_DEVICE)\n");
	h = dma_map_page(dev, high, 0, 4096, DMA_TO_DEVICE);
	dev_info(dev, "CASE A: -> %pad, dma_mapping_error=%d\n", &h, dma_mapping_error(dev, h));
	if (!dma_mapping_error(dev, h))
		dma_unmap_page(dev, h, 4096, DMA_TO_DEVICE);
	dev_info(dev, "CASE B: again\n");
	h = dma_map_page(dev, high + 1, 0, 4096, DMA_TO_DEVICE);
	dev_info(dev, "CASE B: -> %pad, dma_mapping_error=%d\n", &h, dma_mapping_error(dev, h));
	if (!dma_mapping_error(dev, h))
		dma_unmap_page(dev, h, 4096, DMA_TO_DEVICE);
	dev_info(dev, "CASE done\n");
	return 0;
}

static void remove(struct pci_dev *pdev)
{
	while (nblk)
		__free_pages(blk[--nblk], 9);
}

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
