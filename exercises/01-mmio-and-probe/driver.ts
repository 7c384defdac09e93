// Exercise 01: a PCI driver for QEMU's edu device that claims the device, maps its registers,
// and uses them. Read lessons/01-mmio-and-probe.md first. Save, and the grader runs the tests.
import { pci_enable_device, pci_disable_device, pci_request_regions, pci_release_regions,
  pci_iomap, pci_iounmap, pci_set_drvdata, pci_get_drvdata, PCI_DEVICE,
  type pci_dev, type pci_device_id, type pci_driver } from '#linux/pci';
import { readl, writel, type iomem } from '#linux/io';
import { request_irq, free_irq, IRQ_HANDLED, IRQ_NONE, IRQF_SHARED, type irqreturn_t } from '#linux/interrupt';
import { DECLARE_COMPLETION, reinit_completion, complete, wait_for_completion_timeout,
  type completion } from '#linux/completion';
import { msecs_to_jiffies } from '#linux/jiffies';
import { dev_info } from '#linux/device';
import { ENOMEM, ETIMEDOUT } from '#linux/errno';

const DRV_NAME = 'edu';
const EDU_VENDOR = 0x1234, EDU_DEVICE = 0x11e8;

// Registers in BAR 0 (QEMU hw/misc/edu.c); all 32 bits wide below 0x80.
const EDU_REG_ID = 0x00;          // 0xRRrr00ed: major, minor
const EDU_REG_LIVENESS = 0x04;    // reads back ~value
const EDU_REG_FACT = 0x08;        // write n, read n!
const EDU_REG_STATUS = 0x20;      // bit 0: computing, bit 7: interrupt when done
const EDU_REG_IRQ_STATUS = 0x24;  // what raised the interrupt
const EDU_REG_IRQ_ACK = 0x64;     // write those bits back to lower it
const EDU_STATUS_IRQFACT = 0x80;
const EDU_IRQ_FACT = 0x001;

/** The driver's private state, one per bound device (struct edu_dev in C). */
export interface edu_dev {
  pdev: pci_dev;
  bar: iomem;
  fact_done: completion;
}

/** The interrupt handler. */
function edu_irq(irq: number, edu: edu_dev): irqreturn_t {
  // TODO: the line may be shared with other devices. Read edu's interrupt status; if the
  // factorial bit is not set, this interrupt is not ours. Otherwise acknowledge it, wake up
  // whoever waits for the factorial, and say it was handled.
  return IRQ_NONE;
}

/** Write a value to the liveness register and return what the device gives back (~value). */
export function edu_liveness(edu: edu_dev, value: number): number {
  // TODO: write `value` to the liveness register, read it back.
  return 0;
}

/** Have the device compute n! (modulo 2^32), waiting for its interrupt; -ETIMEDOUT if none. */
export function edu_factorial(edu: edu_dev, n: number): number {
  // TODO: ask for an interrupt when the factorial is done (status register), start the
  // computation, wait (at most 100 ms) for the interrupt handler to say it is done, and
  // return the factorial register.
  return -ETIMEDOUT;
}

function edu_probe(pdev: pci_dev, id: pci_device_id): number {
  const edu: edu_dev = { pdev, bar: 0, fact_done: DECLARE_COMPLETION() };
  // TODO, in this order, undoing what was done if a step fails:
  //  1. enable the device;
  //  2. claim its memory regions for this driver (DRV_NAME);
  //  3. map BAR 0 (the registers) into edu.bar;
  //  4. read the identification register and dev_info() the version (major.minor);
  //  5. install edu_irq on the device's interrupt line (it may be shared), with `edu` as
  //     the cookie the handler gets;
  //  6. keep `edu` where remove() and the tests can find it (pci_set_drvdata).
  return -ENOMEM;
}

/** Undo probe, in reverse order. */
function edu_remove(pdev: pci_dev): void {
  const edu = pci_get_drvdata<edu_dev>(pdev);
  // TODO: give back everything probe took.
}

export const edu_driver: pci_driver = {
  name: DRV_NAME,
  id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)],
  probe: edu_probe,
  remove: edu_remove,
};
