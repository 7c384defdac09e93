// Exercise 02, reference solution: edu's DMA engine driven with the right addresses. The
// driver tells the DMA API that edu drives only 28 address bits, gets a buffer both sides can
// use from dma_alloc_coherent(), and programs the device with the buffer's DMA (bus) address,
// never with a CPU address or a physical one.
import { pci_enable_device, pci_disable_device, pci_request_regions, pci_release_regions,
  pci_iomap, pci_iounmap, pci_set_master, pci_set_drvdata, pci_get_drvdata, PCI_DEVICE,
  type pci_dev, type pci_device_id, type pci_driver } from '#linux/pci';
import { dma_set_mask_and_coherent, dma_alloc_coherent, dma_free_coherent, DMA_BIT_MASK,
  type dma_addr_t, type phys_addr_t } from '#linux/dma-mapping';
import { readl, writel, writeq, virt_to_phys, type iomem } from '#linux/io';
import { is_vmalloc_addr, vmalloc_to_page } from '#linux/vmalloc';
import { page_to_phys, offset_in_page } from '#linux/mm';
import { request_irq, free_irq, IRQ_HANDLED, IRQ_NONE, IRQF_SHARED, type irqreturn_t } from '#linux/interrupt';
import { DECLARE_COMPLETION, reinit_completion, complete, wait_for_completion_timeout,
  type completion } from '#linux/completion';
import { msecs_to_jiffies } from '#linux/jiffies';
import { GFP_KERNEL } from '#linux/gfp';
import { dev_info, dev_err } from '#linux/device';
import { ref } from '#dmalab/ref';
import { EINVAL, ENOMEM, ETIMEDOUT } from '#linux/errno';

const DRV_NAME = 'edu';
const EDU_VENDOR = 0x1234, EDU_DEVICE = 0x11e8;

// Registers in BAR 0 (QEMU hw/misc/edu.c). Below 0x80 32 bits wide; the DMA ones are 64-bit.
const EDU_REG_ID = 0x00;
const EDU_REG_IRQ_STATUS = 0x24;
const EDU_REG_IRQ_ACK = 0x64;
const EDU_REG_DMA_SRC = 0x80;     // where the device reads from
const EDU_REG_DMA_DST = 0x88;     // where the device writes to
const EDU_REG_DMA_CNT = 0x90;     // how many bytes
const EDU_REG_DMA_CMD = 0x98;     // writing it with EDU_DMA_START starts the transfer
const EDU_DMA_START = 0x1;        // command bits
const EDU_DMA_TO_RAM = 0x2;       //   set: edu -> RAM; clear: RAM -> edu
const EDU_DMA_IRQ = 0x4;          //   raise EDU_IRQ_DMA when done
const EDU_IRQ_DMA = 0x100;        // interrupt status bit of a finished transfer

/** The device's own 4 KiB buffer, at this address on the device's side of the DMA engine. */
const EDU_DMA_BUF = 0x40000;
const EDU_DMA_SIZE = 4096;
/** edu drives 28 address bits on the bus: it can reach the first 256 MiB of bus addresses. */
const EDU_DMA_BITS = 28;
/** A transfer takes 100 ms; give it ample room. */
const EDU_DMA_TIMEOUT_MS = 1000;

/** The driver's private state, one per bound device (struct edu_dev in C). */
export interface edu_dev {
  pdev: pci_dev;
  bar: iomem;
  /** The coherent buffer: the CPU's address of it ... */
  buf: number;
  /** ... and the device's (what dma_alloc_coherent() wrote through its handle argument). */
  buf_dma: dma_addr_t;
  dma_done: completion;
}

/** The three addresses of one buffer. */
export interface edu_addrs { virt: number; phys: phys_addr_t; bus: dma_addr_t }

/** The interrupt handler: the line may be shared, so claim only edu's DMA interrupt. */
function edu_irq(irq: number, edu: edu_dev): irqreturn_t {
  const status = readl(edu.bar + EDU_REG_IRQ_STATUS);
  if (!(status & EDU_IRQ_DMA))
    return IRQ_NONE;
  writel(EDU_IRQ_DMA, edu.bar + EDU_REG_IRQ_ACK);
  complete(edu.dma_done);
  return IRQ_HANDLED;
}

/** Program one transfer (addresses as the device sees them) and wait for its interrupt. */
function edu_dma_run(edu: edu_dev, src: dma_addr_t, dst: dma_addr_t, len: number, cmd: number): number {
  reinit_completion(edu.dma_done);
  writeq(src, edu.bar + EDU_REG_DMA_SRC);
  writeq(dst, edu.bar + EDU_REG_DMA_DST);
  writeq(len, edu.bar + EDU_REG_DMA_CNT);
  writeq(cmd | EDU_DMA_START | EDU_DMA_IRQ, edu.bar + EDU_REG_DMA_CMD);
  if (!wait_for_completion_timeout(edu.dma_done, msecs_to_jiffies(EDU_DMA_TIMEOUT_MS))) {
    dev_err(edu.pdev.dev, 'DMA timed out\n');
    return -ETIMEDOUT;
  }
  return 0;
}

function edu_range_ok(off: number, len: number): boolean {
  return Number.isInteger(off) && Number.isInteger(len) && off >= 0 && len > 0 && off + len <= EDU_DMA_SIZE;
}

/** Copy len bytes from the device's buffer at offset off into edu.buf. 0 or -errno. */
export function edu_copy_from_device(edu: edu_dev, off: number, len: number): number {
  if (!edu_range_ok(off, len))
    return -EINVAL;
  return edu_dma_run(edu, EDU_DMA_BUF + off, edu.buf_dma, len, EDU_DMA_TO_RAM);
}

/** Copy the first len bytes of edu.buf into the device's buffer at offset off. 0 or -errno. */
export function edu_copy_to_device(edu: edu_dev, off: number, len: number): number {
  if (!edu_range_ok(off, len))
    return -EINVAL;
  return edu_dma_run(edu, edu.buf_dma, EDU_DMA_BUF + off, len, 0);
}

/** The buffer's CPU virtual, physical and bus addresses. */
export function edu_addresses(edu: edu_dev): edu_addrs {
  const virt = edu.buf;
  // virt_to_phys() is arithmetic on the linear map only. A coherent buffer on a non-coherent
  // machine is a second, uncached mapping in the vmalloc area: walk its page tables instead.
  const phys = is_vmalloc_addr(virt)
    ? page_to_phys(vmalloc_to_page(virt)) + offset_in_page(virt)
    : virt_to_phys(virt);
  return { virt, phys, bus: edu.buf_dma };
}

function edu_probe(pdev: pci_dev, id: pci_device_id): number {
  const edu: edu_dev = { pdev, bar: 0, buf: 0, buf_dma: 0, dma_done: DECLARE_COMPLETION() };
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

        // Before any DMA allocation or mapping: what can this device address?
        ret = dma_set_mask_and_coherent(pdev.dev, DMA_BIT_MASK(EDU_DMA_BITS));
        if (ret) {
          dev_err(pdev.dev, 'No usable DMA configuration (%d-bit mask refused)\n', EDU_DMA_BITS);
          break err_unmap;
        }
        pci_set_master(pdev);

        edu.buf = dma_alloc_coherent(pdev.dev, EDU_DMA_SIZE, ref(edu, 'buf_dma'), GFP_KERNEL);
        if (!edu.buf) {
          ret = -ENOMEM;
          break err_unmap;
        }
        err_free: {
          const a = edu_addresses(edu);
          dev_info(pdev.dev, 'DMA buffer: virt %px phys %pa bus %pad\n', a.virt, a.phys, a.bus);

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

/** Undo probe, in reverse order: the interrupt first, then the memory the device used. */
function edu_remove(pdev: pci_dev): void {
  const edu = pci_get_drvdata<edu_dev>(pdev);
  free_irq(pdev.irq, edu);
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
