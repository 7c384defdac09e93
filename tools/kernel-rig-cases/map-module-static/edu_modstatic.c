// SPDX-License-Identifier: GPL-2.0
/*
 * Case "map-module-static" (check C-M1): dma_map_single() of a buffer that is
 * a static variable of the module.  On x86-64 module memory lives at
 * 0xffffffffa0000000+, outside both the vmalloc range (so the "rejecting DMA
 * map of vmalloc memory" check does not catch it) and the linear map, so
 * virt_addr_valid() is false -> "maps memory from invalid area".
 * virt_to_page() of such an address is garbage (phys = addr - __START_KERNEL_map),
 * so what happens next depends on where that lands: here above the 28-bit mask.
 *   A: h = dma_map_single(modbuf, 256, TO_DEVICE); checked; unmapped if accepted
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include "edu.h"

#define DRV_NAME "edu_modstatic"

static u8 modbuf[256] __aligned(64);

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
	dev_info(dev, "CASE A: dma_map_single(modbuf=%px, 256, TO_DEVICE), is_vmalloc_addr=%d virt_addr_valid=%d\n",
		 modbuf, is_vmalloc_addr(modbuf), virt_addr_valid(modbuf));
	h = dma_map_single(dev, modbuf, sizeof(modbuf), DMA_TO_DEVICE);
	dev_info(dev, "CASE A: -> %pad error=%d\n", &h, dma_mapping_error(dev, h));
	if (!dma_mapping_error(dev, h))
		dma_unmap_single(dev, h, sizeof(modbuf), DMA_TO_DEVICE);
	dev_info(dev, "CASE done\n");
	return 0;
}

static void remove(struct pci_dev *pdev) { }

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
