// tools/kernel-rig-cases/irq-double-free/edu_irqfree.c, line for line (IRQ_ALREADY_FREE):
// free_irq of an IRQ never requested, then a request and two frees.
import { pcim_enable_device, pci_alloc_irq_vectors, pci_irq_vector, PCI_IRQ_LEGACY, PCI_DEVICE,
  type pci_dev, type pci_driver } from '#linux/pci';
import { request_irq, free_irq, IRQF_SHARED, IRQ_NONE, type irqreturn_t } from '#linux/interrupt';
import { dev_info } from '#linux/device';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_irqfree';

function handler(_irq: number, _data: unknown): irqreturn_t {
  return IRQ_NONE;
}

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  let ret = pcim_enable_device(pdev);
  if (ret) return ret;
  ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_LEGACY);
  if (ret < 0) return ret;
  const irq = pci_irq_vector(pdev, 0);
  dev_info(dev, 'CASE A: free_irq(%d) never requested\n', irq);
  let name = free_irq(irq, dev);
  dev_info(dev, 'CASE A: free_irq returned %p\n', name ?? 0);
  ret = request_irq(irq, handler, IRQF_SHARED, DRV_NAME, dev);
  dev_info(dev, 'CASE B: request_irq(%d)=%d, free_irq twice\n', irq, ret);
  free_irq(irq, dev);
  name = free_irq(irq, dev);
  dev_info(dev, 'CASE B: second free_irq returned %p\n', name ?? 0);
  dev_info(dev, 'CASE done\n');
  return 0;
}

function remove(_pdev: pci_dev): void {}

export const edu_irqfree_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
