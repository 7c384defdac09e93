// Exercise 06, reference solution: command/reply exchanges with the edu device, through buffers
// that are DMA-able. The command and reply live in one kzalloc'ed struct per device (never on
// the stack, in vmalloc memory or in the driver image), and the reply, which the device writes
// while the CPU keeps updating the struct, has cache lines of its own. Compare the
// `__aligned(IIO_DMA_MINALIGN)` buffers at the end of the state structs in drivers/iio/.
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

/** ARCH_DMA_MINALIGN of the strictest machine we run on (arm64: 128). In C this is
 *  `__aligned(ARCH_DMA_MINALIGN)`, a constant of the architecture the module is built for. */
const EDU_DMA_MINALIGN = 128;

/** The per-device message buffers, in kernel memory (struct edu_msg in C). */
export const edu_msg = struct_layout({
  cmd: ['u8', EDU_CMD_MAX],                       // read by the device
  seq: 'u32',                                     // exchanges so far: the CPU's
  reply: ['u8', EDU_REPLY_LEN, EDU_DMA_MINALIGN], // written by the device: its own cache lines
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
  let ret: number;

  // Post the reply buffer before the command goes out: a device may answer at once.
  const reply_dma: dma_addr_t = dma_map_single(dev, reply, EDU_REPLY_LEN, DMA_FROM_DEVICE);
  if (dma_mapping_error(dev, reply_dma))
    return -ENOMEM;

  err_unmap_reply: {
    const cmd_dma: dma_addr_t = dma_map_single(dev, cmd, len, DMA_TO_DEVICE);
    if (dma_mapping_error(dev, cmd_dma)) {
      ret = -ENOMEM;
      break err_unmap_reply;
    }

    // Count the exchange. The device owns the reply now, and the CPU writes next to it: safe
    // only because the reply shares no cache line with seq (EDU_DMA_MINALIGN).
    edu_msg.set(edu.msg, 'seq', edu_msg.get(edu.msg, 'seq') + 1);

    // On a timeout the device may still be reading or writing: leave both mapped.
    ret = edu_dma_run(edu, cmd_dma, EDU_DMA_BUF + EDU_CMD_OFF, len, 0);
    if (ret)
      return ret;
    dma_unmap_single(dev, cmd_dma, len, DMA_TO_DEVICE);

    ret = edu_dma_run(edu, EDU_DMA_BUF + EDU_REPLY_OFF, reply_dma, EDU_REPLY_LEN, EDU_DMA_TO_RAM);
    if (ret)
      return ret;
    dma_unmap_single(dev, reply_dma, EDU_REPLY_LEN, DMA_FROM_DEVICE);
    return copy_from_mem(reply, EDU_REPLY_LEN);
  }
  dma_unmap_single(dev, reply_dma, EDU_REPLY_LEN, DMA_FROM_DEVICE);
  return ret;
}

/** Send a command of 1..EDU_CMD_MAX bytes and return the device's 64-byte reply, or -errno. */
export function edu_exchange(edu: edu_dev, cmd: Uint8Array): Uint8Array | number {
  if (cmd.length === 0 || cmd.length > EDU_CMD_MAX)
    return -EINVAL;
  mutex_lock(edu.lock);
  const buf = edu_msg.field(edu.msg, 'cmd');
  copy_to_mem(buf, cmd);
  const ret = edu_xchg(edu, buf, cmd.length);
  mutex_unlock(edu.lock);
  return ret;
}

/** Send the fixed ping command and return the device's reply, or -errno. */
export function edu_ping(edu: edu_dev): Uint8Array | number {
  mutex_lock(edu.lock);
  // The table is part of the driver image, which is not DMA-able: send a copy.
  const buf = edu_msg.field(edu.msg, 'cmd');
  memcpy(buf, edu_ping_cmd.addr, edu_ping_cmd.size);
  const ret = edu_xchg(edu, buf, edu_ping_cmd.size);
  mutex_unlock(edu.lock);
  return ret;
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

        // kmalloc memory is DMA-able, and its start is aligned to ARCH_DMA_MINALIGN.
        edu.msg = kzalloc(edu_msg.sizeof, GFP_KERNEL);
        if (!edu.msg) {
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
        kfree(edu.msg);
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
  kfree(edu.msg);
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
