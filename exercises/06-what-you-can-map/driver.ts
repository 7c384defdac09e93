// Exercise 06: command/reply exchanges with the edu device, through buffers the device can
// reach by DMA. Read lessons/06-what-you-can-map.md first. Save, and the grader runs the tests.
import { pci_enable_device, pci_disable_device, pci_request_regions, pci_release_regions,
  pci_iomap, pci_iounmap, pci_set_master, pci_set_drvdata, pci_get_drvdata, PCI_DEVICE,
  type pci_dev, type pci_device_id, type pci_driver } from '#linux/pci';
import { dma_set_mask_and_coherent, dma_map_single, dma_unmap_single, dma_mapping_error,
  DMA_BIT_MASK, DMA_TO_DEVICE, DMA_FROM_DEVICE, type dma_addr_t } from '#linux/dma-mapping';
import { readl, writel, writeq, type iomem } from '#linux/io';
import { request_irq, free_irq, IRQ_HANDLED, IRQ_NONE, IRQF_SHARED, type irqreturn_t } from '#linux/interrupt';
import { DECLARE_COMPLETION, reinit_completion, complete, wait_for_completion_timeout,
  type completion } from '#linux/completion';
import { DEFINE_MUTEX, mutex_lock, mutex_unlock, type mutex } from '#linux/mutex';
import { msecs_to_jiffies } from '#linux/jiffies';
import { kzalloc, kfree, GFP_KERNEL } from '#linux/slab';
import { memcpy } from '#linux/string';
import { dev_err } from '#linux/device';
import { EINVAL, ENOMEM, ETIMEDOUT } from '#linux/errno';
import { struct_layout, copy_to_mem, copy_from_mem } from '#dmalab/mem';
import { DEFINE_RODATA } from '#dmalab/static';

const DRV_NAME = 'edu';
const EDU_VENDOR = 0x1234, EDU_DEVICE = 0x11e8;

// Registers in BAR 0 (QEMU hw/misc/edu.c).
const EDU_REG_IRQ_STATUS = 0x24;
const EDU_REG_IRQ_ACK = 0x64;
const EDU_REG_DMA_SRC = 0x80;     // 64-bit registers from 0x80 on
const EDU_REG_DMA_DST = 0x88;
const EDU_REG_DMA_CNT = 0x90;
const EDU_REG_DMA_CMD = 0x98;
const EDU_DMA_RUN = 0x1;          // command bits
const EDU_DMA_TO_RAM = 0x2;       // edu -> RAM (without it: RAM -> edu)
const EDU_DMA_IRQ = 0x4;          // raise EDU_IRQ_DMA when done
const EDU_IRQ_DMA = 0x100;
const EDU_DMA_BITS = 28;          // edu drives 28 address bits
const EDU_DMA_TIMEOUT_MS = 1000;  // a transfer takes 100 ms

// The exchange protocol: the command goes to the start of edu's 4 KiB buffer, the device's
// reply is read back from 64 bytes further on.
const EDU_DMA_BUF = 0x40000;
const EDU_CMD_OFF = 0x00;
const EDU_REPLY_OFF = 0x40;
const EDU_CMD_MAX = 64;
const EDU_REPLY_LEN = 64;

// TODO (lesson § "Cache lines"): the device writes `reply` while the CPU writes `seq` (see
// edu_xchg). Work out which cache lines each field falls in, then make this layout safe on
// every machine the driver may run on, non-coherent ones included.
/** The per-device message buffers, in kernel memory (struct edu_msg in C). */
export const edu_msg = struct_layout({
  cmd: ['u8', EDU_CMD_MAX],       // read by the device
  seq: 'u32',                     // exchanges so far: the CPU's
  reply: ['u8', EDU_REPLY_LEN],   // written by the device
});

/** The fixed "ping" command, a table in .rodata (`static const u8 edu_ping_cmd[]` in C). */
const edu_ping_cmd = DEFINE_RODATA([0x50, 0x49, 0x4e, 0x47]);

/** The driver's private state, one per bound device (struct edu_dev in C). */
export interface edu_dev {
  pdev: pci_dev;
  bar: iomem;
  /** struct edu_msg *, from kzalloc. */
  msg: number;
  /** Serialises exchanges: there is one msg and one device buffer. */
  lock: mutex;
  dma_done: completion;
}

/** The interrupt handler: the line may be shared, so claim only edu's DMA interrupt. */
function edu_irq(irq: number, edu: edu_dev): irqreturn_t {
  const status = readl(edu.bar + EDU_REG_IRQ_STATUS);
  if (!(status & EDU_IRQ_DMA)) return IRQ_NONE;
  writel(status & EDU_IRQ_DMA, edu.bar + EDU_REG_IRQ_ACK);
  complete(edu.dma_done);
  return IRQ_HANDLED;
}

/** Run one transfer of len bytes from src to dst and wait for its interrupt: 0 or -ETIMEDOUT. */
function edu_dma_run(edu: edu_dev, src: number, dst: number, len: number, dir_bits: number): number {
  reinit_completion(edu.dma_done);
  writeq(src, edu.bar + EDU_REG_DMA_SRC);
  writeq(dst, edu.bar + EDU_REG_DMA_DST);
  writeq(len, edu.bar + EDU_REG_DMA_CNT);
  writeq(EDU_DMA_RUN | EDU_DMA_IRQ | dir_bits, edu.bar + EDU_REG_DMA_CMD);
  if (!wait_for_completion_timeout(edu.dma_done, msecs_to_jiffies(EDU_DMA_TIMEOUT_MS))) {
    dev_err(edu.pdev.dev, 'DMA timed out\n');
    return -ETIMEDOUT;
  }
  return 0;
}

/** One exchange, with edu.lock held: send the len-byte command at `cmd` (DMA-able memory),
 *  return a copy of the device's reply, or -errno. */
function edu_xchg(edu: edu_dev, cmd: number, len: number): Uint8Array | number {
  const dev = edu.pdev.dev;
  const reply = edu_msg.field(edu.msg, 'reply');

  // TODO: map the reply (EDU_REPLY_LEN bytes at `reply`) for the device to write, before the
  // command goes out (a device may answer at once); then map the command (len bytes at `cmd`)
  // for the device to read. Check each mapping; if the second fails, undo the first. -ENOMEM.

  // Count the exchange. (Keep this line here: the CPU writes seq while the device owns the
  // reply, as a real driver updates its state while a transfer runs.)
  edu_msg.set(edu.msg, 'seq', edu_msg.get(edu.msg, 'seq') + 1);

  // TODO: send the command, edu_dma_run(edu, <its DMA address>, EDU_DMA_BUF + EDU_CMD_OFF,
  // len, 0), and unmap it; fetch the reply, edu_dma_run(edu, EDU_DMA_BUF + EDU_REPLY_OFF,
  // <the reply's DMA address>, EDU_REPLY_LEN, EDU_DMA_TO_RAM), and unmap it. If a transfer
  // times out, return its error and leave the mappings alone (the device may still use them).
  // Return a copy of the reply (copy_from_mem).
  return -ENOMEM;
}

/** Send a command of 1..EDU_CMD_MAX bytes and return the device's 64-byte reply, or -errno. */
export function edu_exchange(edu: edu_dev, cmd: Uint8Array): Uint8Array | number {
  // TODO: refuse an empty command or one longer than EDU_CMD_MAX (-EINVAL). With edu.lock
  // held, put the command's bytes in memory the device can read by DMA, and let edu_xchg
  // do the exchange.
  return -ENOMEM;
}

/** Send the fixed ping command and return the device's reply, or -errno. */
export function edu_ping(edu: edu_dev): Uint8Array | number {
  // TODO: with edu.lock held, send the edu_ping_cmd table (edu_ping_cmd.size bytes at
  // edu_ping_cmd.addr) through edu_xchg.
  return -ENOMEM;
}

function edu_probe(pdev: pci_dev, id: pci_device_id): number {
  const edu: edu_dev = { pdev, bar: 0, msg: 0, lock: DEFINE_MUTEX('edu->lock'), dma_done: DECLARE_COMPLETION() };
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
        ret = dma_set_mask_and_coherent(pdev.dev, DMA_BIT_MASK(EDU_DMA_BITS));
        if (ret)
          break err_unmap;
        pci_set_master(pdev);

        // TODO: allocate edu.msg, edu_msg.sizeof bytes (zeroed) of memory the device can reach
        // by DMA. If that fails, unwind with -ENOMEM (break err_unmap).
        err_free: {
          ret = request_irq(pdev.irq, edu_irq, IRQF_SHARED, DRV_NAME, edu);
          if (ret)
            break err_free;

          pci_set_drvdata(pdev, edu);
          return 0;
        }
        // TODO: free edu.msg
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
  // TODO: free edu.msg
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
