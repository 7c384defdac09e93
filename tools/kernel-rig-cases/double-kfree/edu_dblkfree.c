// SPDX-License-Identifier: GPL-2.0
/*
 * Case "double-kfree": p = kmalloc(64); kfree(p); kfree(p).
 * Allocator-dependent: the main rig kernel is tinyconfig (SLOB); the "dbg"
 * variant has SLUB + SLUB_DEBUG + SLAB_FREELIST_HARDENED (as distro kernels),
 * run with and without slub_debug=F.  No DMA involved.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include "edu.h"

#define DRV_NAME "edu_dblkfree"

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	void *p = kmalloc(64, GFP_KERNEL);

	dev_info(dev, "CASE: kmalloc(64)=%px; kfree twice\n", p);
	kfree(p);
	kfree(p);
	dev_info(dev, "CASE: survived the double kfree\n");
	return 0;
}

static void remove(struct pci_dev *pdev) { }

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
