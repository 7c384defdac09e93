// Exercise 10: the capstone (lessons/10-nic-rings.md). The 82540EM subset (sim/hw/e1000.ts,
// register map at the top) with a TX ring of 256 and an RX ring of 64 legacy descriptors in
// coherent memory, and streaming packet buffers; a scripted link partner at the other end of the
// cable. Already written: the registers, bits and descriptor layouts, the driver's state, the
// reset, programming the ring registers, the interrupt handler's frame (ICR, the lock), the
// stack's side (nic_receive, nic_stats), probe's PCI steps and the end of remove. Yours: the
// rings and their buffers in probe (every failure unwound), nic_xmit(), TX reclaim, RX clean with
// its syncs and refill, every handover ordered, and remove with traffic in flight. The TODOs say
// what; the lesson says how. Compare drivers/net/ethernet/intel/e1000/e1000_main.c.
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
  // TODO: under nic.lock (spin_lock_irqsave: the interrupt handler takes it too): -EBUSY when
  // the ring has no unused descriptor (E1000_DESC_UNUSED); map buf DMA_TO_DEVICE (-ENOMEM,
  // nothing queued, if the mapping fails); record buf, handle and length in
  // tx.buffer_info[next_to_use]; fill the descriptor (buffer_addr, length, cmd EOP | IFCS | RS,
  // status 0); advance next_to_use and hand the descriptor over by writing it to TDT, with the
  // descriptor's stores ordered before the doorbell.
  void tx; void dev;
  return -EBUSY;
  return 0;
}

/** Unmap and free what a TX descriptor carried (e1000_unmap_and_free_tx_resource()). */
function nic_unmap_tx(nic: nic_dev, bi: nic_buffer): void {
  // TODO: if bi holds a packet: unmap it as it was mapped, free it, and forget it.
}

/** Reclaim every packet the chip has written back with DD (e1000_clean_tx_irq()). */
function nic_clean_tx_irq(nic: nic_dev): void {
  // TODO: from next_to_clean up to next_to_use, while the descriptor's status has DD: only then
  // (and ordered after that load) unmap and free its packet (nic_unmap_tx), clear its status,
  // count it in nic.stats.tx_packets, advance next_to_clean.
}

// ---- receive ------------------------------------------------------------------------------

/**
 * Give the chip up to `count` descriptors from next_to_use, each with a mapped 2048-byte
 * buffer (a recycled one keeps its own), and advance RDT past them (e1000_alloc_rx_buffers()).
 * Stops at the first buffer it cannot get: that descriptor stays the driver's. Returns how many
 * it gave.
 */
function nic_alloc_rx_buffers(nic: nic_dev, count: number, gfp: number): number {
  // TODO: for up to count descriptors from next_to_use: a descriptor whose buffer_info has no
  // buffer gets a new one (kmalloc NIC_RXBUFFER bytes with gfp, map it DMA_FROM_DEVICE; stop at
  // the first you cannot get, freeing what you took for it); write buffer_addr and clear status.
  // Then, if you filled any: advance next_to_use and write it to RDT, the descriptors' stores
  // ordered before the tail that hands them over. Return how many you filled.
  return 0;
}

/** Unmap and free every RX buffer (e1000_clean_rx_ring()). */
function nic_clean_rx_ring(nic: nic_dev): void {
  // TODO: every buffer_info with a buffer: unmap it, free it, forget it.
}

/** Take every frame the chip has written back, then refill (e1000_clean_rx_irq()). */
function nic_clean_rx_irq(nic: nic_dev): void {
  // TODO: from next_to_clean, one lap of the ring at most, while the descriptor's status has DD
  // (and ordered after that load): read status, length and errors. A frame without EOP, with
  // errors or a bad length is dropped (nic.stats.rx_dropped) and its buffer stays; one of up to
  // NIC_COPYBREAK bytes is copied out (copy_from_mem into nic.rx_queue) between the syncs that
  // give the buffer to the CPU and back to the chip; a larger one is unmapped, copied out, its
  // buffer freed and forgotten (the refill gives the descriptor a new one). Count rx_packets,
  // clear the status, advance next_to_clean; every NIC_RX_BUFFER_WRITE descriptors, and at the
  // end, refill (nic_alloc_rx_buffers(nic, E1000_DESC_UNUSED(rx), GFP_ATOMIC)).
  void NIC_RX_BUFFER_WRITE;
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

        // TODO: both rings (nic_setup_ring), the ring registers (nic_configure), the RX ring filled
        // with buffers (all of E1000_DESC_UNUSED, or -ENOMEM), the interrupt (request_irq with
        // nic_intr, IRQF_SHARED, DRV_NAME, nic), pci_set_drvdata(pdev, nic); then unmask
        // IMS_ENABLE_MASK and enable receive (RCTL: E1000_RCTL_EN | E1000_RCTL_BAM |
        // E1000_RCTL_SZ_2048 | E1000_RCTL_SECRC) and transmit (TCTL: E1000_TCTL_EN |
        // E1000_TCTL_PSP). Every failure undoes what came before it, in reverse order.
        pci_set_drvdata(pdev, nic);
        return 0;
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
  // TODO, in this order: stop the chip (RCTL and TCTL off, a register read to flush, time for the
  // packet on the wire to finish: msleep(10)); mask every interrupt (IMC) and free_irq(); reset
  // the chip; unmap and free every TX packet from next_to_clean to next_to_use, sent or not;
  // every RX buffer; both rings, as allocated.
  // The PCI side (written).
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
