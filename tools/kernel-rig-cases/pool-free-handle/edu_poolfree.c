// SPDX-License-Identifier: GPL-2.0
/*
 * Case "pool-free-handle": dma_pool_free() given the right vaddr but a wrong
 * dma handle that still falls inside the pool's page. Without DMAPOOL_DEBUG
 * (this kernel: SLOB, no SLUB_DEBUG_ON) 6.1 finds the page by the handle and
 * frees the block by its vaddr, unchecked. One pool per step, 64-byte blocks:
 *   A: free(a, ha + 64)                  bad handle alone: silent, a is freed
 *   B: free(b, hb + 64); free(b, hb)     then the right free: a silent double
 *      free; in_use goes below 0, so dma_pool_destroy says "busy" and leaks
 *      the page, and the unbind check reports it (a coherent 4096)
 *   C: free(c1, hc2); free(c2, hc1)      two handles swapped: silent, both freed
 *   D: after B's double free, two allocations from a fresh pool get the same
 *      block (the free list points at itself)
 * Every pool is destroyed; the allocations each step made are printed.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include <linux/dmapool.h>
#include "edu.h"

#define DRV_NAME "edu_poolfree"

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct dma_pool *pa, *pb, *pc, *pd;
	dma_addr_t ha, hb, hc1, hc2, hd, hd1, hd2;
	void *a, *b, *c1, *c2, *d, *d1, *d2;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
	if (ret)
		return ret;
	pa = dma_pool_create("pool_a", dev, 64, 64, 0);
	pb = dma_pool_create("pool_b", dev, 64, 64, 0);
	pc = dma_pool_create("pool_c", dev, 64, 64, 0);
	pd = dma_pool_create("pool_d", dev, 64, 64, 0);
	if (!pa || !pb || !pc || !pd)
		return -ENOMEM;

	a = dma_pool_alloc(pa, GFP_KERNEL, &ha);
	dev_info(dev, "CASE A: a=%px ha=%pad; dma_pool_free(a, ha + 64)\n", a, &ha);
	dma_pool_free(pa, a, ha + 64);
	a = dma_pool_alloc(pa, GFP_KERNEL, &ha);
	dev_info(dev, "CASE A: next alloc a=%px ha=%pad\n", a, &ha);
	dma_pool_free(pa, a, ha);
	dev_info(dev, "CASE A: dma_pool_destroy(pool_a)\n");
	dma_pool_destroy(pa);

	b = dma_pool_alloc(pb, GFP_KERNEL, &hb);
	dev_info(dev, "CASE B: b=%px hb=%pad; dma_pool_free(b, hb + 64), then dma_pool_free(b, hb)\n", b, &hb);
	dma_pool_free(pb, b, hb + 64);
	dma_pool_free(pb, b, hb);
	dev_info(dev, "CASE B: dma_pool_destroy(pool_b)\n");
	dma_pool_destroy(pb);

	c1 = dma_pool_alloc(pc, GFP_KERNEL, &hc1);
	c2 = dma_pool_alloc(pc, GFP_KERNEL, &hc2);
	dev_info(dev, "CASE C: c1=%px hc1=%pad c2=%px hc2=%pad; dma_pool_free(c1, hc2), dma_pool_free(c2, hc1)\n",
		 c1, &hc1, c2, &hc2);
	dma_pool_free(pc, c1, hc2);
	dma_pool_free(pc, c2, hc1);
	dev_info(dev, "CASE C: dma_pool_destroy(pool_c)\n");
	dma_pool_destroy(pc);

	d = dma_pool_alloc(pd, GFP_KERNEL, &hd);
	dma_pool_free(pd, d, hd + 64);
	dma_pool_free(pd, d, hd);
	d1 = dma_pool_alloc(pd, GFP_KERNEL, &hd1);
	d2 = dma_pool_alloc(pd, GFP_KERNEL, &hd2);
	dev_info(dev, "CASE D: after the double free of d=%pad: alloc %pad, alloc %pad\n", &hd, &hd1, &hd2);
	dev_info(dev, "CASE D: dma_pool_destroy(pool_d)\n");
	dma_pool_destroy(pd);
	dev_info(dev, "CASE done\n");
	return 0;
}

static void remove(struct pci_dev *pdev) { }

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
