// SPDX-License-Identifier: GPL-2.0
/*
 * Case "irq-mutex": sleeping in a hard IRQ handler.
 *   probe: one MSI vector (pci_alloc_irq_vectors), request_irq(handler);
 *          raise an edu interrupt (write 1 to 0x60, the "raise" register),
 *          then busy-wait (mdelay) so the IRQ lands on top of insmod.
 *   handler: read status (0x24), ack it (0x64), then mutex_lock(&m); mutex_unlock(&m)  <- BUG
 *   remove: free_irq + pci_free_irq_vectors (correct).
 * mutex_lock() calls might_sleep(): with CONFIG_DEBUG_ATOMIC_SLEEP=y this
 * gives "BUG: sleeping function called from invalid context"; without it
 * (the main rig kernel) an uncontended mutex_lock is silent.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/interrupt.h>
#include <linux/delay.h>
#include <linux/mutex.h>
#include "edu.h"

#define DRV_NAME "edu_irqmutex"
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64

static void __iomem *bar;
static int irq;
static int handled;
static DEFINE_MUTEX(m);

static irqreturn_t handler(int irq, void *data)
{
	struct device *dev = data;
	u32 st = readl(bar + EDU_REG_IRQ_STATUS);

	if (!st)
		return IRQ_NONE;
	writel(st, bar + EDU_REG_IRQ_ACK);
	dev_info(dev, "CASE handler: status %#x, mutex_lock in hard IRQ context\n", st);
	mutex_lock(&m);
	mutex_unlock(&m);
	dev_info(dev, "CASE handler: mutex_unlock returned\n");
	handled++;
	return IRQ_HANDLED;
}

static int probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, 1, DRV_NAME);
	if (ret)
		return ret;
	bar = pcim_iomap_table(pdev)[0];
	pci_set_master(pdev);
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (ret < 0)
		return ret;
	irq = pci_irq_vector(pdev, 0);
	ret = request_irq(irq, handler, 0, DRV_NAME, dev);
	if (ret)
		return ret;
	dev_info(dev, "CASE: irq %d requested; raising edu interrupt\n", irq);
	writel(1, bar + EDU_REG_IRQ_RAISE);
	mdelay(100);
	dev_info(dev, "CASE: after mdelay, handled=%d\n", handled);
	return 0;
}

static void remove(struct pci_dev *pdev)
{
	free_irq(irq, &pdev->dev);
	pci_free_irq_vectors(pdev);
}

static const struct pci_device_id ids[] = { { PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) }, { } };
MODULE_DEVICE_TABLE(pci, ids);
static struct pci_driver drv = { .name = DRV_NAME, .id_table = ids, .probe = probe, .remove = remove };
module_pci_driver(drv);
MODULE_LICENSE("GPL");
