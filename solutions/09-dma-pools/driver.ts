// Exercise 09, reference solution: cmdq, a command-queue device whose commands each point at a
// chain of small descriptors. The command ring is one coherent allocation for the life of the
// device; the descriptors (48 bytes: 32 the device reads, then our own) and FILL's 64-byte
// parameter blocks come from two DMA pools created in probe with the device's alignment and
// boundary, taken per command on the submit path and given back in the completion loop of the
// interrupt handler. Remove stops the queue, gives back every block still out, and only then
// destroys the pools. Compare drivers/usb/host/ehci-mem.c: ehci_mem_init(), ehci_qtd_alloc(),
// ehci_qtd_free(), ehci_mem_cleanup().
import { pci_enable_device, pci_disable_device, pci_request_regions, pci_release_regions,
  pci_iomap, pci_iounmap, pci_set_master, pci_set_drvdata, pci_get_drvdata,
  PCI_DEVICE, type pci_dev, type pci_device_id, type pci_driver } from '#linux/pci';
import { dma_set_mask_and_coherent, dma_alloc_coherent, dma_free_coherent, dma_map_single,
  dma_unmap_single, dma_mapping_error, DMA_BIT_MASK, DMA_TO_DEVICE, DMA_FROM_DEVICE,
  type dma_addr_t } from '#linux/dma-mapping';
import { dma_pool_create, dma_pool_zalloc, dma_pool_free, dma_pool_destroy, type dma_pool } from '#linux/dmapool';
import { readl, writel, type iomem } from '#linux/io';
import { readl_poll_timeout } from '#linux/iopoll';
import { request_irq, free_irq, IRQ_HANDLED, IRQ_NONE, IRQF_SHARED, type irqreturn_t } from '#linux/interrupt';
import { DECLARE_COMPLETION, reinit_completion, complete, wait_for_completion_timeout,
  type completion } from '#linux/completion';
import { DEFINE_SPINLOCK, spin_lock, spin_unlock, spin_lock_irqsave, spin_unlock_irqrestore,
  type spinlock_t } from '#linux/spinlock';
import { msecs_to_jiffies } from '#linux/jiffies';
import { lower_32_bits, upper_32_bits } from '#linux/kernel';
import { GFP_KERNEL, GFP_ATOMIC } from '#linux/gfp';
import { dev_err, dev_info } from '#linux/device';
import { EBUSY, EINVAL, EIO, ENODEV, ENOMEM, ETIMEDOUT } from '#linux/errno';
import { ref, out } from '#dmalab/ref';
import { struct_layout } from '#dmalab/mem';

const DRV_NAME = 'cmdq';
const CMDQ_VENDOR = 0x1b36, CMDQ_DEVICE = 0x5100, CMDQ_ID_VALUE = 0x434d4451;

// Registers in BAR 0 (sim/hw/cmdq.ts), all 32 bits wide.
const CMDQ_ID = 0x00, CMDQ_CTRL = 0x04, CMDQ_STATUS = 0x08, CMDQ_ISR = 0x0c, CMDQ_IMR = 0x10;
const CMDQ_QBASE_LO = 0x20, CMDQ_QBASE_HI = 0x24, CMDQ_QSIZE = 0x28, CMDQ_QTAIL = 0x2c, CMDQ_ERRINFO = 0x34;
const CMDQ_CTRL_EN = 0x1, CMDQ_CTRL_RST = 0x2;
const CMDQ_STATUS_BUSY = 0x2;
const CMDQ_INT_DONE = 0x1, CMDQ_INT_ERR = 0x2;
export const CMDQ_OP_CHECKSUM = 1, CMDQ_OP_FILL = 2;
const CMD_DONE = 0x1, CMD_IRQ = 0x1;

const QSIZE = 64;                 // command slots in the ring
const CMDQ_PIECE = 4096;          // bytes one descriptor may name
const CMDQ_MAX_CHAIN = 16;        // descriptors one command may chain
export const CMDQ_MAX_LEN = CMDQ_PIECE * CMDQ_MAX_CHAIN;
const CMDQ_TIMEOUT_MS = 1000;

// A command in the ring (32 bytes), as the device reads and writes it.
const cmdq_cmd = struct_layout({ desc: 'u64', param: 'u64', tag: 'u16', opcode: 'u8', flags: 'u8',
  status: 'u16', rsvd: 'u16', total: 'u32', rsvd2: 'u32' });
// A descriptor block: the 32 bytes the device reads (32-byte aligned, never across 4 KiB), then
// the block's own DMA handle, kept with it as struct ehci_qtd keeps qtd_dma.
const cmdq_desc = struct_layout({ buf: 'u64', len: 'u32', ctrl: 'u32', next: 'u64', result: 'u32',
  csum: 'u32', self_dma: 'u64', tag: 'u32', rsvd: 'u32' });
const DESC_ALIGN = 32, DESC_BOUNDARY = 4096;
// FILL's parameter block: 64 bytes, 64-byte aligned.
const cmdq_param = struct_layout({ seed: 'u32', rsvd: ['u32', 15] });
const PARAM_ALIGN = 64;

/** One ring slot's software state. */
export interface cmdq_slot {
  /** Submitted and not yet collected by cmdq_wait(): the slot cannot be reused. */
  busy: boolean;
  /** The device owns the command (and its blocks) until its status says DONE. */
  hw: boolean;
  /** CPU addresses of the chain's descriptor blocks, in order. */
  descs: number[];
  /** The parameter block (0 if none) and its handle. */
  param: number;
  param_dma: dma_addr_t;
  done: completion;
  /** The command's result: its total, or -EIO if the device failed it. */
  ret: number;
  /** The job and the streaming mapping of its buffer (cmdq_queue() maps, cmdq_wait() unmaps). */
  job: cmdq_job | null;
  dma: dma_addr_t;
}

/** One job: FILL writes len bytes at buf from seed, CHECKSUM reads them. */
export interface cmdq_job { op: number; buf: number; len: number; seed: number }

const job_dir = (j: cmdq_job) => (j.op === CMDQ_OP_FILL ? DMA_FROM_DEVICE : DMA_TO_DEVICE);

/** The driver's private state, one per bound device. */
export interface cmdq_dev {
  pdev: pci_dev;
  bar: iomem;
  ring: number;
  ring_dma: dma_addr_t;
  desc_pool: dma_pool | null;
  param_pool: dma_pool | null;
  lock: spinlock_t;
  slots: cmdq_slot[];
  /** Oldest slot the device may still own, and the next free one (the tail we write). */
  head: number;
  tail: number;
}

/** Give a slot's blocks back to their pools. */
function cmdq_free_blocks(cq: cmdq_dev, s: cmdq_slot): void {
  for (const d of s.descs)
    dma_pool_free(cq.desc_pool!, d, cmdq_desc.get(d, 'self_dma'));
  s.descs = [];
  if (s.param) {
    dma_pool_free(cq.param_pool!, s.param, s.param_dma);
    s.param = 0;
  }
}

/**
 * Queue job over buf_dma, the streaming mapping of its buffer. Returns the slot, or -EINVAL,
 * -EBUSY (no free slot), -ENOMEM (no block: nothing queued, every block taken given back).
 */
export function cmdq_submit(cq: cmdq_dev, job: cmdq_job, buf_dma: dma_addr_t): number {
  const { op, len, seed } = job;
  if (len < 1 || len > CMDQ_MAX_LEN || (op !== CMDQ_OP_CHECKSUM && op !== CMDQ_OP_FILL))
    return -EINVAL;
  const flags = spin_lock_irqsave(cq.lock);
  const i = cq.tail;
  const s = cq.slots[i]!;
  const next_tail = (i + 1) % QSIZE;
  if (next_tail === cq.head || s.busy) {
    spin_unlock_irqrestore(cq.lock, flags);
    return -EBUSY;
  }
  // One zeroed descriptor per piece, chained: a zeroed block's next is 0, which ends the chain.
  let prev = 0;
  for (let off = 0; off < len; off += CMDQ_PIECE) {
    const h = out<dma_addr_t>(0);
    const d = dma_pool_zalloc(cq.desc_pool!, GFP_ATOMIC, h);
    if (!d) {
      cmdq_free_blocks(cq, s);
      spin_unlock_irqrestore(cq.lock, flags);
      return -ENOMEM;
    }
    cmdq_desc.set(d, 'buf', buf_dma + off);
    cmdq_desc.set(d, 'len', Math.min(CMDQ_PIECE, len - off));
    cmdq_desc.set(d, 'self_dma', h.value);
    cmdq_desc.set(d, 'tag', i);
    if (prev)
      cmdq_desc.set(prev, 'next', h.value);
    s.descs.push(d);
    prev = d;
  }
  if (op === CMDQ_OP_FILL) {
    s.param = dma_pool_zalloc(cq.param_pool!, GFP_ATOMIC, ref(s, 'param_dma'));
    if (!s.param) {
      cmdq_free_blocks(cq, s);
      spin_unlock_irqrestore(cq.lock, flags);
      return -ENOMEM;
    }
    cmdq_param.set(s.param, 'seed', seed);
  }
  const c = cq.ring + i * cmdq_cmd.sizeof;
  cmdq_cmd.set(c, 'desc', cmdq_desc.get(s.descs[0]!, 'self_dma'));
  cmdq_cmd.set(c, 'param', s.param ? s.param_dma : 0);
  cmdq_cmd.set(c, 'tag', i);
  cmdq_cmd.set(c, 'opcode', op);
  cmdq_cmd.set(c, 'flags', CMD_IRQ);
  cmdq_cmd.set(c, 'status', 0);
  cmdq_cmd.set(c, 'total', 0);
  s.busy = true;
  s.hw = true;
  s.job = job;
  s.dma = buf_dma;
  reinit_completion(s.done);
  cq.tail = next_tail;
  // writel() orders the descriptor and command stores before the doorbell (lesson 10).
  writel(cq.tail, cq.bar + CMDQ_QTAIL);
  spin_unlock_irqrestore(cq.lock, flags);
  return i;
}

// ---- provided: mapping the jobs' buffers, waiting, running a batch -----------------------

/** Map job's buffer and queue it: the slot, or a negative errno (nothing left mapped). */
export function cmdq_queue(cq: cmdq_dev, job: cmdq_job): number {
  const dev = cq.pdev.dev;
  const dma = dma_map_single(dev, job.buf, job.len, job_dir(job));
  if (dma_mapping_error(dev, dma))
    return -ENOMEM;
  const slot = cmdq_submit(cq, job, dma);
  if (slot < 0)
    dma_unmap_single(dev, dma, job.len, job_dir(job));
  return slot;
}

/** Wait for slot's command: its result (>= 0), -EIO or -ETIMEDOUT; the slot is free again. */
export function cmdq_wait(cq: cmdq_dev, slot: number): number {
  const s = cq.slots[slot]!;
  if (!wait_for_completion_timeout(s.done, msecs_to_jiffies(CMDQ_TIMEOUT_MS)))
    return -ETIMEDOUT;             // the device may still use the buffer: it stays mapped
  dma_unmap_single(cq.pdev.dev, s.dma, s.job!.len, job_dir(s.job!));
  s.job = null;
  s.busy = false;
  return s.ret;
}

/** Run jobs, up to the ring's size at once: their results in order, or a negative errno. */
export function cmdq_run(cq: cmdq_dev, jobs: cmdq_job[]): number[] | number {
  const results: number[] = [];
  const pending: { i: number; slot: number }[] = [];
  let next = 0, err = 0;
  const finish = (): void => {
    const p = pending.shift()!;
    const ret = cmdq_wait(cq, p.slot);
    results[p.i] = ret;
    if (ret < 0 && !err)
      err = ret;
  };
  while (!err && next < jobs.length) {
    const slot = cmdq_queue(cq, jobs[next]!);
    if (slot >= 0)
      pending.push({ i: next++, slot });
    else if (slot === -EBUSY && pending.length)
      finish();
    else
      err = slot;
  }
  while (pending.length)
    finish();
  return err || results;
}

/** In remove, once the device has stopped: unmap the buffers of jobs nobody waited for. */
function cmdq_unmap_all(cq: cmdq_dev): void {
  for (const s of cq.slots) {
    if (!s.job)
      continue;
    dma_unmap_single(cq.pdev.dev, s.dma, s.job.len, job_dir(s.job));
    s.job = null;
    s.busy = false;
  }
}

/** The completion loop: every command the device finished, in ring order. */
function cmdq_irq(irq: number, cq: cmdq_dev): irqreturn_t {
  const isr = readl(cq.bar + CMDQ_ISR);
  if (!(isr & (CMDQ_INT_DONE | CMDQ_INT_ERR)))
    return IRQ_NONE;
  writel(isr, cq.bar + CMDQ_ISR);
  if (isr & CMDQ_INT_ERR)
    dev_err(cq.pdev.dev, 'command failed: ERRINFO %#x\n', readl(cq.bar + CMDQ_ERRINFO));
  spin_lock(cq.lock);
  while (cq.head !== cq.tail) {
    const s = cq.slots[cq.head]!;
    const c = cq.ring + cq.head * cmdq_cmd.sizeof;
    const status = cmdq_cmd.get(c, 'status');
    if (!(status & CMD_DONE))
      break;                       // the device still owns this one and every one after it
    s.ret = status >> 8 ? -EIO : cmdq_cmd.get(c, 'total');
    cmdq_free_blocks(cq, s);       // dma_pool_free() in the handler is fine
    s.hw = false;
    complete(s.done);
    cq.head = (cq.head + 1) % QSIZE;
  }
  spin_unlock(cq.lock);
  return IRQ_HANDLED;
}

function cmdq_probe(pdev: pci_dev, id: pci_device_id): number {
  const cq: cmdq_dev = { pdev, bar: 0, ring: 0, ring_dma: 0, desc_pool: null, param_pool: null,
    lock: DEFINE_SPINLOCK(), slots: [], head: 0, tail: 0 };
  for (let i = 0; i < QSIZE; i++)
    cq.slots.push({ busy: false, hw: false, descs: [], param: 0, param_dma: 0, done: DECLARE_COMPLETION(), ret: 0,
      job: null, dma: 0 });
  let ret = pci_enable_device(pdev);
  if (ret)
    return ret;

  err_disable: {
    ret = pci_request_regions(pdev, DRV_NAME);
    if (ret)
      break err_disable;
    err_release: {
      cq.bar = pci_iomap(pdev, 0, 0);
      if (!cq.bar) {
        ret = -ENOMEM;
        break err_release;
      }
      err_unmap: {
        if (readl(cq.bar + CMDQ_ID) !== CMDQ_ID_VALUE) {
          ret = -ENODEV;
          break err_unmap;
        }
        ret = dma_set_mask_and_coherent(pdev.dev, DMA_BIT_MASK(32));
        if (ret) {
          dev_err(pdev.dev, 'no usable DMA configuration\n');
          break err_unmap;
        }
        pci_set_master(pdev);

        // The ring: one structure for the life of the device.
        cq.ring = dma_alloc_coherent(pdev.dev, QSIZE * cmdq_cmd.sizeof, ref(cq, 'ring_dma'), GFP_KERNEL);
        if (!cq.ring) {
          ret = -ENOMEM;
          break err_unmap;
        }
        err_free_ring: {
          // The many small things: pools with the device's alignment and boundary.
          cq.desc_pool = dma_pool_create('cmdq_desc', pdev.dev, cmdq_desc.sizeof, DESC_ALIGN, DESC_BOUNDARY);
          if (!cq.desc_pool) {
            ret = -ENOMEM;
            break err_free_ring;
          }
          err_desc_pool: {
            cq.param_pool = dma_pool_create('cmdq_param', pdev.dev, cmdq_param.sizeof, PARAM_ALIGN, 0);
            if (!cq.param_pool) {
              ret = -ENOMEM;
              break err_desc_pool;
            }
            err_param_pool: {
              writel(lower_32_bits(cq.ring_dma), cq.bar + CMDQ_QBASE_LO);
              writel(upper_32_bits(cq.ring_dma), cq.bar + CMDQ_QBASE_HI);
              writel(QSIZE, cq.bar + CMDQ_QSIZE);
              ret = request_irq(pdev.irq, cmdq_irq, IRQF_SHARED, DRV_NAME, cq);
              if (ret)
                break err_param_pool;
              writel(CMDQ_INT_DONE | CMDQ_INT_ERR, cq.bar + CMDQ_IMR);
              writel(CMDQ_CTRL_EN, cq.bar + CMDQ_CTRL);
              pci_set_drvdata(pdev, cq);
              dev_info(pdev.dev, 'cmdq: %d slots, descriptors from pool %s\n', QSIZE, cq.desc_pool.name);
              return 0;
            }
            dma_pool_destroy(cq.param_pool);
          }
          dma_pool_destroy(cq.desc_pool);
        }
        dma_free_coherent(pdev.dev, QSIZE * cmdq_cmd.sizeof, cq.ring, cq.ring_dma);
      }
      pci_iounmap(pdev, cq.bar);
    }
    pci_release_regions(pdev);
  }
  pci_disable_device(pdev);
  return ret;
}

/** Stop the queue, give every block back, then the pools, the ring and the device. */
function cmdq_remove(pdev: pci_dev): void {
  const cq = pci_get_drvdata<cmdq_dev>(pdev);
  // 1. No new fetches; let the command the device is running finish, then drop the rest.
  writel(0, cq.bar + CMDQ_CTRL);
  if (readl_poll_timeout(cq.bar + CMDQ_STATUS, null, (v) => !(v & CMDQ_STATUS_BUSY), 100, 10000))
    dev_err(pdev.dev, 'queue did not go idle; resetting it\n');
  writel(CMDQ_CTRL_RST, cq.bar + CMDQ_CTRL);
  // 2. No more interrupts.
  writel(0, cq.bar + CMDQ_IMR);
  free_irq(pdev.irq, cq);
  // 3. Blocks of commands no completion will come for.
  for (const s of cq.slots) {
    if (!s.hw)
      continue;
    cmdq_free_blocks(cq, s);
    s.hw = false;
  }
  // 4. Every block is back: the pools can go.
  dma_pool_destroy(cq.param_pool);
  dma_pool_destroy(cq.desc_pool);
  // The device has stopped: the jobs' buffers and the ring can go too.
  cmdq_unmap_all(cq);
  dma_free_coherent(pdev.dev, QSIZE * cmdq_cmd.sizeof, cq.ring, cq.ring_dma);
  pci_iounmap(pdev, cq.bar);
  pci_release_regions(pdev);
  pci_disable_device(pdev);
}

export const cmdq_driver: pci_driver = {
  name: DRV_NAME,
  id_table: [PCI_DEVICE(CMDQ_VENDOR, CMDQ_DEVICE)],
  probe: cmdq_probe,
  remove: cmdq_remove,
};
