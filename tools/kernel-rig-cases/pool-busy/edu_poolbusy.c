// SPDX-License-Identifier: GPL-2.0
/*
 * Case "pool-busy": dma_pool misuse.
 *   pool = dma_pool_create("edu_pool", dev, 64, 64, 0); v = dma_pool_alloc(&h)
 *   A: dma_pool_free(pool, v, h + 0x100000)   wrong dma handle -> "(bad dma)"
 *   B: dma_pool_destroy(pool) with v still allocated           -> "... busy"
 *      the pool's page (a dma_alloc_coherent of 4096) is leaked on purpose by
 *      mm/dmapool.c, so at unbind dma-debug reports a pending coherent entry.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include <linux/dmapool.h>
#include "edu.h"

#define DRV_NAME "edu_poolbusy"

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct dma_pool *pool;
	dma_addr_t h;
	void *v;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
	if (ret)
		return ret;
	pool = dma_pool_create("edu_pool", dev, 64, 64, 0);
	if (!pool)
		return -ENOMEM;
	v = dma_pool_alloc(pool, GFP_KERNEL, &h);
	if (!v)
		return -ENOMEM;
	dev_info(dev, "CASE: pool block v=%px dma=%pad\n", v, &h);
	dev_info(dev, "CASE A: dma_pool_free with a wrong dma handle\n");
	dma_pool_free(pool, v, h + 0x100000);
	dev_info(dev, "CASE B: dma_pool_destroy with the block outstanding\n");
	dma_pool_destroy(pool);
	dev_info(dev, "CASE done\n");
	return 0;
}

static void remove(struct pci_dev *pdev) { }

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
