// Exercise 08, reference solution: edu on machines where its 28 bits do not reach most of RAM.
// Every streaming mapping may bounce through swiotlb or live behind an IOMMU, so the driver checks
// every handle, copies only at map/sync/unmap, survives a full bounce pool by going one buffer at
// a time, and never uses a handle after its unmap. Compare rtl8169_tx_map() and the error path of
// rtl8169_start_xmit() in drivers/net/ethernet/realtek/r8169_main.c, and nvme_map_data() in
// drivers/nvme/host/pci.c (DMA_ATTR_NO_WARN, then retry).
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
  const dev = edu.pdev.dev;
  for (let i = 0; i < bufs.length; i++) {
    const h = dma_map_single_attrs(dev, bufs[i]!, len, DMA_TO_DEVICE, DMA_ATTR_NO_WARN);
    if (dma_mapping_error(dev, h)) {
      while (i--)
        dma_unmap_single(dev, handles[i]!, len, DMA_TO_DEVICE);
      handles.length = 0;
      return -ENOMEM;
    }
    handles[i] = h;
  }
  return 0;
}

/** Send one buffer on its own: map, transfer, unmap. */
function edu_send_one(edu: edu_dev, buf: number, len: number, off: number): number {
  const dev = edu.pdev.dev;
  const h = dma_map_single(dev, buf, len, DMA_TO_DEVICE);
  if (dma_mapping_error(dev, h))
    return -ENOMEM;
  const ret = edu_dma_run(edu, h, EDU_DMA_BUF + off, len, 0);
  if (ret === -EIO)
    return ret;             // the device may still read it: better a leak than corruption
  dma_unmap_single(dev, h, len, DMA_TO_DEVICE);
  return ret;
}

/** Send buffer i of `bufs` (`len` bytes each) to device offset i * len. 0 or -errno. */
export function edu_send_batch(edu: edu_dev, bufs: number[], len: number): number {
  const dev = edu.pdev.dev;
  if (!bufs.length || bufs.length > EDU_BATCH_MAX || len <= 0 || len * bufs.length > EDU_DMA_SIZE)
    return -EINVAL;
  edu.last_buf = bufs[0]!;
  edu.last_len = len;

  const handles: dma_addr_t[] = [];
  if (edu_map_batch(edu, bufs, len, handles)) {
    // The pool (or the IOVA space) cannot hold the whole batch: one buffer at a time needs
    // only one mapping's worth.
    for (let i = 0; i < bufs.length; i++) {
      const ret = edu_send_one(edu, bufs[i]!, len, i * len);
      if (ret)
        return ret;
    }
    return 0;
  }
  let ret = 0;
  for (let i = 0; i < bufs.length && !ret; i++)
    ret = edu_dma_run(edu, handles[i]!, EDU_DMA_BUF + i * len, len, 0);
  if (ret === -EIO)
    return ret;
  for (const h of handles)
    dma_unmap_single(dev, h, len, DMA_TO_DEVICE);
  return ret;
}

/** Have the device write `len` bytes of its buffer into the status buffer; a copy of them. */
export function edu_read_status(edu: edu_dev, len: number): Uint8Array | number {
  const dev = edu.pdev.dev;
  if (len <= 0 || len > EDU_STATUS_SIZE)
    return -EINVAL;
  const ret = edu_dma_run(edu, EDU_DMA_BUF, edu.status_dma, len, EDU_DMA_CMD_TO_RAM);
  if (ret)
    return ret;
  // The device wrote the bounce slot (or RAM behind the cache): only the sync brings it here.
  dma_sync_single_for_cpu(dev, edu.status_dma, len, DMA_FROM_DEVICE);
  const data = copy_from_mem(edu.status_buf, len);
  dma_sync_single_for_device(dev, edu.status_dma, len, DMA_FROM_DEVICE);
  return data;
}

/** Send the first buffer of the last batch again, to device offset 0. */
export function edu_resend(edu: edu_dev): number {
  if (!edu.last_buf)
    return -EINVAL;
  // The last batch's handles died at their unmap: map the buffer again.
  return edu_send_one(edu, edu.last_buf, edu.last_len, 0);
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
            edu.status_dma = dma_map_single(dev, edu.status_buf, EDU_STATUS_SIZE, DMA_FROM_DEVICE);
            if (dma_mapping_error(dev, edu.status_dma)) {
              ret = -ENOMEM;
              break err_free_status;
            }
            err_unmap_status: {
              ret = request_irq(pdev.irq, edu_irq, IRQF_SHARED, DRV_NAME, edu);
              if (ret)
                break err_unmap_status;
              pci_set_drvdata(pdev, edu);
              return 0;
            }
            dma_unmap_single(dev, edu.status_dma, EDU_STATUS_SIZE, DMA_FROM_DEVICE);
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
  dma_unmap_single(pdev.dev, edu.status_dma, EDU_STATUS_SIZE, DMA_FROM_DEVICE);
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
