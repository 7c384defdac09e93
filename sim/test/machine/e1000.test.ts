// The 82540EM subset (hw/e1000.ts) and its link partner (hw/netpeer.ts): reset, the interrupt
// registers, TX fetch at the TDT write and DD only with RS, RX into the descriptors at RDH, the
// chip's frame queue when the ring is empty (flushed by an RDT write, RXO and MPC when it
// overflows), ring wrap, guest errors, and what a zero ring base does.
import { describe, expect, test } from 'vitest';
import { machine, plug_e1000, bind, unbind, run, codes, diagnostics, pattern, fill, read, M, type pci_dev } from '../../testing/index.ts';
import { pci_enable_device, pci_disable_device, pci_set_master, pci_iomap, pci_iounmap, pci_set_drvdata,
  pci_get_drvdata, PCI_DEVICE, dma_set_mask_and_coherent, DMA_BIT_MASK, dma_alloc_coherent, dma_free_coherent,
  readl, writel, put_u64, put_u16, put_u8, get_u8, get_u16, kmalloc, kfree, dma_map_single, dma_unmap_single,
  dma_mapping_error, DMA_TO_DEVICE, DMA_FROM_DEVICE, GFP_KERNEL, out, type pci_driver, type iomem } from '../../index.ts';
import { E1000, E1000_VENDOR, E1000_DEV_ID_82540EM, E1000_CTRL, E1000_CTRL_RST, E1000_CTRL_SLU, E1000_STATUS,
  E1000_STATUS_LU, E1000_STATUS_TXOFF, E1000_ICR, E1000_ICS, E1000_IMS, E1000_IMC, E1000_RCTL, E1000_RCTL_EN,
  E1000_TCTL, E1000_TCTL_EN, E1000_RDBAL, E1000_RDBAH, E1000_RDLEN, E1000_RDH, E1000_RDT, E1000_TDBAL, E1000_TDBAH,
  E1000_TDLEN, E1000_TDH, E1000_TDT, E1000_MPC, E1000_ICR_TXDW, E1000_ICR_TXQE, E1000_ICR_RXT0, E1000_ICR_RXO,
  E1000_ICR_LSC, E1000_ICR_RXDMT0, E1000_TXD_CMD_EOP, E1000_TXD_CMD_RS, E1000_RXD_STAT_DD, E1000_RXD_STAT_EOP,
  E1000_RX_FIFO_FRAMES } from '../../hw/e1000.ts';

const N = 8;

function map(dev: pci_dev['dev'], p: number, len: number, dir: number): number {
  const h = dma_map_single(dev, p, len, dir);
  expect(dma_mapping_error(dev, h)).toBe(0);
  return h;
}   // descriptors per ring (128 bytes: the smallest RDLEN)

interface bare { bar: iomem; tx: number; tx_dma: number; rx: number; rx_dma: number; bufs: number[]; buf_dma: number[] }
const bare_driver: pci_driver = {
  name: 'e1000-test',
  id_table: [PCI_DEVICE(E1000_VENDOR, E1000_DEV_ID_82540EM)],
  probe(pdev) {
    expect(pci_enable_device(pdev)).toBe(0);
    pci_set_master(pdev);
    const bar = pci_iomap(pdev, 0, 0);
    expect(dma_set_mask_and_coherent(pdev.dev, DMA_BIT_MASK(64))).toBe(0);
    const t = out(0), r = out(0);
    const tx = dma_alloc_coherent(pdev.dev, 4096, t, GFP_KERNEL);
    const rx = dma_alloc_coherent(pdev.dev, 4096, r, GFP_KERNEL);
    const b: bare = { bar, tx, tx_dma: t.value, rx, rx_dma: r.value, bufs: [], buf_dma: [] };
    for (let i = 0; i < N; i++) {
      const p = kmalloc(2048, GFP_KERNEL);
      b.bufs.push(p);
      b.buf_dma.push(map(pdev.dev, p, 2048, DMA_FROM_DEVICE));
      put_u64(b.buf_dma[i]!, rx + 16 * i);
    }
    pci_set_drvdata(pdev, b);
    return 0;
  },
  remove(pdev) {
    const b = pci_get_drvdata<bare>(pdev);
    writel(E1000_CTRL_RST, b.bar + E1000_CTRL);
    for (let i = 0; i < N; i++) { dma_unmap_single(pdev.dev, b.buf_dma[i]!, 2048, DMA_FROM_DEVICE); kfree(b.bufs[i]!); }
    dma_free_coherent(pdev.dev, 4096, b.rx, b.rx_dma);
    dma_free_coherent(pdev.dev, 4096, b.tx, b.tx_dma);
    pci_iounmap(pdev, b.bar);
    pci_disable_device(pdev);
  },
};

function setup(shape: 'x86' | 'arm64' | 'x86-iommu' = 'x86') {
  machine({ shape, seed: 7 });
  const { pdev, nic, peer } = plug_e1000();
  expect(bind(bare_driver, pdev)).toBe(0);
  return { pdev, nic, peer, b: pdev.dev.driver_data as bare };
}
const rd = (pdev: pci_dev, b: bare, off: number) => run(pdev, () => readl(b.bar + off));
const wr = (pdev: pci_dev, b: bare, off: number, v: number) => run(pdev, () => writel(v, b.bar + off));

/** Program both rings, link up, RX (tail = N - 1) and TX on. */
function up(pdev: pci_dev, b: bare): void {
  run(pdev, () => {
    writel(b.rx_dma % 2 ** 32, b.bar + E1000_RDBAL); writel(Math.floor(b.rx_dma / 2 ** 32), b.bar + E1000_RDBAH);
    writel(N * 16, b.bar + E1000_RDLEN); writel(0, b.bar + E1000_RDH); writel(N - 1, b.bar + E1000_RDT);
    writel(b.tx_dma % 2 ** 32, b.bar + E1000_TDBAL); writel(Math.floor(b.tx_dma / 2 ** 32), b.bar + E1000_TDBAH);
    writel(N * 16, b.bar + E1000_TDLEN); writel(0, b.bar + E1000_TDH); writel(0, b.bar + E1000_TDT);
    writel(E1000_CTRL_SLU, b.bar + E1000_CTRL);
    writel(E1000_RCTL_EN, b.bar + E1000_RCTL);
    writel(E1000_TCTL_EN, b.bar + E1000_TCTL);
  });
}

/** Queue a packet of `len` bytes in TX descriptor i; returns the buffer and its handle. */
function tx_desc(pdev: pci_dev, b: bare, i: number, data: Uint8Array, cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS) {
  const p = kmalloc(data.length, GFP_KERNEL);
  fill(p, data);
  const h = run(pdev, () => {
    const h = map(pdev.dev, p, data.length, DMA_TO_DEVICE);
    put_u64(h, b.tx + 16 * i); put_u16(data.length, b.tx + 16 * i + 8); put_u8(cmd, b.tx + 16 * i + 11); put_u8(0, b.tx + 16 * i + 12);
    return h;
  });
  return { p, h, len: data.length };
}

describe('registers', () => {
  test('reset clears the rings and causes and self-clears; STATUS.LU follows SLU and the peer', () => {
    const { pdev, b, peer } = setup();
    up(pdev, b);
    expect(rd(pdev, b, E1000_STATUS) & E1000_STATUS_LU).toBe(E1000_STATUS_LU);
    wr(pdev, b, E1000_IMS, E1000_ICR_TXDW);
    wr(pdev, b, E1000_CTRL, E1000_CTRL_RST | E1000_CTRL_SLU);
    expect(rd(pdev, b, E1000_CTRL)).toBe(E1000_CTRL_SLU);
    for (const r of [E1000_RDLEN, E1000_RDT, E1000_TDLEN, E1000_TDT, E1000_RCTL, E1000_TCTL, E1000_IMS]) expect(rd(pdev, b, r)).toBe(0);
    peer.pause();
    expect(rd(pdev, b, E1000_STATUS) & E1000_STATUS_TXOFF).toBe(E1000_STATUS_TXOFF);
    expect(codes()).toEqual([]);
  });
  test('ICR is read-to-clear and write-1-to-clear; ICS sets; IMS/IMC mask the INTx line', () => {
    const { pdev, b, nic } = setup();
    wr(pdev, b, E1000_ICS, E1000_ICR_RXT0 | E1000_ICR_TXDW);
    expect(nic.fn.asserting()).toBe(false);          // masked
    wr(pdev, b, E1000_IMS, E1000_ICR_RXT0);
    expect(nic.fn.asserting()).toBe(true);
    expect(rd(pdev, b, E1000_IMS)).toBe(E1000_ICR_RXT0);
    wr(pdev, b, E1000_ICR, E1000_ICR_RXT0);
    expect(nic.fn.asserting()).toBe(false);
    wr(pdev, b, E1000_ICS, E1000_ICR_RXT0);
    expect(rd(pdev, b, E1000_ICR)).toBe(E1000_ICR_RXT0 | E1000_ICR_TXDW);
    expect(rd(pdev, b, E1000_ICR)).toBe(0);
    wr(pdev, b, E1000_IMC, E1000_ICR_RXT0);
    expect(rd(pdev, b, E1000_IMS)).toBe(0);
  });
  test('RDLEN/TDLEN keep multiples of 128, the bases ignore their low 4 bits; other widths and a tail beyond the ring are guest errors', () => {
    const { pdev, b } = setup();
    wr(pdev, b, E1000_RDLEN, 4096 + 100);
    expect(rd(pdev, b, E1000_RDLEN)).toBe(4096);
    wr(pdev, b, E1000_TDBAL, 0x12345678);
    expect(rd(pdev, b, E1000_TDBAL)).toBe(0x12345670);
    wr(pdev, b, E1000_TDLEN, 128);
    wr(pdev, b, E1000_TDT, 8);
    expect(rd(pdev, b, E1000_TDT)).toBe(0);
    run(pdev, () => writel(0, b.bar + E1000_RCTL + 2));
    expect(codes()).toEqual(['DEVICE_GUEST_ERROR']);
    expect(diagnostics()[0]!.lines[0]).toBe('E1000: TDT 8 ignored: the transmit ring has 8 descriptors');
  });
});

describe('transmit', () => {
  test('a TDT write fetches the descriptors; each packet goes to the peer, DD comes back only with RS, TXDW then TXQE', () => {
    const { pdev, b, nic, peer } = setup();
    up(pdev, b);
    const d0 = pattern(60, 1), d1 = pattern(1514, 2);
    const a = tx_desc(pdev, b, 0, d0), c = tx_desc(pdev, b, 1, d1, E1000_TXD_CMD_EOP);
    wr(pdev, b, E1000_TDT, 2);
    expect(rd(pdev, b, E1000_TDH)).toBe(0);           // fetched, not sent yet
    M.clock.advance_to(M.clock.now + 100e3);
    expect(peer.received.map((f) => f.length)).toEqual([60, 1514]);
    expect(peer.received[0]).toEqual(d0);
    expect(peer.received[1]).toEqual(d1);
    expect(rd(pdev, b, E1000_TDH)).toBe(2);
    expect(run(pdev, () => get_u8(b.tx + 12))).toBe(1);  // RS: DD
    expect(run(pdev, () => get_u8(b.tx + 16 + 12))).toBe(0);  // no RS: nothing written back
    expect(rd(pdev, b, E1000_ICR)).toBe(E1000_ICR_TXDW | E1000_ICR_TXQE | E1000_ICR_LSC);
    expect(nic.sent).toBe(2);
    for (const x of [a, c]) run(pdev, () => dma_unmap_single(pdev.dev, x.h, x.len, DMA_TO_DEVICE));
    expect(codes()).toEqual([]);
  });
  test('a packet in two descriptors (EOP on the second) is one frame; the ring wraps', () => {
    const { pdev, b, peer } = setup();
    up(pdev, b);
    let idx = 0;
    for (let k = 0; k < 12; k++) {
      const one = pattern(100, k), two = pattern(50, k + 100);
      const x = tx_desc(pdev, b, idx, one, 0);
      const y = tx_desc(pdev, b, (idx + 1) % N, two);
      idx = (idx + 2) % N;
      wr(pdev, b, E1000_TDT, idx);
      M.clock.advance_to(M.clock.now + 50e3);
      const f = peer.received[peer.received.length - 1]!;
      expect(f.length).toBe(150);
      expect(f.subarray(0, 100)).toEqual(one);
      expect(f.subarray(100)).toEqual(two);
      for (const z of [x, y]) run(pdev, () => dma_unmap_single(pdev.dev, z.h, z.len, DMA_TO_DEVICE));
    }
    expect(peer.received.length).toBe(12);
    expect(rd(pdev, b, E1000_TDH)).toBe(idx);
    expect(codes()).toEqual([]);
  });
  test('a descriptor of length 0 is a guest error; the buffer of a fetched packet is in flight until it is sent', () => {
    const { pdev, b } = setup();
    up(pdev, b);
    run(pdev, () => { put_u8(E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS, b.tx + 11); writel(1, b.bar + E1000_TDT); });
    expect(diagnostics()[0]!.lines[0]).toBe('E1000: TX descriptor 0: length 0 (1..16288): descriptor skipped');
    const x = tx_desc(pdev, b, 1, pattern(1000, 3));
    wr(pdev, b, E1000_TDT, 2);
    run(pdev, () => dma_unmap_single(pdev.dev, x.h, x.len, DMA_TO_DEVICE));
    expect(codes()).toContain('DMA_UNMAP_IN_FLIGHT');
  });
  test('the peer\'s PAUSE holds the transmitter; resume lets it go; clearing TCTL.EN drops what was fetched', () => {
    const { pdev, b, peer } = setup();
    up(pdev, b);
    peer.pause();
    const xs = [0, 1, 2].map((i) => tx_desc(pdev, b, i, pattern(200, i)));
    wr(pdev, b, E1000_TDT, 3);
    M.clock.advance_to(M.clock.now + 1e6);
    expect(peer.received.length).toBe(0);
    peer.resume();
    M.clock.advance_to(M.clock.now + 1e6);
    expect(peer.received.length).toBe(3);
    peer.pause();
    const ys = [3, 4].map((i) => tx_desc(pdev, b, i, pattern(200, i)));
    wr(pdev, b, E1000_TDT, 5);
    wr(pdev, b, E1000_TCTL, 0);
    for (const x of [...xs, ...ys]) run(pdev, () => dma_unmap_single(pdev.dev, x.h, x.len, DMA_TO_DEVICE));
    expect(codes()).toEqual([]);
  });
});

describe('receive', () => {
  test('frames land at RDH with length, DD and EOP in one write-back; RXT0; a long one spans two descriptors', () => {
    const { pdev, b, peer, nic } = setup();
    up(pdev, b);
    const f0 = pattern(64, 9), f1 = pattern(3000, 10);
    peer.send([f0, f1]);
    M.clock.advance_to(M.clock.now + 1e6);
    expect(rd(pdev, b, E1000_RDH)).toBe(3);
    run(pdev, () => {
      for (const i of [0, 1, 2]) dma_unmap_single(pdev.dev, b.buf_dma[i]!, 2048, DMA_FROM_DEVICE);
      expect(get_u16(b.rx + 8)).toBe(64);
      expect(get_u8(b.rx + 12)).toBe(E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP);
      expect(get_u16(b.rx + 16 + 8)).toBe(2048);
      expect(get_u8(b.rx + 16 + 12)).toBe(E1000_RXD_STAT_DD);
      expect(get_u16(b.rx + 32 + 8)).toBe(3000 - 2048);
      expect(get_u8(b.rx + 32 + 12)).toBe(E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP);
      expect(read(b.bufs[0]!, 64)).toEqual(f0);
      expect(read(b.bufs[1]!, 2048)).toEqual(f1.subarray(0, 2048));
      expect(read(b.bufs[2]!, 3000 - 2048)).toEqual(f1.subarray(2048));
      for (const i of [0, 1, 2]) b.buf_dma[i] = map(pdev.dev, b.bufs[i]!, 2048, DMA_FROM_DEVICE);
    });
    expect(rd(pdev, b, E1000_ICR) & E1000_ICR_RXT0).toBe(E1000_ICR_RXT0);
    expect(nic.received).toBe(2);
    expect(codes()).toEqual([]);
  });
  test('RDH == RDT: frames wait on the chip, an RDT write delivers them at once; past 16, RXO and MPC', () => {
    const { pdev, b, peer } = setup();
    up(pdev, b);
    wr(pdev, b, E1000_RDT, 0);                        // no descriptors for the device
    peer.send(Array.from({ length: E1000_RX_FIFO_FRAMES + 4 }, (_, i) => pattern(100, i)));
    M.clock.advance_to(M.clock.now + 10e6);
    expect(rd(pdev, b, E1000_RDH)).toBe(0);
    expect(rd(pdev, b, E1000_ICR) & E1000_ICR_RXO).toBe(E1000_ICR_RXO);
    expect(rd(pdev, b, E1000_MPC)).toBe(4);
    expect(rd(pdev, b, E1000_MPC)).toBe(0);
    wr(pdev, b, E1000_RDT, 5);                        // synchronously: 5 frames written
    expect(rd(pdev, b, E1000_RDH)).toBe(5);
    expect(rd(pdev, b, E1000_ICR) & (E1000_ICR_RXT0 | E1000_ICR_RXDMT0)).toBe(E1000_ICR_RXT0 | E1000_ICR_RXDMT0);
    expect(codes()).toEqual([]);
  });
  test('a frame arriving with receive off is dropped; loopback sends transmitted frames back', () => {
    const { pdev, b, peer, nic } = setup();
    up(pdev, b);
    wr(pdev, b, E1000_RCTL, 0);
    peer.send([pattern(100, 1)]);
    M.clock.advance_to(M.clock.now + 1e6);
    expect(nic.received).toBe(0);
    wr(pdev, b, E1000_RCTL, E1000_RCTL_EN);
    peer.loopback = true;
    const x = tx_desc(pdev, b, 0, pattern(300, 5));
    wr(pdev, b, E1000_TDT, 1);
    M.clock.advance_to(M.clock.now + 1e6);
    expect(nic.received).toBe(1);
    run(pdev, () => dma_unmap_single(pdev.dev, x.h, x.len, DMA_TO_DEVICE));
    run(pdev, () => dma_unmap_single(pdev.dev, b.buf_dma[0]!, 2048, DMA_FROM_DEVICE));
    expect(read(b.bufs[0]!, 300)).toEqual(pattern(300, 5));
    run(pdev, () => { b.buf_dma[0] = map(pdev.dev, b.bufs[0]!, 2048, DMA_FROM_DEVICE); });
    expect(codes()).toEqual([]);
  });
  test('a zero ring base: under an IOMMU the descriptor fetch faults and the device says so', () => {
    const { pdev, b, peer } = setup('x86-iommu');
    run(pdev, () => {
      writel(N * 16, b.bar + E1000_RDLEN); writel(N - 1, b.bar + E1000_RDT);
      writel(E1000_CTRL_SLU, b.bar + E1000_CTRL); writel(E1000_RCTL_EN, b.bar + E1000_RCTL);
    });
    peer.send([pattern(100, 1)]);
    M.clock.advance_to(M.clock.now + 1e6);
    expect(codes()).toContain('IOMMU_FAULT');
    expect(diagnostics().some((d) => d.lines[0]!.startsWith('E1000: RX descriptor 0 at 0x0000000000000000: the fetch failed'))).toBe(true);
  });
  test('unbind with the reset in remove leaves nothing behind', () => {
    const { pdev, b, peer } = setup('arm64');
    up(pdev, b);
    peer.send(Array.from({ length: 40 }, (_, i) => pattern(100, i)));
    M.clock.advance_to(M.clock.now + 20e3);
    unbind(pdev);
    M.clock.advance_to(M.clock.now + 10e6);
    expect(codes()).toEqual([]);
    void E1000; void E1000_ICR_LSC; void E1000_ICR_TXQE; void E1000_ICR_TXDW;
  });
});
