// Exercise 04, reference solution: edu moving a caller's buffer with streaming DMA. Each
// transfer maps the buffer for one direction, hands the DMA address to the device, waits until
// the device is done with it, and unmaps; only then may the CPU look at what the device wrote.
// Compare cp_rx_poll() and cp_tx() in drivers/net/ethernet/realtek/8139cp.c.
import { pci_enable_device, pci_disable_device, pci_request_regions, pci_release_regions,
  pci_iomap, pci_iounmap, pci_set_master, pci_clear_master, pci_set_drvdata, pci_get_drvdata,
  PCI_DEVICE, type pci_dev, type pci_device_id, type pci_driver } from '#linux/pci';
import { dma_set_mask_and_coherent, dma_map_single, dma_unmap_single, dma_mapping_error,
  DMA_BIT_MASK, DMA_TO_DEVICE, DMA_FROM_DEVICE, type dma_addr_t } from '#linux/dma-mapping';
import { readl, writel, writeq, type iomem } from '#linux/io';
import { readq_poll_timeout } from '#linux/iopoll';
import { request_irq, free_irq, IRQ_HANDLED, IRQ_NONE, IRQF_SHARED, type irqreturn_t } from '#linux/interrupt';
import { DECLARE_COMPLETION, reinit_completion, complete, wait_for_completion_timeout,
  type completion } from '#linux/completion';
import { msecs_to_jiffies } from '#linux/jiffies';
import { dev_err } from '#linux/device';
import { EINVAL, EIO, ENOMEM, ETIMEDOUT } from '#linux/errno';
import { get_u32 } from '#dmalab/mem';

const DRV_NAME = 'edu';
const EDU_VENDOR = 0x1234, EDU_DEVICE = 0x11e8;

// Registers in BAR 0 (QEMU hw/misc/edu.c). The DMA registers are 64 bits wide.
const EDU_REG_IRQ_STATUS = 0x24;
const EDU_REG_IRQ_ACK = 0x64;
const EDU_REG_DMA_SRC = 0x80;
const EDU_REG_DMA_DST = 0x88;
const EDU_REG_DMA_CNT = 0x90;
const EDU_REG_DMA_CMD = 0x98;
const EDU_DMA_CMD_START = 0x1;      // reads back 1 while the transfer runs
const EDU_DMA_CMD_TO_RAM = 0x2;     // edu -> RAM; without it RAM -> edu
const EDU_DMA_CMD_IRQ = 0x4;        // raise EDU_IRQ_DMA when done
const EDU_IRQ_DMA = 0x100;

const EDU_DMA_BUF = 0x40000;        // the device's 4 KiB buffer, in the device's own space
const EDU_DMA_SIZE = 4096;
const EDU_DMA_BITS = 28;            // edu drives 28 address bits
const EDU_DMA_TIMEOUT_MS = 1000;    // a transfer takes 100 ms
const EDU_POLL_US = 10000;          // how often to ask a late device whether it has stopped
const EDU_MSG_HDR = 4;              // a message: a little-endian u32 length, then the payload

/** The driver's private state, one per bound device. */
export interface edu_dev {
  pdev: pci_dev;
  bar: iomem;
  dma_done: completion;
}

function edu_irq(irq: number, edu: edu_dev): irqreturn_t {
  const status = readl(edu.bar + EDU_REG_IRQ_STATUS);
  if (!(status & EDU_IRQ_DMA)) return IRQ_NONE;
  writel(status & EDU_IRQ_DMA, edu.bar + EDU_REG_IRQ_ACK);
  complete(edu.dma_done);
  return IRQ_HANDLED;
}

/** Program one transfer of `len` bytes between RAM at DMA address `dma` and the device's
 *  buffer, and start it. */
function edu_start_dma(edu: edu_dev, dma: dma_addr_t, len: number, to_device: boolean): void {
  reinit_completion(edu.dma_done);
  writeq(to_device ? dma : EDU_DMA_BUF, edu.bar + EDU_REG_DMA_SRC);
  writeq(to_device ? EDU_DMA_BUF : dma, edu.bar + EDU_REG_DMA_DST);
  writeq(len, edu.bar + EDU_REG_DMA_CNT);
  writeq(EDU_DMA_CMD_START | EDU_DMA_CMD_IRQ | (to_device ? 0 : EDU_DMA_CMD_TO_RAM), edu.bar + EDU_REG_DMA_CMD);
}

/**
 * Wait until the device is done with the buffer of the transfer just started.
 * 0: it is done. -ETIMEDOUT: no interrupt in time, but the device has stopped since, so the
 * buffer is the CPU's again. -EIO: the device is still running: the buffer is still the
 * device's, and must stay mapped.
 */
function edu_wait_dma(edu: edu_dev): number {
  if (wait_for_completion_timeout(edu.dma_done, msecs_to_jiffies(EDU_DMA_TIMEOUT_MS)))
    return 0;
  // No interrupt. That does not mean the device has stopped: it may still be reading or
  // writing the buffer. edu cannot be told to stop, so ask it until it says it has.
  dev_err(edu.pdev.dev, 'DMA timed out\n');
  if (readq_poll_timeout(edu.bar + EDU_REG_DMA_CMD, null, (cmd) => !(cmd & EDU_DMA_CMD_START),
    EDU_POLL_US, EDU_DMA_TIMEOUT_MS * 1000)) {
    dev_err(edu.pdev.dev, 'DMA still running, leaving its buffer mapped\n');
    return -EIO;
  }
  return -ETIMEDOUT;
}

/** Move `len` bytes between the caller's kmalloc'ed buffer `buf` and the device's buffer:
 *  to the device if `to_device`, else from it. 0 or -errno. */
export function edu_dma(edu: edu_dev, buf: number, len: number, to_device: boolean): number {
  const dev = edu.pdev.dev;
  const dir = to_device ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
  if (len <= 0 || len > EDU_DMA_SIZE)
    return -EINVAL;

  // From here until the unmap, the buffer is the device's: the CPU keeps its hands off.
  const handle = dma_map_single(dev, buf, len, dir);
  if (dma_mapping_error(dev, handle))
    return -ENOMEM;

  edu_start_dma(edu, handle, len, to_device);
  const ret = edu_wait_dma(edu);
  if (ret === -EIO)
    return ret;             // the device may still use it: better a leak than corruption
  dma_unmap_single(dev, handle, len, dir);
  return ret;
}

/** Receive a message the device holds in its buffer (a u32 length, then the payload) into
 *  the caller's `size`-byte buffer `buf`. The payload's length, or -errno. */
export function edu_recv(edu: edu_dev, buf: number, size: number): number {
  if (size < EDU_MSG_HDR)
    return -EINVAL;
  const ret = edu_dma(edu, buf, size, false);
  if (ret)
    return ret;

  // edu_dma() has unmapped the buffer: it is the CPU's again, and holds what the device wrote.
  const len = get_u32(buf);
  if (len > size - EDU_MSG_HDR) {
    dev_err(edu.pdev.dev, 'message of %u bytes does not fit in %d\n', len, size - EDU_MSG_HDR);
    return -EIO;
  }
  return len;
}

function edu_probe(pdev: pci_dev, id: pci_device_id): number {
  const dev = pdev.dev;
  const edu: edu_dev = { pdev, bar: 0, dma_done: DECLARE_COMPLETION() };
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
          break err_iounmap;
        }
        pci_set_master(pdev);
        err_clear_master: {
          ret = request_irq(pdev.irq, edu_irq, IRQF_SHARED, DRV_NAME, edu);
          if (ret)
            break err_clear_master;

          pci_set_drvdata(pdev, edu);
          return 0;
        }
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
  const edu = pci_get_drvdata<edu_dev>(pdev);
  free_irq(pdev.irq, edu);
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
