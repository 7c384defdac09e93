// Exercise 10, reference solution: the 82540EM subset (sim/hw/e1000.ts) with a TX and an RX ring
// of 256 legacy descriptors each in coherent memory, and streaming packet buffers. Probe brings the
// chip up as e1000_open() does and unwinds every step; the interrupt handler reclaims sent packets
// and cleans the RX ring (copybreak: small frames copied out and their buffer recycled with the
// syncs, large ones unmapped and handed up, the descriptor refilled); every handover of a
// descriptor is ordered (writel() after the fills, dma_wmb() before the RX tail, dma_rmb() after
// DD). Remove stops the chip before it frees anything. Compare
// drivers/net/ethernet/intel/e1000/e1000_main.c: e1000_xmit_frame(), e1000_clean_tx_irq(),
// e1000_alloc_rx_buffers(), e1000_clean_rx_irq(), e1000_open(), e1000_close().
import { pci_enable_device, pci_disable_device, pci_request_regions, pci_release_regions,
  pci_iomap, pci_iounmap, pci_set_master, pci_set_drvdata, pci_get_drvdata,
  PCI_DEVICE, type pci_dev, type pci_device_id, type pci_driver } from '#linux/pci';
import { dma_set_mask_and_coherent, dma_alloc_coherent, dma_free_coherent, dma_map_single,
  dma_unmap_single, dma_mapping_error, dma_sync_single_for_cpu, dma_sync_single_for_device,
  DMA_BIT_MASK, DMA_TO_DEVICE, DMA_FROM_DEVICE, type dma_addr_t } from '#linux/dma-mapping';
import { readl, writel, type iomem } from '#linux/io';
import { readl_poll_timeout } from '#linux/iopoll';
import { dma_rmb, dma_wmb } from '#asm/barrier';
import { request_irq, free_irq, IRQ_HANDLED, IRQ_NONE, IRQF_SHARED, type irqreturn_t } from '#linux/interrupt';
import { DEFINE_SPINLOCK, spin_lock, spin_unlock, spin_lock_irqsave, spin_unlock_irqrestore,
  type spinlock_t } from '#linux/spinlock';
import { kmalloc, kfree, GFP_KERNEL, GFP_ATOMIC } from '#linux/slab';
import { msleep } from '#linux/delay';
import { ALIGN, lower_32_bits, upper_32_bits } from '#linux/kernel';
import { dev_err, dev_info } from '#linux/device';
import { EBUSY, EINVAL, EIO, ENOMEM } from '#linux/errno';
import { ref } from '#dmalab/ref';
import { struct_layout, copy_from_mem } from '#dmalab/mem';

const DRV_NAME = 'e1000';
const E1000_VENDOR = 0x8086, E1000_DEV_ID_82540EM = 0x100e;

// Registers in BAR 0 (e1000_hw.h), all 32 bits wide.
const E1000_CTRL = 0x0000, E1000_STATUS = 0x0008, E1000_ICR = 0x00c0, E1000_IMS = 0x00d0, E1000_IMC = 0x00d8;
const E1000_RCTL = 0x0100, E1000_TCTL = 0x0400, E1000_MPC = 0x4010;
const E1000_RDBAL = 0x2800, E1000_RDBAH = 0x2804, E1000_RDLEN = 0x2808, E1000_RDH = 0x2810, E1000_RDT = 0x2818;
const E1000_TDBAL = 0x3800, E1000_TDBAH = 0x3804, E1000_TDLEN = 0x3808, E1000_TDH = 0x3810, E1000_TDT = 0x3818;
const E1000_CTRL_SLU = 0x00000040, E1000_CTRL_RST = 0x04000000;
const E1000_ICR_TXDW = 0x01, E1000_ICR_RXDMT0 = 0x10, E1000_ICR_RXO = 0x40, E1000_ICR_RXT0 = 0x80;
const E1000_RCTL_EN = 0x00000002, E1000_RCTL_BAM = 0x00008000, E1000_RCTL_SZ_2048 = 0x00000000,
  E1000_RCTL_SECRC = 0x04000000;
const E1000_TCTL_EN = 0x00000002, E1000_TCTL_PSP = 0x00000008;
export const E1000_TXD_CMD_EOP = 0x01, E1000_TXD_CMD_IFCS = 0x02, E1000_TXD_CMD_RS = 0x08;
export const E1000_TXD_STAT_DD = 0x01;
export const E1000_RXD_STAT_DD = 0x01, E1000_RXD_STAT_EOP = 0x02;
/** The causes the driver takes an interrupt for. */
const IMS_ENABLE_MASK = E1000_ICR_TXDW | E1000_ICR_RXT0 | E1000_ICR_RXDMT0 | E1000_ICR_RXO;

export const NIC_TX_COUNT = 256, NIC_RX_COUNT = 64;   // ethtool -G eth0 rx 64
export const NIC_RXBUFFER = 2048;         // RCTL_SZ_2048
export const NIC_COPYBREAK = 256;         // e1000's copybreak default
export const NIC_MAX_FRAME = 1514;        // without the CRC the chip appends (IFCS)
const NIC_RX_BUFFER_WRITE = 16;           // refill the RX ring this many at a time (E1000_RX_BUFFER_WRITE)

// Legacy descriptors, 16 bytes each (struct e1000_tx_desc, struct e1000_rx_desc).
export const e1000_tx_desc = struct_layout({
  buffer_addr: 'u64', length: 'u16', cso: 'u8', cmd: 'u8', status: 'u8', css: 'u8', special: 'u16',
});
export const e1000_rx_desc = struct_layout({
  buffer_addr: 'u64', length: 'u16', csum: 'u16', status: 'u8', errors: 'u8', special: 'u16',
});

/** E1000_TX_DESC(ring, i) / E1000_RX_DESC(ring, i): the CPU address of descriptor i. */
export function E1000_DESC(ring: nic_ring, i: number): number {
  return ring.desc + i * 16;
}

/** What the driver knows about one descriptor's buffer (struct e1000_tx_buffer / rx_buffer). */
export interface nic_buffer {
  /** The buffer's CPU address (a kmalloc'ed packet), 0 if none. */
  buf: number;
  dma: dma_addr_t;
  /** Bytes mapped. */
  len: number;
}

/** One ring (struct e1000_tx_ring / e1000_rx_ring). */
export interface nic_ring {
  desc: number;             // CPU address of the descriptors
  dma: dma_addr_t;          // their DMA address
  size: number;             // bytes allocated
  count: number;            // descriptors
  next_to_use: number;      // where the driver fills next (the tail it writes)
  next_to_clean: number;    // the oldest descriptor not yet taken back
  buffer_info: nic_buffer[];
}

export interface nic_stats { tx_packets: number; rx_packets: number; rx_dropped: number }

/** The driver's private state (struct e1000_adapter, in small). */
export interface nic_dev {
  pdev: pci_dev;
  hw: iomem;
  tx_ring: nic_ring;
  rx_ring: nic_ring;
  /** Taken by nic_xmit(), nic_receive() and the interrupt handler. */
  lock: spinlock_t;
  /** Frames received and not yet taken by nic_receive(), in order (the stack's backlog). */
  rx_queue: Uint8Array[];
  stats: nic_stats;
}

function new_ring(count: number): nic_ring {
  const buffer_info: nic_buffer[] = [];
  for (let i = 0; i < count; i++)
    buffer_info.push({ buf: 0, dma: 0, len: 0 });
  return { desc: 0, dma: 0, size: 0, count, next_to_use: 0, next_to_clean: 0, buffer_info };
}

/** E1000_DESC_UNUSED(): descriptors the driver may fill, always leaving one unused. */
export function E1000_DESC_UNUSED(r: nic_ring): number {
  return (r.next_to_clean > r.next_to_use ? 0 : r.count) + r.next_to_clean - r.next_to_use - 1;
}

// ---- provided: the chip's reset -----------------------------------------------------------

/** CTRL.RST, wait for the chip to come back, then set link up. */
function nic_reset(nic: nic_dev): number {
  writel(E1000_CTRL_RST, nic.hw + E1000_CTRL);
  if (readl_poll_timeout(nic.hw + E1000_CTRL, null, (v) => !(v & E1000_CTRL_RST), 1, 1000)) {
    dev_err(nic.pdev.dev, 'the chip did not come out of reset\n');
    return -EIO;
  }
  writel(E1000_CTRL_SLU, nic.hw + E1000_CTRL);
  return 0;
}

// ---- transmit -----------------------------------------------------------------------------

/**
 * Queue one packet: buf is a kmalloc'ed frame of len bytes. 0: queued, the driver owns buf from
 * now on and frees it once the chip has sent it; -EBUSY (the ring is full) or -ENOMEM (it could
 * not be mapped): nothing was queued and the caller keeps buf.
 */
export function nic_xmit(nic: nic_dev, buf: number, len: number): number {
  const tx = nic.tx_ring;
  const dev = nic.pdev.dev;
  if (len < 1 || len > NIC_MAX_FRAME)
    return -EINVAL;
  const flags = spin_lock_irqsave(nic.lock);
  if (E1000_DESC_UNUSED(tx) < 1) {
    spin_unlock_irqrestore(nic.lock, flags);
    return -EBUSY;
  }
  const dma = dma_map_single(dev, buf, len, DMA_TO_DEVICE);
  if (dma_mapping_error(dev, dma)) {
    spin_unlock_irqrestore(nic.lock, flags);
    return -ENOMEM;
  }
  const i = tx.next_to_use;
  const bi = tx.buffer_info[i]!;
  bi.buf = buf;
  bi.dma = dma;
  bi.len = len;
  const d = E1000_DESC(tx, i);
  e1000_tx_desc.set(d, 'buffer_addr', dma);
  e1000_tx_desc.set(d, 'length', len);
  e1000_tx_desc.set(d, 'status', 0);
  e1000_tx_desc.set(d, 'cmd', E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS);
  tx.next_to_use = (i + 1) % tx.count;
  // writel() orders the descriptor's stores before the doorbell (arm64's __iowmb()).
  writel(tx.next_to_use, nic.hw + E1000_TDT);
  spin_unlock_irqrestore(nic.lock, flags);
  return 0;
}

/** Unmap and free what a TX descriptor carried (e1000_unmap_and_free_tx_resource()). */
function nic_unmap_tx(nic: nic_dev, bi: nic_buffer): void {
  if (!bi.buf)
    return;
  dma_unmap_single(nic.pdev.dev, bi.dma, bi.len, DMA_TO_DEVICE);
  kfree(bi.buf);
  bi.buf = 0;
  bi.dma = 0;
  bi.len = 0;
}

/** Reclaim every packet the chip has written back with DD (e1000_clean_tx_irq()). */
function nic_clean_tx_irq(nic: nic_dev): void {
  const tx = nic.tx_ring;
  while (tx.next_to_clean !== tx.next_to_use) {
    const i = tx.next_to_clean;
    const d = E1000_DESC(tx, i);
    if (!(e1000_tx_desc.get(d, 'status') & E1000_TXD_STAT_DD))
      break;                      // the chip still owns this one and every one after it
    dma_rmb();                    // DD first, then what it guards
    nic_unmap_tx(nic, tx.buffer_info[i]!);
    e1000_tx_desc.set(d, 'status', 0);
    nic.stats.tx_packets++;
    tx.next_to_clean = (i + 1) % tx.count;
  }
}

// ---- receive ------------------------------------------------------------------------------

/**
 * Give the chip up to `count` descriptors from next_to_use, each with a mapped 2048-byte
 * buffer (a recycled one keeps its own), and advance RDT past them (e1000_alloc_rx_buffers()).
 * Stops at the first buffer it cannot get: that descriptor stays the driver's. Returns how many
 * it gave.
 */
function nic_alloc_rx_buffers(nic: nic_dev, count: number, gfp: number): number {
  const rx = nic.rx_ring;
  const dev = nic.pdev.dev;
  let i = rx.next_to_use, n = 0;
  while (n < count) {
    const bi = rx.buffer_info[i]!;
    if (!bi.buf) {
      const buf = kmalloc(NIC_RXBUFFER, gfp);
      if (!buf)
        break;
      const dma = dma_map_single(dev, buf, NIC_RXBUFFER, DMA_FROM_DEVICE);
      if (dma_mapping_error(dev, dma)) {
        kfree(buf);
        break;
      }
      bi.buf = buf;
      bi.dma = dma;
      bi.len = NIC_RXBUFFER;
    }
    const d = E1000_DESC(rx, i);
    e1000_rx_desc.set(d, 'buffer_addr', bi.dma);
    e1000_rx_desc.set(d, 'status', 0);
    i = (i + 1) % rx.count;
    n++;
  }
  if (i !== rx.next_to_use) {
    rx.next_to_use = i;
    // The descriptors' stores before the tail that hands them over.
    dma_wmb();
    writel(i, nic.hw + E1000_RDT);
  }
  return n;
}

/** Unmap and free every RX buffer (e1000_clean_rx_ring()). */
function nic_clean_rx_ring(nic: nic_dev): void {
  for (const bi of nic.rx_ring.buffer_info) {
    if (!bi.buf)
      continue;
    dma_unmap_single(nic.pdev.dev, bi.dma, bi.len, DMA_FROM_DEVICE);
    kfree(bi.buf);
    bi.buf = 0;
    bi.dma = 0;
    bi.len = 0;
  }
}

/** Take every frame the chip has written back, then refill (e1000_clean_rx_irq()). */
function nic_clean_rx_irq(nic: nic_dev): void {
  const rx = nic.rx_ring;
  const dev = nic.pdev.dev;
  let cleaned = 0;
  // One lap at most (e1000's work budget): a frame the chip writes meanwhile raises RXT0 again.
  for (let work = 0; work < rx.count; work++) {
    const i = rx.next_to_clean;
    const d = E1000_DESC(rx, i);
    if (!(e1000_rx_desc.get(d, 'status') & E1000_RXD_STAT_DD))
      break;                      // still the chip's
    dma_rmb();                    // read the descriptor after status DD
    const status = e1000_rx_desc.get(d, 'status');
    const len = e1000_rx_desc.get(d, 'length');
    const errors = e1000_rx_desc.get(d, 'errors');
    const bi = rx.buffer_info[i]!;
    if (!(status & E1000_RXD_STAT_EOP) || errors || len < 1 || len > NIC_RXBUFFER) {
      // A fragment of a longer frame, or a bad one: e1000 drops it; the buffer, untouched by the
      // CPU, goes back as it is.
      nic.stats.rx_dropped++;
    } else if (len <= NIC_COPYBREAK) {
      // Copybreak: copy the frame out, and give the same buffer back to the chip.
      dma_sync_single_for_cpu(dev, bi.dma, len, DMA_FROM_DEVICE);
      nic.rx_queue.push(copy_from_mem(bi.buf, len));
      dma_sync_single_for_device(dev, bi.dma, len, DMA_FROM_DEVICE);
      nic.stats.rx_packets++;
    } else {
      // Hand the buffer itself up: unmapped, it is no longer the chip's; the stack (here, a
      // copy) takes the bytes, and the descriptor gets a new buffer at the refill.
      dma_unmap_single(dev, bi.dma, bi.len, DMA_FROM_DEVICE);
      nic.rx_queue.push(copy_from_mem(bi.buf, len));
      kfree(bi.buf);
      bi.buf = 0;
      bi.dma = 0;
      bi.len = 0;
      nic.stats.rx_packets++;
    }
    e1000_rx_desc.set(d, 'status', 0);
    rx.next_to_clean = (i + 1) % rx.count;
    if (++cleaned >= NIC_RX_BUFFER_WRITE) {
      nic_alloc_rx_buffers(nic, E1000_DESC_UNUSED(rx), GFP_ATOMIC);
      cleaned = 0;
    }
  }
  if (E1000_DESC_UNUSED(rx))
    nic_alloc_rx_buffers(nic, E1000_DESC_UNUSED(rx), GFP_ATOMIC);
}

/** The next frame the stack got, or null. */
export function nic_receive(nic: nic_dev): Uint8Array | null {
  const flags = spin_lock_irqsave(nic.lock);
  const f = nic.rx_queue.shift() ?? null;
  spin_unlock_irqrestore(nic.lock, flags);
  return f;
}

export function nic_stats(nic: nic_dev): nic_stats {
  return { ...nic.stats };
}

// ---- the interrupt ------------------------------------------------------------------------

function nic_intr(irq: number, nic: nic_dev): irqreturn_t {
  const icr = readl(nic.hw + E1000_ICR);   // reading clears it; readl() orders the loads after it
  if (!(icr & IMS_ENABLE_MASK))
    return IRQ_NONE;
  spin_lock(nic.lock);
  nic_clean_tx_irq(nic);
  if (icr & E1000_ICR_RXO)
    nic.stats.rx_dropped += readl(nic.hw + E1000_MPC);
  nic_clean_rx_irq(nic);
  spin_unlock(nic.lock);
  return IRQ_HANDLED;
}

// ---- bring-up and teardown ----------------------------------------------------------------

/** A ring of `count` descriptors in coherent memory, its size rounded to 4 KiB
 *  (e1000_setup_tx_resources() / e1000_setup_rx_resources()). */
function nic_setup_ring(nic: nic_dev, r: nic_ring): number {
  r.size = ALIGN(r.count * 16, 4096);
  r.desc = dma_alloc_coherent(nic.pdev.dev, r.size, ref(r, 'dma'), GFP_KERNEL);
  if (!r.desc)
    return -ENOMEM;
  r.next_to_use = r.next_to_clean = 0;
  return 0;
}

function nic_free_ring(nic: nic_dev, r: nic_ring): void {
  dma_free_coherent(nic.pdev.dev, r.size, r.desc, r.dma);
  r.desc = 0;
}

/** Program both rings with the chip's receive and transmit off (e1000_configure_tx/rx()). */
function nic_configure(nic: nic_dev): void {
  const hw = nic.hw, tx = nic.tx_ring, rx = nic.rx_ring;
  writel(0, hw + E1000_RCTL);
  writel(tx.count * 16, hw + E1000_TDLEN);
  writel(upper_32_bits(tx.dma), hw + E1000_TDBAH);
  writel(lower_32_bits(tx.dma), hw + E1000_TDBAL);
  writel(0, hw + E1000_TDH);
  writel(0, hw + E1000_TDT);
  writel(rx.count * 16, hw + E1000_RDLEN);
  writel(upper_32_bits(rx.dma), hw + E1000_RDBAH);
  writel(lower_32_bits(rx.dma), hw + E1000_RDBAL);
  writel(0, hw + E1000_RDH);
  writel(0, hw + E1000_RDT);
}

function nic_probe(pdev: pci_dev, id: pci_device_id): number {
  const nic: nic_dev = { pdev, hw: 0, tx_ring: new_ring(NIC_TX_COUNT), rx_ring: new_ring(NIC_RX_COUNT),
    lock: DEFINE_SPINLOCK(), rx_queue: [], stats: { tx_packets: 0, rx_packets: 0, rx_dropped: 0 } };
  let ret = pci_enable_device(pdev);
  if (ret)
    return ret;

  err_disable: {
    ret = pci_request_regions(pdev, DRV_NAME);
    if (ret)
      break err_disable;
    err_release: {
      nic.hw = pci_iomap(pdev, 0, 0);
      if (!nic.hw) {
        ret = -ENOMEM;
        break err_release;
      }
      err_iounmap: {
        ret = dma_set_mask_and_coherent(pdev.dev, DMA_BIT_MASK(64));
        if (ret)
          ret = dma_set_mask_and_coherent(pdev.dev, DMA_BIT_MASK(32));
        if (ret) {
          dev_err(pdev.dev, 'No usable DMA configuration, aborting\n');
          break err_iounmap;
        }
        pci_set_master(pdev);
        ret = nic_reset(nic);
        if (ret)
          break err_iounmap;

        ret = nic_setup_ring(nic, nic.tx_ring);
        if (ret)
          break err_iounmap;
        err_free_tx: {
          ret = nic_setup_ring(nic, nic.rx_ring);
          if (ret)
            break err_free_tx;
          err_free_rx: {
            nic_configure(nic);
            // Fill the RX ring before the interrupt can come: all of it, or nothing.
            const want = E1000_DESC_UNUSED(nic.rx_ring);
            if (nic_alloc_rx_buffers(nic, want, GFP_KERNEL) !== want) {
              ret = -ENOMEM;
              break err_free_rx;
            }
            ret = request_irq(pdev.irq, nic_intr, IRQF_SHARED, DRV_NAME, nic);
            if (ret)
              break err_free_rx;
            pci_set_drvdata(pdev, nic);
            // The rings hold what the chip needs: now it may use them.
            writel(IMS_ENABLE_MASK, nic.hw + E1000_IMS);
            writel(E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SZ_2048 | E1000_RCTL_SECRC, nic.hw + E1000_RCTL);
            writel(E1000_TCTL_EN | E1000_TCTL_PSP, nic.hw + E1000_TCTL);
            dev_info(pdev.dev, '82540EM: %d TX and %d RX descriptors, rings at %pad and %pad\n',
              NIC_TX_COUNT, NIC_RX_COUNT, nic.tx_ring.dma, nic.rx_ring.dma);
            return 0;
          }
          nic_clean_rx_ring(nic);
          nic_free_ring(nic, nic.rx_ring);
        }
        nic_free_ring(nic, nic.tx_ring);
      }
      pci_iounmap(pdev, nic.hw);
    }
    pci_release_regions(pdev);
  }
  pci_disable_device(pdev);
  return ret;
}

/** Stop the chip, then the interrupt, then give back every packet and buffer, then the rings
 *  (e1000_close(): e1000_down(), e1000_free_irq(), e1000_free_all_tx/rx_resources()). */
function nic_remove(pdev: pci_dev): void {
  const nic = pci_get_drvdata<nic_dev>(pdev);
  const hw = nic.hw;
  // 1. No new frames written, no new packets fetched; flush, and let the packet on the wire finish.
  writel(0, hw + E1000_RCTL);
  writel(0, hw + E1000_TCTL);
  readl(hw + E1000_STATUS);
  msleep(10);
  // 2. No more interrupts; free_irq() waits for a handler still running.
  writel(0xffffffff, hw + E1000_IMC);
  free_irq(pdev.irq, nic);
  nic_reset(nic);
  // 3. Every packet queued, sent or not.
  const tx = nic.tx_ring;
  for (let i = tx.next_to_clean; i !== tx.next_to_use; i = (i + 1) % tx.count)
    nic_unmap_tx(nic, tx.buffer_info[i]!);
  tx.next_to_clean = tx.next_to_use;
  // 4. Every RX buffer.
  nic_clean_rx_ring(nic);
  // 5. The rings, as allocated.
  nic_free_ring(nic, nic.rx_ring);
  nic_free_ring(nic, nic.tx_ring);
  // 6. The PCI side.
  pci_iounmap(pdev, hw);
  pci_release_regions(pdev);
  pci_disable_device(pdev);
}

export const nic_driver: pci_driver = {
  name: DRV_NAME,
  id_table: [PCI_DEVICE(E1000_VENDOR, E1000_DEV_ID_82540EM)],
  probe: nic_probe,
  remove: nic_remove,
};
