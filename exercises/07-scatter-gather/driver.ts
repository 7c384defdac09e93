// Exercise 07: sgblk, a disk whose DMA engine walks a table of descriptors in memory, one per
// DMA segment of a scatter-gather list. Read lessons/07-scatter-gather.md first (its last section
// has the device's registers). Save, and the grader runs the tests.
import { pci_enable_device, pci_disable_device, pci_request_regions, pci_release_regions,
  pci_iomap, pci_iounmap, pci_set_master, pci_clear_master, pci_set_drvdata, pci_get_drvdata,
  PCI_DEVICE, type pci_dev, type pci_device_id, type pci_driver } from '#linux/pci';
import { dma_set_mask_and_coherent, dma_set_max_seg_size, dma_get_max_seg_size, dma_alloc_coherent,
  dma_free_coherent, dma_map_sgtable, dma_unmap_sgtable, dma_sync_sgtable_for_cpu,
  dma_sync_sgtable_for_device, DMA_BIT_MASK, DMA_TO_DEVICE, DMA_FROM_DEVICE,
  type dma_addr_t } from '#linux/dma-mapping';
import { sg_table_init, sg_alloc_table_from_pages_segment, sg_free_table, for_each_sgtable_sg,
  for_each_sgtable_dma_sg, sg_dma_address, sg_dma_len, sg_virt, type sg_table } from '#linux/scatterlist';
import { alloc_page, __free_page, GFP_KERNEL } from '#linux/gfp';
import { readl, writel, type iomem } from '#linux/io';
import { readl_poll_timeout } from '#linux/iopoll';
import { request_irq, free_irq, IRQ_HANDLED, IRQ_NONE, IRQF_SHARED, type irqreturn_t } from '#linux/interrupt';
import { DECLARE_COMPLETION, reinit_completion, complete, wait_for_completion_timeout,
  type completion } from '#linux/completion';
import { lower_32_bits, upper_32_bits } from '#linux/kernel';
import { msecs_to_jiffies } from '#linux/jiffies';
import { dev_err } from '#linux/device';
import { EBUSY, EINVAL, EIO, ENOMEM, ETIMEDOUT } from '#linux/errno';
import { ref } from '#dmalab/ref';
import { put_u32, copy_from_mem } from '#dmalab/mem';

const DRV_NAME = 'sgblk';
const SGBLK_VENDOR = 0x1234, SGBLK_DEVICE = 0x5347;

// Registers in BAR 0 (sim/hw/sgblk.ts), all 32 bits.
const SGBLK_REG_PRDT_LO = 0x10;
const SGBLK_REG_PRDT_HI = 0x14;
const SGBLK_REG_LBA = 0x18;
const SGBLK_REG_NSECT = 0x1c;
const SGBLK_REG_CMD = 0x20;
const SGBLK_REG_STATUS = 0x24;
const SGBLK_REG_ERROR = 0x28;
const SGBLK_REG_ISR = 0x2c;
const SGBLK_REG_IER = 0x30;
const SGBLK_CMD_START = 0x1;
const SGBLK_CMD_WRITE = 0x2;        // RAM -> disk; without it disk -> RAM
const SGBLK_STATUS_BUSY = 0x1;
const SGBLK_STATUS_ERR = 0x2;
const SGBLK_ISR_DONE = 0x1;

const SGBLK_NPRD = 32;              // descriptors per command
const SGBLK_MAXSEG = 32768;         // bytes per descriptor
const SGBLK_SECTOR = 512;
const SGBLK_PRD_SIZE = 16;          // address low, address high, reserved, byte count - 1 | EOT
const SGBLK_PRD_ADDR_LO = 0x0, SGBLK_PRD_ADDR_HI = 0x4, SGBLK_PRD_FLAGS_SIZE = 0xc;
const SGBLK_PRD_EOT = 0x80000000;
const SGBLK_PRDT_BYTES = SGBLK_NPRD * SGBLK_PRD_SIZE;

const SGBLK_CACHE_PAGES = 16;       // the read-ahead area: 64 KiB in separate pages
const PAGE_SIZE = 4096;
const SGBLK_CACHE_SECTORS = SGBLK_CACHE_PAGES * PAGE_SIZE / SGBLK_SECTOR;
const SGBLK_TIMEOUT_MS = 1000;      // a command takes 250 us
const SGBLK_POLL_US = 1000;

/** The driver's private state, one per bound device. */
export interface sgblk_dev {
  pdev: pci_dev;
  bar: iomem;
  done: completion;
  /** The descriptor table: coherent, the device reads it while a command runs. */
  prdt: number;
  prdt_dma: dma_addr_t;
  /** The read-ahead area: its pages, and their table, mapped DMA_FROM_DEVICE while bound. */
  cache_pages: number[];
  cache: sg_table;
}

function sgblk_irq(irq: number, blk: sgblk_dev): irqreturn_t {
  const isr = readl(blk.bar + SGBLK_REG_ISR);
  if (!(isr & SGBLK_ISR_DONE)) return IRQ_NONE;
  writel(SGBLK_ISR_DONE, blk.bar + SGBLK_REG_ISR);
  complete(blk.done);
  return IRQ_HANDLED;
}

/** Write one descriptor per DMA segment of `sgt`, the last marked EOT; their count, or -EINVAL
 *  if they do not fit the table. */
function sgblk_fill_prdt(blk: sgblk_dev, sgt: sg_table): number {
  // TODO: one descriptor per DMA segment, at blk.prdt + i * SGBLK_PRD_SIZE: the segment's
  // address in two 32-bit halves (SGBLK_PRD_ADDR_LO / _HI), and at SGBLK_PRD_FLAGS_SIZE its
  // byte count minus one, with SGBLK_PRD_EOT on the last one. put_u32(value, address) stores.
  // More segments than SGBLK_NPRD do not fit: -EINVAL.
  return -EINVAL;
}

/**
 * Run one command over the descriptors in the table and wait for it. 0, -EIO if the device
 * reports an error, -ETIMEDOUT if no interrupt came but the device has stopped, -EBUSY if it is
 * still running (its segments are still the device's, and must stay mapped).
 */
function sgblk_run(blk: sgblk_dev, lba: number, nsect: number, write: boolean): number {
  reinit_completion(blk.done);
  writel(lower_32_bits(blk.prdt_dma), blk.bar + SGBLK_REG_PRDT_LO);
  writel(upper_32_bits(blk.prdt_dma), blk.bar + SGBLK_REG_PRDT_HI);
  writel(lba, blk.bar + SGBLK_REG_LBA);
  writel(nsect, blk.bar + SGBLK_REG_NSECT);
  writel(SGBLK_CMD_START | (write ? SGBLK_CMD_WRITE : 0), blk.bar + SGBLK_REG_CMD);
  if (!wait_for_completion_timeout(blk.done, msecs_to_jiffies(SGBLK_TIMEOUT_MS))) {
    dev_err(blk.pdev.dev, 'command timed out\n');
    if (readl_poll_timeout(blk.bar + SGBLK_REG_STATUS, null, (s) => !(s & SGBLK_STATUS_BUSY),
      SGBLK_POLL_US, SGBLK_TIMEOUT_MS * 1000))
      return -EBUSY;
    return -ETIMEDOUT;
  }
  if (readl(blk.bar + SGBLK_REG_STATUS) & SGBLK_STATUS_ERR) {
    dev_err(blk.pdev.dev, 'command failed, error 0x%x\n', readl(blk.bar + SGBLK_REG_ERROR));
    return -EIO;
  }
  return 0;
}

/** Move `len` bytes between the caller's pages (starting `offset` bytes into pages[0]) and the
 *  disk at sector `lba`: to the disk if `write`. 0 or -errno. */
export function sgblk_rw(blk: sgblk_dev, pages: number[], offset: number, len: number, lba: number, write: boolean): number {
  const dev = blk.pdev.dev;
  const dir = write ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
  if (len <= 0 || len % SGBLK_SECTOR || pages.length > SGBLK_NPRD)
    return -EINVAL;

  // TODO: describe the pages as a table (no entry longer than the device takes), map it for
  // this direction, write the descriptors, run the command:
  //     ret = sgblk_run(blk, lba, len / SGBLK_SECTOR, write);
  // then unmap and free the table, on every path (-ENOMEM if the table or the mapping fails;
  // on -EBUSY the device may still be using the pages: leave them mapped and return it).
  return -EIO;
}

/** Read the SGBLK_CACHE_SECTORS sectors at `lba` through the read-ahead area; a copy of them,
 *  or -errno. */
export function sgblk_read_cached(blk: sgblk_dev, lba: number): Uint8Array | number {
  const dev = blk.pdev.dev;

  // TODO: blk.cache is mapped DMA_FROM_DEVICE for the life of the device and is the device's
  // between calls. Write its descriptors, have the device fill it:
  //     sgblk_run(blk, lba, SGBLK_CACHE_SECTORS, false)
  // then borrow the whole list for the CPU, copy every entry out in order (sg_virt(sg),
  // sg.length, copy_from_mem), and give the list back to the device.
  void dev;
  return -EIO;
}

/** The read-ahead area's pages: every other one of twice as many, so that no two are adjacent. */
function sgblk_alloc_cache(blk: sgblk_dev): number {
  const spare: number[] = [];
  let ret = 0;
  for (let i = 0; i < SGBLK_CACHE_PAGES * 2; i++) {
    const page = alloc_page(GFP_KERNEL);
    if (!page) {
      ret = -ENOMEM;
      break;
    }
    (i % 2 ? spare : blk.cache_pages).push(page);
  }
  for (const page of spare) __free_page(page);
  if (ret) sgblk_free_cache(blk);
  return ret;
}

function sgblk_free_cache(blk: sgblk_dev): void {
  for (const page of blk.cache_pages) __free_page(page);
  blk.cache_pages = [];
}

function sgblk_probe(pdev: pci_dev, id: pci_device_id): number {
  const dev = pdev.dev;
  const blk: sgblk_dev = { pdev, bar: 0, done: DECLARE_COMPLETION(), prdt: 0, prdt_dma: 0, cache_pages: [],
    cache: sg_table_init() };
  let ret = pci_enable_device(pdev);
  if (ret)
    return ret;

  err_disable: {
    ret = pci_request_regions(pdev, DRV_NAME);
    if (ret)
      break err_disable;
    err_release: {
      blk.bar = pci_iomap(pdev, 0, 0);
      if (!blk.bar) {
        ret = -ENOMEM;
        break err_release;
      }
      err_iounmap: {
        ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32));
        if (ret) {
          dev_err(dev, 'no usable DMA configuration\n');
          break err_iounmap;
        }
        // TODO: no DMA segment may be longer than one descriptor takes (SGBLK_MAXSEG).
        pci_set_master(pdev);
        err_clear_master: {
          blk.prdt = dma_alloc_coherent(dev, SGBLK_PRDT_BYTES, ref(blk, 'prdt_dma'), GFP_KERNEL);
          if (!blk.prdt) {
            ret = -ENOMEM;
            break err_clear_master;
          }
          err_free_prdt: {
            ret = sgblk_alloc_cache(blk);
            if (ret)
              break err_free_prdt;
            err_free_cache: {
              // TODO: describe blk.cache_pages (SGBLK_CACHE_PAGES whole pages) as the table
              // blk.cache and map it for the device to write, for as long as it is bound. If that
              // fails, or request_irq() below does, undo it in reverse before freeing the pages.
              ret = request_irq(pdev.irq, sgblk_irq, IRQF_SHARED, DRV_NAME, blk);
              if (ret)
                break err_free_cache;
              writel(SGBLK_ISR_DONE, blk.bar + SGBLK_REG_IER);
              pci_set_drvdata(pdev, blk);
              return 0;
            }
            sgblk_free_cache(blk);
          }
          dma_free_coherent(dev, SGBLK_PRDT_BYTES, blk.prdt, blk.prdt_dma);
        }
        pci_clear_master(pdev);
      }
      pci_iounmap(pdev, blk.bar);
    }
    pci_release_regions(pdev);
  }
  pci_disable_device(pdev);
  return ret;
}

/** Undo probe, in reverse order. Every command was waited for, so the device is idle. */
function sgblk_remove(pdev: pci_dev): void {
  const blk = pci_get_drvdata<sgblk_dev>(pdev);
  const dev = pdev.dev;
  writel(0, blk.bar + SGBLK_REG_IER);
  free_irq(pdev.irq, blk);
  // TODO: unmap and free the read-ahead table.
  sgblk_free_cache(blk);
  dma_free_coherent(dev, SGBLK_PRDT_BYTES, blk.prdt, blk.prdt_dma);
  pci_clear_master(pdev);
  pci_iounmap(pdev, blk.bar);
  pci_release_regions(pdev);
  pci_disable_device(pdev);
}

export const sgblk_driver: pci_driver = {
  name: DRV_NAME,
  id_table: [PCI_DEVICE(SGBLK_VENDOR, SGBLK_DEVICE)],
  probe: sgblk_probe,
  remove: sgblk_remove,
};

