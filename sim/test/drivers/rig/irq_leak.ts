// tools/kernel-rig-cases/irq-leak/edu_irqleak.c, line for line: request_irq() and no
// free_irq() before the driver goes. The module parameter intx is the factory's argument.
import { pcim_enable_device, pci_alloc_irq_vectors, pci_irq_vector, PCI_IRQ_LEGACY, PCI_IRQ_MSI, PCI_DEVICE,
  type pci_dev, type pci_driver } from '#linux/pci';
import { request_irq, IRQF_SHARED, IRQ_NONE, type irqreturn_t } from '#linux/interrupt';
import { dev_info } from '#linux/device';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_irqleak';

function handler(_irq: number, _data: unknown): irqreturn_t {
  return IRQ_NONE;
}

export function edu_irqleak_driver(intx = false): pci_driver {
  function probe(pdev: pci_dev): number {
    const dev = pdev.dev;
    let ret = pcim_enable_device(pdev);
    if (ret) return ret;
    ret = pci_alloc_irq_vectors(pdev, 1, 1, intx ? PCI_IRQ_LEGACY : PCI_IRQ_MSI);
    if (ret < 0) return ret;
    const irq = pci_irq_vector(pdev, 0);
    ret = request_irq(irq, handler, IRQF_SHARED, DRV_NAME, dev);
    dev_info(dev, 'CASE: %s irq %d requested ret=%d; it will never be freed\n', intx ? 'INTx' : 'MSI', irq, ret);
    return ret;
  }
  function remove(pdev: pci_dev): void {
    dev_info(pdev.dev, 'CASE remove: no free_irq\n');
  }
  return { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
}
