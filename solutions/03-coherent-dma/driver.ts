// Exercise 03, reference solution: edu's DMA engine through one coherent buffer. Probe
// allocates 4 KiB of memory that the CPU and the device both see at all times
// (dma_alloc_coherent); a transfer copies between it and the device's own buffer, and the
// interrupt handler tells the waiting caller it is done. Remove waits for a transfer still
// running before it frees the memory. Compare drivers/net/ethernet/realtek/8139too.c:
// rtl8139_open() allocates its rings the same way, rtl8139_close() stops the chip first.
import { pci_enable_device, pci_disable_device, pci_request_regions, pci_release_regions,
  pci_iomap, pci_iounmap, pci_set_master, pci_set_drvdata, pci_get_drvdata,
  PCI_DEVICE, type pci_dev, type pci_device_id, type pci_driver } from '#linux/pci';
import { dma_set_mask_and_coherent, dma_alloc_coherent, dma_free_coherent, DMA_BIT_MASK,
  type dma_addr_t } from '#linux/dma-mapping';
import { readl, writel, writeq, type iomem } from '#linux/io';
import { request_irq, free_irq, IRQ_HANDLED, IRQ_NONE, IRQF_SHARED, type irqreturn_t } from '#linux/interrupt';
import { DECLARE_COMPLETION, reinit_completion, complete, wait_for_completion_timeout,
  type completion } from '#linux/completion';
import { msecs_to_jiffies } from '#linux/jiffies';
import { GFP_KERNEL } from '#linux/gfp';
import { dev_err, dev_info } from '#linux/device';
import { EINVAL, ENOMEM, ETIMEDOUT } from '#linux/errno';
import { ref } from '#dmalab/ref';
import { copy_from_mem, copy_to_mem } from '#dmalab/mem';

const DRV_NAME = 'edu';
const EDU_VENDOR = 0x1234, EDU_DEVICE = 0x11e8;

// Registers in BAR 0 (QEMU hw/misc/edu.c). The DMA registers are 64 bits wide: writeq.
const EDU_REG_ID = 0x00;
const EDU_REG_IRQ_STATUS = 0x24;
const EDU_REG_IRQ_ACK = 0x64;
const EDU_REG_DMA_SRC = 0x80;     // where the device reads from
const EDU_REG_DMA_DST = 0x88;     // where the device writes to
const EDU_REG_DMA_CNT = 0x90;     // bytes
const EDU_REG_DMA_CMD = 0x98;
const EDU_DMA_START = 0x1;        // command bits
const EDU_DMA_TO_RAM = 0x2;       //   set: edu -> RAM; clear: RAM -> edu
const EDU_DMA_IRQ = 0x4;          //   raise EDU_IRQ_DMA when done
const EDU_IRQ_DMA = 0x100;        // interrupt status bit of a finished transfer

// The device's own 4 KiB buffer, at this address on the device's side of a transfer.
const EDU_DMA_BUF = 0x40000;
const EDU_DMA_SIZE = 4096;
const EDU_DMA_BITS = 28;          // edu drives 28 address bits
const EDU_DMA_TIMEOUT_MS = 1000;  // a transfer takes 100 ms

/** The driver's private state, one per bound device (struct edu_dev in C). */
export interface edu_dev {
  pdev: pci_dev;
  bar: iomem;
  /** The coherent buffer: its CPU address (void *buf in C) ... */
  buf: number;
  /** ... and the address the device uses for the same memory (dma_addr_t buf_dma). */
  buf_dma: dma_addr_t;
  /** Completed by the interrupt handler when a transfer is done. */
  dma_done: completion;
  /** A transfer was started and nobody has waited for its end yet. The tests call one
   *  function at a time; a driver with concurrent users would hold a mutex around this. */
  busy: boolean;
}

/** The interrupt handler: the line may be shared, so claim only edu's DMA interrupt. */
function edu_irq(irq: number, edu: edu_dev): irqreturn_t {
  const status = readl(edu.bar + EDU_REG_IRQ_STATUS);
  if (!(status & EDU_IRQ_DMA)) return IRQ_NONE;
  writel(EDU_IRQ_DMA, edu.bar + EDU_REG_IRQ_ACK);
  complete(edu.dma_done);
  return IRQ_HANDLED;
}

/** Start a transfer of len bytes between the coherent buffer and the device's buffer. */
function edu_dma_start(edu: edu_dev, to_ram: boolean, len: number): void {
  reinit_completion(edu.dma_done);
  // The device gets the DMA handle, never the CPU pointer: buf_dma is what it can reach.
  writeq(to_ram ? EDU_DMA_BUF : edu.buf_dma, edu.bar + EDU_REG_DMA_SRC);
  writeq(to_ram ? edu.buf_dma : EDU_DMA_BUF, edu.bar + EDU_REG_DMA_DST);
  writeq(len, edu.bar + EDU_REG_DMA_CNT);
  // writeq() orders the CPU's earlier stores to the buffer before the doorbell.
  writeq(EDU_DMA_START | EDU_DMA_IRQ | (to_ram ? EDU_DMA_TO_RAM : 0), edu.bar + EDU_REG_DMA_CMD);
  edu.busy = true;
}

/** Wait for the running transfer, if any; 0 or -ETIMEDOUT (then it may still be running). */
function edu_dma_wait(edu: edu_dev): number {
  if (!edu.busy)
    return 0;
  if (!wait_for_completion_timeout(edu.dma_done, msecs_to_jiffies(EDU_DMA_TIMEOUT_MS)))
    return -ETIMEDOUT;
  edu.busy = false;
  return 0;
}

/** Copy data into the coherent buffer and have the device read it (RAM -> edu); 0 or -errno. */
export function edu_write(edu: edu_dev, data: Uint8Array): number {
  if (data.length === 0 || data.length > EDU_DMA_SIZE)
    return -EINVAL;
  const ret = edu_dma_wait(edu);
  if (ret)
    return ret;
  copy_to_mem(edu.buf, data);
  edu_dma_start(edu, false, data.length);
  return edu_dma_wait(edu);
}

/** Have the device write len bytes into the coherent buffer (edu -> RAM); they, or -errno. */
export function edu_read(edu: edu_dev, len: number): Uint8Array | number {
  const ret = edu_start_read(edu, len);
  if (ret)
    return ret;
  const wret = edu_dma_wait(edu);
  if (wret)
    return wret;
  // The device wrote the buffer and its interrupt has come: the bytes are there to read.
  return copy_from_mem(edu.buf, len);
}

/** Start an edu -> RAM transfer of len bytes and return without waiting for it; 0 or -errno. */
export function edu_start_read(edu: edu_dev, len: number): number {
  if (len <= 0 || len > EDU_DMA_SIZE)
    return -EINVAL;
  const ret = edu_dma_wait(edu);
  if (ret)
    return ret;
  edu_dma_start(edu, true, len);
  return 0;
}

function edu_probe(pdev: pci_dev, id: pci_device_id): number {
  const edu: edu_dev = { pdev, bar: 0, buf: 0, buf_dma: 0, dma_done: DECLARE_COMPLETION(), busy: false };
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
      err_unmap: {
        const id_reg = readl(edu.bar + EDU_REG_ID);
        dev_info(pdev.dev, 'edu v%d.%d found, irq %d\n', id_reg >>> 24, (id_reg >>> 16) & 0xff, pdev.irq);

        ret = dma_set_mask_and_coherent(pdev.dev, DMA_BIT_MASK(EDU_DMA_BITS));
        if (ret) {
          dev_err(pdev.dev, 'no usable DMA configuration\n');
          break err_unmap;
        }
        pci_set_master(pdev);

        // One buffer for the life of the device, seen by the CPU at edu.buf and by the
        // device at edu.buf_dma.
        edu.buf = dma_alloc_coherent(pdev.dev, EDU_DMA_SIZE, ref(edu, 'buf_dma'), GFP_KERNEL);
        if (!edu.buf) {
          ret = -ENOMEM;
          break err_unmap;
        }
        err_free: {
          ret = request_irq(pdev.irq, edu_irq, IRQF_SHARED, DRV_NAME, edu);
          if (ret)
            break err_free;

          pci_set_drvdata(pdev, edu);
          return 0;
        }
        dma_free_coherent(pdev.dev, EDU_DMA_SIZE, edu.buf, edu.buf_dma);
      }
      pci_iounmap(pdev, edu.bar);
    }
    pci_release_regions(pdev);
  }
  pci_disable_device(pdev);
  return ret;
}

/** Undo probe, in reverse order, once the device has stopped using the buffer. */
function edu_remove(pdev: pci_dev): void {
  const edu = pci_get_drvdata<edu_dev>(pdev);
  // A transfer may still be running (edu_start_read): the device may write the buffer until
  // it is done. Wait for it first (its interrupt needs the handler, so before free_irq).
  const ret = edu_dma_wait(edu);
  free_irq(pdev.irq, edu);
  if (ret)
    dev_err(pdev.dev, 'DMA did not finish: leaking its buffer rather than freeing memory the device may still write\n');
  else
    dma_free_coherent(pdev.dev, EDU_DMA_SIZE, edu.buf, edu.buf_dma);
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
