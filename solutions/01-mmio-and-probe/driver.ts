// Exercise 01, reference solution: a PCI driver for QEMU's edu device that claims the device,
// maps its registers, and uses them: the liveness check, and the factorial engine with its
// completion interrupt. Compare it with drivers/misc/pci_endpoint_test.c's probe/remove.
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

/** The interrupt handler: the line may be shared, so claim only edu's own interrupts. */
function edu_irq(irq: number, edu: edu_dev): irqreturn_t {
  const status = readl(edu.bar + EDU_REG_IRQ_STATUS);
  if (!(status & EDU_IRQ_FACT)) return IRQ_NONE;
  writel(status & EDU_IRQ_FACT, edu.bar + EDU_REG_IRQ_ACK);
  complete(edu.fact_done);
  return IRQ_HANDLED;
}

/** Write a value to the liveness register and return what the device gives back (~value). */
export function edu_liveness(edu: edu_dev, value: number): number {
  writel(value, edu.bar + EDU_REG_LIVENESS);
  return readl(edu.bar + EDU_REG_LIVENESS);
}

/** Have the device compute n! (modulo 2^32), waiting for its interrupt; -ETIMEDOUT if none. */
export function edu_factorial(edu: edu_dev, n: number): number {
  reinit_completion(edu.fact_done);
  writel(EDU_STATUS_IRQFACT, edu.bar + EDU_REG_STATUS);
  writel(n, edu.bar + EDU_REG_FACT);
  if (!wait_for_completion_timeout(edu.fact_done, msecs_to_jiffies(100)))
    return -ETIMEDOUT;
  return readl(edu.bar + EDU_REG_FACT);
}

function edu_probe(pdev: pci_dev, id: pci_device_id): number {
  const edu: edu_dev = { pdev, bar: 0, fact_done: DECLARE_COMPLETION() };
  let ret = pci_enable_device(pdev);
  if (ret)
    return ret;

  // The goto ladder of a C probe, as labelled blocks: `break err_x` jumps to the cleanup
  // that undoes everything done before the failing step, in reverse order.
  err_disable: {
    ret = pci_request_regions(pdev, DRV_NAME);
    if (ret)
      break err_disable;
    err_release: {
      edu.bar = pci_iomap(pdev, 0, 0);
      if (!edu.bar) {
        ret = -ENOMEM;
        break err_release;
      }
      err_unmap: {
        const id_reg = readl(edu.bar + EDU_REG_ID);
        dev_info(pdev.dev, 'edu v%d.%d found, irq %d\n', id_reg >>> 24, (id_reg >>> 16) & 0xff, pdev.irq);

        ret = request_irq(pdev.irq, edu_irq, IRQF_SHARED, DRV_NAME, edu);
        if (ret)
          break err_unmap;

        pci_set_drvdata(pdev, edu);
        return 0;
      }
      pci_iounmap(pdev, edu.bar);
    }
    pci_release_regions(pdev);
  }
  pci_disable_device(pdev);
  return ret;
}

/** Undo probe, in reverse order. */
function edu_remove(pdev: pci_dev): void {
  const edu = pci_get_drvdata<edu_dev>(pdev);
  free_irq(pdev.irq, edu);
  pci_iounmap(pdev, edu.bar);
  pci_release_regions(pdev);
  pci_disable_device(pdev);
}

export const edu_driver: pci_driver = {
  name: DRV_NAME,
  id_table: [PCI_DEVICE(EDU_VENDOR, EDU_DEVICE)],
  probe: edu_probe,
  remove: edu_remove,
};
