// Exercise 08: edu on machines where its 28 bits do not reach most of RAM, so its streaming
// mappings bounce through swiotlb or live behind an IOMMU. Read lessons/08-bounce-and-iommu.md
// first. Save, and the grader runs the tests.
import { pci_enable_device, pci_disable_device, pci_request_regions, pci_release_regions,
  pci_iomap, pci_iounmap, pci_set_master, pci_clear_master, pci_set_drvdata, pci_get_drvdata,
  PCI_DEVICE, type pci_dev, type pci_device_id, type pci_driver } from '#linux/pci';
import { dma_set_mask_and_coherent, dma_map_single, dma_map_single_attrs, dma_unmap_single,
  dma_mapping_error, dma_sync_single_for_cpu, dma_sync_single_for_device, DMA_BIT_MASK,
  DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_ATTR_NO_WARN, type dma_addr_t } from '#linux/dma-mapping';
import { readl, writel, writeq, type iomem } from '#linux/io';
import { readq_poll_timeout } from '#linux/iopoll';
import { request_irq, free_irq, IRQ_HANDLED, IRQ_NONE, IRQF_SHARED, type irqreturn_t } from '#linux/interrupt';
import { DECLARE_COMPLETION, reinit_completion, complete, wait_for_completion_timeout,
  type completion } from '#linux/completion';
import { kmalloc, kfree, GFP_KERNEL } from '#linux/slab';
import { msecs_to_jiffies } from '#linux/jiffies';
import { dev_err } from '#linux/device';
import { EINVAL, EIO, ENOMEM, ETIMEDOUT } from '#linux/errno';
import { copy_from_mem } from '#dmalab/mem';

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
const EDU_POLL_US = 10000;
const EDU_BATCH_MAX = 8;            // buffers in one edu_send_batch()
const EDU_STATUS_SIZE = 256;        // the status buffer

/** The driver's private state, one per bound device. */
export interface edu_dev {
  pdev: pci_dev;
  bar: iomem;
  dma_done: completion;
  /** The status buffer: kmalloc'ed, mapped DMA_FROM_DEVICE for as long as the device is bound. */
  status_buf: number;
  status_dma: dma_addr_t;
  /** The first buffer of the last batch and its length, for edu_resend() (0: none yet). */
  last_buf: number;
  last_len: number;
}

function edu_irq(irq: number, edu: edu_dev): irqreturn_t {
  const status = readl(edu.bar + EDU_REG_IRQ_STATUS);
  if (!(status & EDU_IRQ_DMA)) return IRQ_NONE;
  writel(status & EDU_IRQ_DMA, edu.bar + EDU_REG_IRQ_ACK);
  complete(edu.dma_done);
  return IRQ_HANDLED;
}

/**
 * Run one transfer and wait until the device is done with its buffer. 0; -ETIMEDOUT if no
 * interrupt came but the device has stopped; -EIO if it is still running (the buffer is still the
 * device's and must stay mapped).
 */
function edu_dma_run(edu: edu_dev, src: dma_addr_t, dst: dma_addr_t, len: number, cmd: number): number {
  reinit_completion(edu.dma_done);
  writeq(src, edu.bar + EDU_REG_DMA_SRC);
  writeq(dst, edu.bar + EDU_REG_DMA_DST);
  writeq(len, edu.bar + EDU_REG_DMA_CNT);
  writeq(cmd | EDU_DMA_CMD_START | EDU_DMA_CMD_IRQ, edu.bar + EDU_REG_DMA_CMD);
  if (wait_for_completion_timeout(edu.dma_done, msecs_to_jiffies(EDU_DMA_TIMEOUT_MS)))
    return 0;
  dev_err(edu.pdev.dev, 'DMA timed out\n');
  if (readq_poll_timeout(edu.bar + EDU_REG_DMA_CMD, null, (c) => !(c & EDU_DMA_CMD_START),
    EDU_POLL_US, EDU_DMA_TIMEOUT_MS * 1000))
    return -EIO;
  return -ETIMEDOUT;
}

/** Map every buffer of a batch for the device to read, or none of them (lesson 08). */
function edu_map_batch(edu: edu_dev, bufs: number[], len: number, handles: dma_addr_t[]): number {
  // TODO: map each buffer for the device to read (DMA_ATTR_NO_WARN: a full pool is handled, not
  // reported), keeping the handles in `handles`, and check each. If one fails, unmap the ones
  // mapped so far (not the one that failed), empty `handles` and return -ENOMEM.
  return -ENOMEM;
}

/** Send one buffer on its own: map, transfer, unmap. */
function edu_send_one(edu: edu_dev, buf: number, len: number, off: number): number {
  // TODO: map `buf` for the device to read and check it, run the transfer:
  //     const ret = edu_dma_run(edu, h, EDU_DMA_BUF + off, len, 0);
  // and unmap when the device is done (on -EIO it may still be reading: leave it mapped).
  return -EIO;
}

/** Send buffer i of `bufs` (`len` bytes each) to device offset i * len. 0 or -errno. */
export function edu_send_batch(edu: edu_dev, bufs: number[], len: number): number {
  const dev = edu.pdev.dev;
  if (!bufs.length || bufs.length > EDU_BATCH_MAX || len <= 0 || len * bufs.length > EDU_DMA_SIZE)
    return -EINVAL;
  edu.last_buf = bufs[0]!;
  edu.last_len = len;

  // TODO: map the whole batch first (edu_map_batch); if that works, run one transfer per buffer,
  // buffer i to device offset i * len (EDU_DMA_BUF + i * len), then unmap them all. If the batch
  // does not fit, send the buffers one at a time instead (edu_send_one). 0 or the first error.
  void dev;
  return -EIO;
}

/** Have the device write `len` bytes of its buffer into the status buffer; a copy of them. */
export function edu_read_status(edu: edu_dev, len: number): Uint8Array | number {
  const dev = edu.pdev.dev;
  if (len <= 0 || len > EDU_STATUS_SIZE)
    return -EINVAL;
  const ret = edu_dma_run(edu, EDU_DMA_BUF, edu.status_dma, len, EDU_DMA_CMD_TO_RAM);
  if (ret)
    return ret;
  // TODO: the status buffer is the device's between calls. Take `len` bytes of it for the CPU,
  // copy them out (copy_from_mem), give them back to the device, return the copy.
  void dev;
  return -EIO;
}

/** Send the first buffer of the last batch again, to device offset 0. */
export function edu_resend(edu: edu_dev): number {
  if (!edu.last_buf)
    return -EINVAL;
  // TODO: send edu.last_buf (edu.last_len bytes) to device offset 0 again.
  return -EIO;
}

function edu_probe(pdev: pci_dev, id: pci_device_id): number {
  const dev = pdev.dev;
  const edu: edu_dev = { pdev, bar: 0, dma_done: DECLARE_COMPLETION(), status_buf: 0, status_dma: 0, last_buf: 0, last_len: 0 };
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
          edu.status_buf = kmalloc(EDU_STATUS_SIZE, GFP_KERNEL);
          if (!edu.status_buf) {
            ret = -ENOMEM;
            break err_clear_master;
          }
          err_free_status: {
            // TODO: map status_buf (EDU_STATUS_SIZE bytes) for the device to write, for as long
            // as the driver is bound, into edu.status_dma, and check it. If that fails, or
            // request_irq() below does, undo it before falling through to the kfree().
            ret = request_irq(pdev.irq, edu_irq, IRQF_SHARED, DRV_NAME, edu);
            if (ret)
              break err_free_status;
            pci_set_drvdata(pdev, edu);
            return 0;
          }
          kfree(edu.status_buf);
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
  // TODO: unmap status_buf before it is freed.
  kfree(edu.status_buf);
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
