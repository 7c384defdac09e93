// SPDX-License-Identifier: GPL-2.0
/*
 * Case "cacheline-overlap" (check C-M8 and the "exceeded 7 overlapping
 * mappings" WARN_ONCE).  p = one page (page aligned, so p and p+32 share a
 * 64-byte cache line; x86-64 L1_CACHE_SHIFT = 6).
 *   A: h1 = map(p, 32, FROM_DEVICE); h2 = map(p + 32, 32, FROM_DEVICE) -> C-M8
 *   B: h3 = map(p + 40, 16, FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC)      -> silent
 *   C: h4 = map(p + 48, 16, TO_DEVICE)  (TO_DEVICE is not tracked)    -> silent
 *   D: 9 more FROM_DEVICE maps of p + 128 (one cache line): the 2nd..9th
 *      give C-M8; the 9th also exceeds the 3-bit overlap counter (max 7)
 *   All mappings are then unmapped correctly.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include "edu.h"

#define DRV_NAME "edu_overlap"

static unsigned long p;

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	dma_addr_t h1, h2, h3, h4, hd[9];
	void *v;
	int ret, i;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
	if (ret)
		return ret;
	p = __get_free_page(GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	v = (void *)p;

	dev_info(dev, "CASE A: map p (phys %pa) and p+32, both FROM_DEVICE\n",
		 &(phys_addr_t){virt_to_phys(v)});
	h1 = dma_map_single(dev, v, 32, DMA_FROM_DEVICE);
	h2 = dma_map_single(dev, v + 32, 32, DMA_FROM_DEVICE);
	dev_info(dev, "CASE B: map p+40 FROM_DEVICE with DMA_ATTR_SKIP_CPU_SYNC\n");
	h3 = dma_map_single_attrs(dev, v + 40, 16, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
	dev_info(dev, "CASE C: map p+48 TO_DEVICE\n");
	h4 = dma_map_single(dev, v + 48, 16, DMA_TO_DEVICE);
	dev_info(dev, "CASE D: map p+128 nine times FROM_DEVICE\n");
	for (i = 0; i < 9; i++)
		hd[i] = dma_map_single(dev, v + 128, 64, DMA_FROM_DEVICE);
	dev_info(dev, "CASE unmapping all\n");
	for (i = 0; i < 9; i++)
		if (!dma_mapping_error(dev, hd[i]))
			dma_unmap_single(dev, hd[i], 64, DMA_FROM_DEVICE);
	if (!dma_mapping_error(dev, h4))
		dma_unmap_single(dev, h4, 16, DMA_TO_DEVICE);
	if (!dma_mapping_error(dev, h3))
		dma_unmap_single_attrs(dev, h3, 16, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
	if (!dma_mapping_error(dev, h2))
		dma_unmap_single(dev, h2, 32, DMA_FROM_DEVICE);
	if (!dma_mapping_error(dev, h1))
		dma_unmap_single(dev, h1, 32, DMA_FROM_DEVICE);
	dev_info(dev, "CASE done\n");
	return 0;
}

static void remove(struct pci_dev *pdev)
{
	free_page(p);
}

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
