// SPDX-License-Identifier: GPL-2.0
/*
 * Case "leak-coherent" (check C-L1 for a coherent buffer).
 *   probe: c = dma_alloc_coherent(8192, &ch); never freed.
 *   The rig's default /init action (rmmod) unbinds the driver, and dma-debug's
 *   bus notifier reports the pending allocation
 *   ([mapped with DMA_BIDIRECTIONAL] [mapped as coherent]).
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include "edu.h"

#define DRV_NAME "edu_leakcoh"

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	dma_addr_t ch;
	void *c;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
	if (ret)
		return ret;
	c = dma_alloc_coherent(dev, 8192, &ch, GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	dev_info(dev, "CASE: dma_alloc_coherent(8192) -> dma=%pad; never freed\n", &ch);
	return 0;
}

static void remove(struct pci_dev *pdev)
{
	dev_info(&pdev->dev, "CASE remove: not freeing the coherent buffer\n");
}

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
