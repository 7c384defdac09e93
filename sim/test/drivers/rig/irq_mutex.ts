// tools/kernel-rig-cases/irq-mutex/edu_irqmutex.c, line for line: mutex_lock() in a hard IRQ
// handler ("sleeping function called from invalid context" with CONFIG_DEBUG_ATOMIC_SLEEP).
import { pcim_enable_device, pcim_iomap_regions, pcim_iomap_table, pci_set_master, pci_alloc_irq_vectors,
  pci_free_irq_vectors, pci_irq_vector, PCI_IRQ_MSI, PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { request_irq, free_irq, IRQ_NONE, IRQ_HANDLED, type irqreturn_t } from '#linux/interrupt';
import { readl, writel, type iomem } from '#linux/io';
import { mdelay } from '#linux/delay';
import { DEFINE_MUTEX, mutex_lock, mutex_unlock } from '#linux/mutex';
import { dev_info, type device } from '#linux/device';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_irqmutex';
const m = DEFINE_MUTEX();
const EDU_REG_IRQ_STATUS = 0x24, EDU_REG_IRQ_RAISE = 0x60, EDU_REG_IRQ_ACK = 0x64;

let bar: iomem = 0;
let irq = 0;
let handled = 0;

function handler(_irq: number, data: unknown): irqreturn_t {
  const dev = data as device;
  const st = readl(bar + EDU_REG_IRQ_STATUS);
  if (!st) return IRQ_NONE;
  writel(st, bar + EDU_REG_IRQ_ACK);
  dev_info(dev, 'CASE handler: status %#x, mutex_lock in hard IRQ context\n', st);
  mutex_lock(m);
  mutex_unlock(m);
  dev_info(dev, 'CASE handler: mutex_unlock returned\n');
  handled++;
  return IRQ_HANDLED;
}

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  handled = 0;
  let ret = pcim_enable_device(pdev);
  if (ret) return ret;
  ret = pcim_iomap_regions(pdev, 1, DRV_NAME);
  if (ret) return ret;
  bar = pcim_iomap_table(pdev)[0]!;
  pci_set_master(pdev);
  ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
  if (ret < 0) return ret;
  irq = pci_irq_vector(pdev, 0);
  ret = request_irq(irq, handler, 0, DRV_NAME, dev);
  if (ret) return ret;
  dev_info(dev, 'CASE: irq %d requested; raising edu interrupt\n', irq);
  writel(1, bar + EDU_REG_IRQ_RAISE);
  mdelay(100);
  dev_info(dev, 'CASE: after mdelay, handled=%d\n', handled);
  return 0;
}

function remove(pdev: pci_dev): void {
  free_irq(irq, pdev.dev);
  pci_free_irq_vectors(pdev);
}

export const edu_irqmutex_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
