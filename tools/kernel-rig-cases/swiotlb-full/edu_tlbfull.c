// SPDX-License-Identifier: GPL-2.0
/*
 * Case "swiotlb-full": run with --mem 256 --append "swiotlb=128,force"
 * (a 128-slot = 256 KiB bounce pool below the 28-bit mask, every map bounces).
 *   A: map 4096-byte kmalloc buffers TO_DEVICE (each takes 2 slots of 2 KiB)
 *      until dma_map_single fails -> "swiotlb buffer is full (sz: 4096 bytes),
 *      total 128 (slots), used ... (slots)"
 *   B: after unmapping everything: one 512 KiB mapping (more than the pool)
 *   Every successful mapping is unmapped.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include <linux/slab.h>
#include "edu.h"

#define DRV_NAME "edu_tlbfull"
#define NB 80

static void *bufs[NB];
static void *big;

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	dma_addr_t h[NB], hb;
	int ret, i, n = 0;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
	if (ret)
		return ret;
	for (i = 0; i < NB; i++) {
		bufs[i] = kmalloc(4096, GFP_KERNEL);
		if (!bufs[i])
			return -ENOMEM;
	}
	big = (void *)__get_free_pages(GFP_KERNEL, 7);
	if (!big)
		return -ENOMEM;

	dev_info(dev, "CASE A: mapping 4096-byte buffers until the map fails\n");
	for (n = 0; n < NB; n++) {
		h[n] = dma_map_single(dev, bufs[n], 4096, DMA_TO_DEVICE);
		if (dma_mapping_error(dev, h[n]))
			break;
	}
	dev_info(dev, "CASE A: %d mappings succeeded (first %pad, last %pad); map #%d failed\n",
		 n, &h[0], &h[n ? n - 1 : 0], n + 1);
	for (i = 0; i < n; i++)
		dma_unmap_single(dev, h[i], 4096, DMA_TO_DEVICE);

	dev_info(dev, "CASE B: one 512 KiB mapping\n");
	hb = dma_map_single(dev, big, 512 * 1024, DMA_TO_DEVICE);
	dev_info(dev, "CASE B: -> %pad error=%d\n", &hb, dma_mapping_error(dev, hb));
	if (!dma_mapping_error(dev, hb))
		dma_unmap_single(dev, hb, 512 * 1024, DMA_TO_DEVICE);
	dev_info(dev, "CASE done\n");
	return 0;
}

static void remove(struct pci_dev *pdev)
{
	int i;

	for (i = 0; i < NB; i++)
		kfree(bufs[i]);
	free_pages((unsigned long)big, 7);
}

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
