// tools/kernel-rig-cases/double-kfree/edu_dblkfree.c, line for line: kmalloc(64), kfree twice.
import { PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { kmalloc, kfree, GFP_KERNEL } from '#linux/slab';
import { dev_info } from '#linux/device';
import { EDU_VENDOR, EDU_DEVICE } from '../edu_rig.ts';

const DRV_NAME = 'edu_dblkfree';

function probe(pdev: pci_dev): number {
  const dev = pdev.dev;
  const p = kmalloc(64, GFP_KERNEL);
  dev_info(dev, 'CASE: kmalloc(64)=%px; kfree twice\n', p);
  kfree(p);
  kfree(p);
  dev_info(dev, 'CASE: survived the double kfree\n');
  return 0;
}

function remove(_pdev: pci_dev): void {}

export const edu_dblkfree_driver: pci_driver = { name: DRV_NAME, id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)], probe, remove };
