// SPDX-License-Identifier: GPL-2.0
/*
 * Case "free-coherent-cpu-addr" (check C-U5): dma_free_coherent with a CPU
 * address that differs from the one dma_alloc_coherent returned.
 *   c = dma_alloc_coherent(4096, &ch);
 *   dma_free_coherent(4096, c + 64, ch)
 *     -> C-U5 "different CPU address" (dma-direct frees by the dma handle,
 *        dma-iommu by virt_to_page(c + 64), the same page: no real harm)
 *   step 2: c2 = dma_alloc_coherent(8192); dma_free_coherent(4096, c2, ch2)
 *     -> C-U3 for a coherent buffer (wrong size)
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include "edu.h"

#define DRV_NAME "edu_cpuaddr"

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	dma_addr_t ch, ch2;
	void *c, *c2;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
	if (ret)
		return ret;

	c = dma_alloc_coherent(dev, 4096, &ch, GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	dev_info(dev, "CASE step 1: alloc cpu=%px phys=%pa dma=%pad; freeing with cpu=%px\n",
		 c, &(phys_addr_t){virt_to_phys(c)}, &ch, c + 64);
	dma_free_coherent(dev, 4096, c + 64, ch);

	c2 = dma_alloc_coherent(dev, 8192, &ch2, GFP_KERNEL);
	if (!c2)
		return -ENOMEM;
	dev_info(dev, "CASE step 2: alloc 8192 at dma=%pad, freeing with size 4096\n", &ch2);
	dma_free_coherent(dev, 4096, c2, ch2);
	dev_info(dev, "CASE done\n");
	return 0;
}

static void remove(struct pci_dev *pdev) { }

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
