// SPDX-License-Identifier: GPL-2.0
/*
 * Case "irq-double-free": free_irq() of an IRQ that is not requested.
 *   probe: pci_alloc_irq_vectors(1, 1, PCI_IRQ_LEGACY); irq = vector 0
 *   A: free_irq(irq, dev) without any request_irq  -> "Trying to free already-free IRQ"
 *   B: request_irq(irq, IRQF_SHARED); free_irq(irq, dev); free_irq(irq, dev) again
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/interrupt.h>
#include "edu.h"

#define DRV_NAME "edu_irqfree"

static irqreturn_t handler(int irq, void *data)
{
	return IRQ_NONE;
}

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	const void *name;
	int ret, irq;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_LEGACY);
	if (ret < 0)
		return ret;
	irq = pci_irq_vector(pdev, 0);
	dev_info(dev, "CASE A: free_irq(%d) never requested\n", irq);
	name = free_irq(irq, dev);
	dev_info(dev, "CASE A: free_irq returned %p\n", name);

	ret = request_irq(irq, handler, IRQF_SHARED, DRV_NAME, dev);
	dev_info(dev, "CASE B: request_irq(%d)=%d, free_irq twice\n", irq, ret);
	free_irq(irq, dev);
	name = free_irq(irq, dev);
	dev_info(dev, "CASE B: second free_irq returned %p\n", name);
	dev_info(dev, "CASE done\n");
	return 0;
}

static void remove(struct pci_dev *pdev) { }

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
