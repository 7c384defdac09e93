// SPDX-License-Identifier: GPL-2.0
/*
 * Case "sg-count" (checks C-U6, C-S6): scatterlists of 4 separate pages.
 * Run with and without --iommu: dma-direct returns 4 (no merging); the
 * IOMMU merges the 4 pages into one IOVA range and returns 1.
 *   A: n = dma_map_sg(sgA, 4, TO_DEVICE); dma_unmap_sg(sgA, n, TO_DEVICE)
 *      BUG: unmaps with the returned count (only a bug when n != 4)
 *   B: dma_map_sg(sgB, 4, FROM_DEVICE); dma_sync_sg_for_cpu(sgB, 2, FROM_DEVICE)
 *      BUG: sync nents 2 != 4 -> C-S6 (per processed mapped segment);
 *      then a correct dma_unmap_sg(sgB, 4)
 *   C: dma_map_sg(sgC, 4, TO_DEVICE); dma_unmap_sg(sgC, 2, TO_DEVICE)
 *      BUG: unmap nents 2 != 4 -> C-U6; without IOMMU segments 2 and 3 stay
 *      mapped -> "pending DMA allocations" [mapped as scather-gather] at unbind
 *   D: dma_sync_sg_for_cpu on a never-mapped 1-entry sg (silent in 6.1)
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include "edu.h"

#define DRV_NAME "edu_sgcount"
#define NP 4

static struct page *pages[3][NP];
static struct scatterlist sg[3][NP];

static void show(struct device *dev, const char *what, struct scatterlist *s, int n)
{
	int i;

	for (i = 0; i < n; i++)
		dev_info(dev, "CASE %s: seg %d dma=%pad len=%u\n", what, i,
			 &sg_dma_address(&s[i]), sg_dma_len(&s[i]));
}

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct scatterlist one;
	int ret, i, j, n;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
	if (ret)
		return ret;
	for (j = 0; j < 3; j++) {
		sg_init_table(sg[j], NP);
		for (i = 0; i < NP; i++) {
			pages[j][i] = alloc_page(GFP_KERNEL);
			if (!pages[j][i])
				return -ENOMEM;
			sg_set_page(&sg[j][i], pages[j][i], PAGE_SIZE, 0);
		}
	}

	n = dma_map_sg(dev, sg[0], NP, DMA_TO_DEVICE);
	dev_info(dev, "CASE A: dma_map_sg(nents=%d) returned %d; dma_unmap_sg(nents=%d)\n", NP, n, n);
	show(dev, "A", sg[0], n);
	if (!n)
		return -EIO;
	dma_unmap_sg(dev, sg[0], n, DMA_TO_DEVICE);

	n = dma_map_sg(dev, sg[1], NP, DMA_FROM_DEVICE);
	dev_info(dev, "CASE B: dma_map_sg(nents=%d) returned %d; dma_sync_sg_for_cpu(nents=2)\n", NP, n);
	if (!n)
		return -EIO;
	dma_sync_sg_for_cpu(dev, sg[1], 2, DMA_FROM_DEVICE);
	dma_unmap_sg(dev, sg[1], NP, DMA_FROM_DEVICE);

	n = dma_map_sg(dev, sg[2], NP, DMA_TO_DEVICE);
	dev_info(dev, "CASE C: dma_map_sg(nents=%d) returned %d; dma_unmap_sg(nents=2)\n", NP, n);
	show(dev, "C", sg[2], n);
	if (!n)
		return -EIO;
	dma_unmap_sg(dev, sg[2], 2, DMA_TO_DEVICE);

	sg_init_one(&one, page_address(pages[0][0]), PAGE_SIZE);
	sg_dma_address(&one) = 0x0bad0000;
	sg_dma_len(&one) = PAGE_SIZE;
	dev_info(dev, "CASE D: dma_sync_sg_for_cpu on a never-mapped sg\n");
	dma_sync_sg_for_cpu(dev, &one, 1, DMA_FROM_DEVICE);
	dev_info(dev, "CASE done\n");
	return 0;
}

static void remove(struct pci_dev *pdev)
{
	int i, j;

	/* sgC segments 2..3 are deliberately left mapped; pages leak with them */
	for (j = 0; j < 2; j++)
		for (i = 0; i < NP; i++)
			__free_page(pages[j][i]);
}

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
