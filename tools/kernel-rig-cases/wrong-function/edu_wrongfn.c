// SPDX-License-Identifier: GPL-2.0
/*
 * Case "wrong-function" (check C-U4, plus C-U6/C-U7 where they come along):
 * release a mapping with the free/unmap call of another mapping type.
 *   step 1: p = __get_free_page(); h = dma_map_single(p, 4096, TO_DEVICE)
 *           (checked); dma_free_coherent(4096, p, h)
 *           -> C-U4 [mapped as single] [unmapped as coherent]
 *              + C-U7 (coherent is always DMA_BIDIRECTIONAL)
 *           (the page really is freed by dma_free_coherent)
 *   step 2: c = dma_alloc_coherent(4096, &ch); dma_unmap_single(ch, 4096,
 *           DMA_BIDIRECTIONAL)       -> C-U4 [mapped as coherent] [unmapped as single]
 *           (c is then leaked on purpose: with the IOMMU it is a vmalloc
 *           remap, and dma_free_coherent would now be a second error)
 *   step 3: q = kmalloc(4096); h = dma_map_single(q, TO_DEVICE) (checked);
 *           a 1-entry sg pointing at it (sg_dma_address = h, len 4096);
 *           dma_unmap_sg(sg, 1, TO_DEVICE)
 *           -> C-U4 [mapped as single] [unmapped as scather-gather] + C-U6
 *   step 4: the reverse: dma_map_sg(1 entry, TO_DEVICE), then
 *           dma_unmap_single(sg_dma_address, 4096, TO_DEVICE)
 *           -> C-U4 [mapped as scather-gather] [unmapped as single]
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include "edu.h"

#define DRV_NAME "edu_wrongfn"

static void *q, *r;

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct scatterlist sg;
	dma_addr_t h, ch;
	void *p, *c;
	int ret, n;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
	if (ret)
		return ret;

	/* step 1 */
	p = (void *)__get_free_page(GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	h = dma_map_single(dev, p, 4096, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, h))
		return -EIO;
	dev_info(dev, "CASE step 1: dma_free_coherent on dma_map_single handle %pad\n", &h);
	dma_free_coherent(dev, 4096, p, h);

	/* step 2 */
	c = dma_alloc_coherent(dev, 4096, &ch, GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	dev_info(dev, "CASE step 2: dma_unmap_single on dma_alloc_coherent handle %pad\n", &ch);
	dma_unmap_single(dev, ch, 4096, DMA_BIDIRECTIONAL);

	/* step 3 */
	q = kmalloc(4096, GFP_KERNEL);
	r = kmalloc(4096, GFP_KERNEL);
	if (!q || !r)
		return -ENOMEM;
	h = dma_map_single(dev, q, 4096, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, h))
		return -EIO;
	sg_init_one(&sg, q, 4096);
	sg_dma_address(&sg) = h;
	sg_dma_len(&sg) = 4096;
	dev_info(dev, "CASE step 3: dma_unmap_sg on dma_map_single handle %pad\n", &h);
	dma_unmap_sg(dev, &sg, 1, DMA_TO_DEVICE);

	/* step 4 */
	sg_init_one(&sg, r, 4096);
	n = dma_map_sg(dev, &sg, 1, DMA_TO_DEVICE);
	if (n != 1)
		return -EIO;
	dev_info(dev, "CASE step 4: dma_unmap_single on dma_map_sg handle %pad\n",
		 &sg_dma_address(&sg));
	dma_unmap_single(dev, sg_dma_address(&sg), 4096, DMA_TO_DEVICE);
	dev_info(dev, "CASE done\n");
	return 0;
}

static void remove(struct pci_dev *pdev)
{
	kfree(q);
	kfree(r);
}

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
