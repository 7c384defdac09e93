// SPDX-License-Identifier: GPL-2.0
/*
 * Case "map-rodata" (checks C-M5 and C-M1 on x86-64).  All TO_DEVICE, checked,
 * unmapped correctly; the device never touches them.
 *   A: dma_map_single(hex_asc, 16): hex_asc[] is kernel .rodata, addressed
 *      through the kernel-image mapping (0xffffffff8...), not the linear map
 *   B: dma_map_single(lm_alias(hex_asc), 16): the same bytes through the
 *      linear-map alias (0xffff888...)
 *   C: dma_map_page(virt_to_page(&dma_map_page_attrs), offset, 64): kernel text
 * debug.c compares page_address(page)+offset (a linear-map address) with
 * _stext.._etext / __start_rodata..__end_rodata (kernel-image addresses).
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/kernel.h>
#include "edu.h"

#define DRV_NAME "edu_rodata"

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	const void *text = (const void *)&dma_map_page_attrs;
	const void *ro_lm = lm_alias(hex_asc);
	dma_addr_t h;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
	if (ret)
		return ret;

	dev_info(dev, "CASE A: dma_map_single(hex_asc=%px, 16) (kernel rodata, image address)\n", hex_asc);
	h = dma_map_single(dev, (void *)hex_asc, 16, DMA_TO_DEVICE);
	dev_info(dev, "CASE A: -> %pad\n", &h);
	if (!dma_mapping_error(dev, h))
		dma_unmap_single(dev, h, 16, DMA_TO_DEVICE);

	dev_info(dev, "CASE B: dma_map_single(lm_alias(hex_asc)=%px, 16) (linear alias)\n", ro_lm);
	h = dma_map_single(dev, (void *)ro_lm, 16, DMA_TO_DEVICE);
	dev_info(dev, "CASE B: -> %pad\n", &h);
	if (!dma_mapping_error(dev, h))
		dma_unmap_single(dev, h, 16, DMA_TO_DEVICE);

	dev_info(dev, "CASE C: dma_map_page(virt_to_page(text=%px), off %lu, 64)\n",
		 text, offset_in_page(text));
	h = dma_map_page(dev, virt_to_page(text), offset_in_page(text), 64, DMA_TO_DEVICE);
	dev_info(dev, "CASE C: -> %pad\n", &h);
	if (!dma_mapping_error(dev, h))
		dma_unmap_page(dev, h, 64, DMA_TO_DEVICE);
	dev_info(dev, "CASE done\n");
	return 0;
}

static void remove(struct pci_dev *pdev) { }

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
