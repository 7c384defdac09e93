// Exercise 05: edu with two long-lived streaming mappings, a receive buffer (the device writes
// it) and a transmit buffer (the device reads it), each mapped once in probe and reused for every
// transfer. Read lessons/05-sync-and-ownership.md first. Save, and the grader runs the tests.
import { pci_enable_device, pci_disable_device, pci_request_regions, pci_release_regions,
  pci_iomap, pci_iounmap, pci_set_master, pci_clear_master, pci_set_drvdata, pci_get_drvdata,
  PCI_DEVICE, type pci_dev, type pci_device_id, type pci_driver } from '#linux/pci';
import { dma_set_mask_and_coherent, dma_map_single, dma_unmap_single, dma_mapping_error,
  dma_sync_single_for_cpu, dma_sync_single_for_device, DMA_BIT_MASK, DMA_TO_DEVICE,
  DMA_FROM_DEVICE, type dma_addr_t } from '#linux/dma-mapping';
import { readl, writel, writeq, type iomem } from '#linux/io';
import { request_irq, free_irq, IRQ_HANDLED, IRQ_NONE, IRQF_SHARED, type irqreturn_t } from '#linux/interrupt';
import { DECLARE_COMPLETION, reinit_completion, complete, wait_for_completion_timeout,
  type completion } from '#linux/completion';
import { kmalloc, kfree, GFP_KERNEL } from '#linux/slab';
import { msecs_to_jiffies } from '#linux/jiffies';
import { dev_err } from '#linux/device';
import { EINVAL, EIO, ENOMEM, ETIMEDOUT } from '#linux/errno';
import { copy_from_mem, copy_to_mem } from '#dmalab/mem';

const DRV_NAME = 'edu';
const EDU_VENDOR = 0x1234, EDU_DEVICE = 0x11e8;

// Registers in BAR 0 (QEMU hw/misc/edu.c). The DMA registers are 64 bits wide.
const EDU_REG_IRQ_STATUS = 0x24;
const EDU_REG_IRQ_ACK = 0x64;
const EDU_REG_DMA_SRC = 0x80;
const EDU_REG_DMA_DST = 0x88;
const EDU_REG_DMA_CNT = 0x90;
const EDU_REG_DMA_CMD = 0x98;
const EDU_DMA_CMD_START = 0x1;
const EDU_DMA_CMD_TO_RAM = 0x2;     // edu -> RAM; without it RAM -> edu
const EDU_DMA_CMD_IRQ = 0x4;        // raise EDU_IRQ_DMA when done
const EDU_IRQ_DMA = 0x100;

const EDU_DMA_BUF = 0x40000;        // the device's 4 KiB buffer, in the device's own space
const EDU_DMA_SIZE = 4096;
const EDU_DMA_BITS = 28;            // edu drives 28 address bits
const EDU_DMA_TIMEOUT_MS = 1000;    // a transfer takes 100 ms

/** The driver's private state, one per bound device. */
export interface edu_dev {
  pdev: pci_dev;
  bar: iomem;
  dma_done: completion;
  /** Receive buffer: kmalloc'ed, mapped DMA_FROM_DEVICE for as long as the device is bound. */
  rx_buf: number;
  rx_dma: dma_addr_t;
  /** Transmit buffer: kmalloc'ed, mapped DMA_TO_DEVICE for as long as the device is bound. */
  tx_buf: number;
  tx_dma: dma_addr_t;
}

function edu_irq(irq: number, edu: edu_dev): irqreturn_t {
  const status = readl(edu.bar + EDU_REG_IRQ_STATUS);
  if (!(status & EDU_IRQ_DMA)) return IRQ_NONE;
  writel(status & EDU_IRQ_DMA, edu.bar + EDU_REG_IRQ_ACK);
  complete(edu.dma_done);
  return IRQ_HANDLED;
}

/** Start one transfer and wait for its interrupt: 0, or -ETIMEDOUT (the device may then still
 *  be using the buffer, so the caller must leave it alone). */
function edu_dma_run(edu: edu_dev, src: dma_addr_t, dst: dma_addr_t, len: number, cmd: number): number {
  reinit_completion(edu.dma_done);
  writeq(src, edu.bar + EDU_REG_DMA_SRC);
  writeq(dst, edu.bar + EDU_REG_DMA_DST);
  writeq(len, edu.bar + EDU_REG_DMA_CNT);
  writeq(cmd | EDU_DMA_CMD_START | EDU_DMA_CMD_IRQ, edu.bar + EDU_REG_DMA_CMD);
  if (!wait_for_completion_timeout(edu.dma_done, msecs_to_jiffies(EDU_DMA_TIMEOUT_MS))) {
    dev_err(edu.pdev.dev, 'DMA timed out\n');
    return -ETIMEDOUT;
  }
  return 0;
}

/** Have the device write `len` bytes of its buffer into rx_buf, and hand them to the caller. */
export function edu_receive(edu: edu_dev, len: number): Uint8Array | number {
  const dev = edu.pdev.dev;
  if (len <= 0 || len > EDU_DMA_SIZE) return -EINVAL;

  // TODO: rx_buf belongs to the device between calls. Have the device write `len` bytes of
  // its buffer into it:
  //     const ret = edu_dma_run(edu, EDU_DMA_BUF, edu.rx_dma, len, EDU_DMA_CMD_TO_RAM);
  // (on an error, return it and leave rx_buf alone: the device may still be writing). Then
  // make those `len` bytes the CPU's, copy them out (copy_from_mem), and give the buffer back
  // to the device before returning the copy.
  return -EIO;
}

/** Put `data` in tx_buf and have the device read it into its buffer. */
export function edu_send(edu: edu_dev, data: Uint8Array): number {
  const dev = edu.pdev.dev;
  const len = data.length;
  if (len === 0 || len > EDU_DMA_SIZE) return -EINVAL;

  // TODO: tx_buf belongs to the device between calls. Make its first `len` bytes the CPU's,
  // copy `data` into them (copy_to_mem), give them back to the device, and only then have the
  // device read them:
  //     return edu_dma_run(edu, edu.tx_dma, EDU_DMA_BUF, len, 0);
  return -EIO;
}

function edu_probe(pdev: pci_dev, id: pci_device_id): number {
  const dev = pdev.dev;
  const edu: edu_dev = { pdev, bar: 0, dma_done: DECLARE_COMPLETION(), rx_buf: 0, rx_dma: 0, tx_buf: 0, tx_dma: 0 };
  let ret = pci_enable_device(pdev);
  if (ret)
    return ret;

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
      err_iounmap: {
        ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(EDU_DMA_BITS));
        if (ret) {
          dev_err(dev, 'no usable DMA configuration\n');
          ret = -EIO;
          break err_iounmap;
        }
        pci_set_master(pdev);

        ret = -ENOMEM;
        edu.rx_buf = kmalloc(EDU_DMA_SIZE, GFP_KERNEL);
        if (!edu.rx_buf)
          break err_iounmap;
        err_free_rx: {
          edu.tx_buf = kmalloc(EDU_DMA_SIZE, GFP_KERNEL);
          if (!edu.tx_buf)
            break err_free_rx;
          err_free_tx: {
            // TODO: map both buffers once, for as long as the device is bound: rx_buf (the
            // device writes it) into edu.rx_dma and tx_buf (the device reads it) into
            // edu.tx_dma, EDU_DMA_SIZE bytes each. Check each mapping. If one fails, or
            // request_irq() below fails, undo the mappings already made, in reverse order,
            // before falling through to the kfree()s (ret is -ENOMEM until request_irq).

            ret = request_irq(pdev.irq, edu_irq, IRQF_SHARED, DRV_NAME, edu);
            if (ret)
              break err_free_tx;

            pci_set_drvdata(pdev, edu);
            return 0;
          }
          kfree(edu.tx_buf);
        }
        kfree(edu.rx_buf);
        pci_clear_master(pdev);
      }
      pci_iounmap(pdev, edu.bar);
    }
    pci_release_regions(pdev);
  }
  pci_disable_device(pdev);
  return ret;
}

/** Undo probe, in reverse order. Every transfer was waited for, so the device is idle. */
function edu_remove(pdev: pci_dev): void {
  const dev = pdev.dev;
  const edu = pci_get_drvdata<edu_dev>(pdev);
  free_irq(pdev.irq, edu);
  // TODO: unmap both buffers (before they are freed).
  kfree(edu.tx_buf);
  kfree(edu.rx_buf);
  pci_clear_master(pdev);
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
