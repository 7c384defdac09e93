// SPDX-License-Identifier: GPL-2.0
/*
 * Case "irq-leak": request_irq() without free_irq() before the driver goes.
 *   probe: pci_alloc_irq_vectors(1, 1, type), request_irq(vector 0)
 *   remove: BUG: no free_irq(); the vectors are released (pcim devres on a
 *           managed device frees MSI vectors after remove, or explicitly
 *           with free_vectors=1)
 *   Module parameter intx=1 uses the legacy INTx line instead of MSI.
 *   test.sh: rmmod (MSI case, loaded by /init), then insmod intx=1 + rmmod.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/interrupt.h>
#include "edu.h"

#define DRV_NAME "edu_irqleak"

static bool intx;
module_param(intx, bool, 0444);

static irqreturn_t handler(int irq, void *data)
{
	return IRQ_NONE;
}

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	int ret, irq;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pci_alloc_irq_vectors(pdev, 1, 1, intx ? PCI_IRQ_LEGACY : PCI_IRQ_MSI);
	if (ret < 0)
		return ret;
	irq = pci_irq_vector(pdev, 0);
	ret = request_irq(irq, handler, IRQF_SHARED, DRV_NAME, dev);
	dev_info(dev, "CASE: %s irq %d requested ret=%d; it will never be freed\n",
		 intx ? "INTx" : "MSI", irq, ret);
	return ret;
}

static void remove(struct pci_dev *pdev)
{
	dev_info(&pdev->dev, "CASE remove: no free_irq\n");
}

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
