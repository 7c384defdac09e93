// SPDX-License-Identifier: GPL-2.0
/*
 * Case "sg-segment" (checks C-M6, C-M7, CONFIG_DMA_API_DEBUG_SG=y).
 * The edu pci_dev has dma_parms: max_segment_size 65536 (set by the PCI core),
 * seg boundary ULONG_MAX by default.
 *   A: one 128 KiB physically contiguous block (alloc_pages order 5) as a
 *      single sg entry; dma_map_sg(1, TO_DEVICE)        -> C-M6 [len=131072] [max=65536]
 *   B: dma_set_seg_boundary(dev, 0xffff); one sg entry of 8 KiB starting at
 *      page 15 of the (128 KiB-aligned) block, i.e. crossing a 64 KiB line
 *      physically; dma_map_sg(1, TO_DEVICE)            -> C-M7 without IOMMU
 *   Both are unmapped correctly; the boundary is restored to ULONG_MAX.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include <linux/scatterlist.h>
#include "edu.h"

#define DRV_NAME "edu_sgseg"

static struct page *blk;

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct scatterlist sg;
	int ret, n;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
	if (ret)
		return ret;
	blk = alloc_pages(GFP_KERNEL, 5);
	if (!blk)
		return -ENOMEM;
	dev_info(dev, "CASE max_seg_size=%u seg_boundary=%#lx block phys=%pa\n",
		 dma_get_max_seg_size(dev), dma_get_seg_boundary(dev),
		 &(phys_addr_t){page_to_phys(blk)});

	sg_init_table(&sg, 1);
	sg_set_page(&sg, blk, 128 * 1024, 0);
	n = dma_map_sg(dev, &sg, 1, DMA_TO_DEVICE);
	dev_info(dev, "CASE A: 128 KiB segment: dma_map_sg returned %d dma=%pad len=%u\n",
		 n, &sg_dma_address(&sg), sg_dma_len(&sg));
	if (n)
		dma_unmap_sg(dev, &sg, 1, DMA_TO_DEVICE);

	dma_set_seg_boundary(dev, 0xffff);
	sg_init_table(&sg, 1);
	sg_set_page(&sg, blk + 15, 8192, 0);
	n = dma_map_sg(dev, &sg, 1, DMA_TO_DEVICE);
	dev_info(dev, "CASE B: 8 KiB segment across 64K, boundary 0xffff: dma_map_sg returned %d dma=%pad len=%u\n",
		 n, &sg_dma_address(&sg), sg_dma_len(&sg));
	if (n)
		dma_unmap_sg(dev, &sg, 1, DMA_TO_DEVICE);
	dma_set_seg_boundary(dev, ULONG_MAX);
	dev_info(dev, "CASE done\n");
	return 0;
}

static void remove(struct pci_dev *pdev)
{
	__free_pages(blk, 5);
}

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
