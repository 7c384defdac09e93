// The weak-ordering model of arm64 coherent memory (sim/mm/order.ts): stores wait in a store
// buffer that dma_wmb()/writel() drain and writel_relaxed() does not; a load of a field the
// device wrote in the same write-back as a bit already read may come from before it unless
// dma_rmb()/readl() separates them; x86 keeps program order. Reports only when a side saw a
// value the other had replaced.
import { describe, expect, test } from 'vitest';
import { machine, plug, bind, run, codes, diagnostics, M } from '../../testing/index.ts';
import { pci_enable_device, pci_set_master, pci_iomap, pci_set_drvdata, PCI_DEVICE, dma_set_mask_and_coherent,
  DMA_BIT_MASK, dma_alloc_coherent, writel, writel_relaxed, readl, put_u32, put_u64, get_u8, get_u16, GFP_KERNEL, out,
  dma_wmb, dma_rmb, wmb, smp_wmb, type pci_driver, type iomem, type pci_dev } from '../../index.ts';
import { Poller } from '../hw/poller.ts';

interface st { bar: iomem; buf: number; dma: number }
const drv: pci_driver = {
  name: 'poller-test',
  id_table: [PCI_DEVICE(0x1b36, 0x0006)],
  probe(pdev) {
    pci_enable_device(pdev);
    pci_set_master(pdev);
    const bar = pci_iomap(pdev, 0, 0);
    dma_set_mask_and_coherent(pdev.dev, DMA_BIT_MASK(32));
    const h = out(0);
    const buf = dma_alloc_coherent(pdev.dev, 4096, h, GFP_KERNEL);
    writel(h.value % 2 ** 32, bar + 0x00);
    writel(0, bar + 0x04);
    pci_set_drvdata(pdev, { bar, buf, dma: h.value });
    return 0;
  },
  remove() {},
};

function setup(shape: 'x86' | 'arm64' | 'arm64-smmu', seed: number): { pdev: pci_dev; dev: Poller; s: st } {
  machine({ shape, seed });
  const dev = new Poller();
  const pdev = plug(dev, 6);
  expect(bind(drv, pdev)).toBe(0);
  return { pdev, dev, s: pdev.dev.driver_data as st };
}

/** Fill a 16-byte "descriptor" with four stores, separated as `how` says, then ring. */
function fill_and_ring(s: st, lap: number, how: 'relaxed' | 'wmb+relaxed' | 'writel' | 'wmb-between' | 'smp_wmb') {
  put_u64(0x1000 * lap + 0x100, s.buf);
  put_u32(lap * 7, s.buf + 8);
  if (how === 'wmb-between') wmb();
  put_u32(0x8000 | lap, s.buf + 12);
  if (how === 'wmb+relaxed') dma_wmb();
  if (how === 'smp_wmb') smp_wmb();
  if (how === 'writel') writel(1, s.bar + 0x08);
  else writel_relaxed(1, s.bar + 0x08);
}

function expected(lap: number): Uint8Array {
  const b = new Uint8Array(16), v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(0x1000 * lap + 0x100), true);
  v.setUint32(8, lap * 7, true);
  v.setUint32(12, 0x8000 | lap, true);
  return b;
}

/** Over `seeds` machines of 20 laps each: how many fetches saw something other than the stores. */
function stale_fetches(shape: 'x86' | 'arm64' | 'arm64-smmu', how: Parameters<typeof fill_and_ring>[2], seeds = 8) {
  let stale = 0, reported = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const { pdev, dev, s } = setup(shape, seed);
    run(pdev, () => { for (let lap = 1; lap <= 20; lap++) fill_and_ring(s, lap, how); });
    dev.fetched.forEach((b, i) => { if (b.some((x, j) => x !== expected(i + 1)[j])) stale++; });
    if (codes().includes('DMA_STORE_REORDERED')) reported++;
    else expect(codes()).toEqual([]);
  }
  return { stale, reported };
}

describe('the store side', () => {
  test('x86 keeps program order: a relaxed doorbell sees every store (no model at all)', () => {
    expect(stale_fetches('x86', 'relaxed')).toEqual({ stale: 0, reported: 0 });
    expect(M.order).toBeNull();
  });
  for (const shape of ['arm64', 'arm64-smmu'] as const) {
    test(`${shape}: writel_relaxed() without dma_wmb() lets the device read stores still in the store buffer, and says so`, () => {
      const r = stale_fetches(shape, 'relaxed');
      expect(r.stale).toBeGreaterThan(20);
      expect(r.reported).toBe(8);
      const d = diagnostics().find((x) => x.code === 'DMA_STORE_REORDERED')!;
      expect(d.lines[0]).toMatch(/^dmalab: poller-test 0000:00:06\.0: the device read \[bus address=0x[0-9a-f]{16}\] \[size=16 bytes\] while the CPU's store to it was still in its store buffer: it used the old value$/);
      expect(d.lines[1]).toContain('without dma_wmb()');
    });
    test(`${shape}: dma_wmb() before writel_relaxed(), or writel() alone: never stale, never reported`, () => {
      expect(stale_fetches(shape, 'wmb+relaxed')).toEqual({ stale: 0, reported: 0 });
      expect(stale_fetches(shape, 'writel')).toEqual({ stale: 0, reported: 0 });
    });
    test(`${shape}: smp_wmb() orders CPUs, not the device; a wmb() between two stores orders only those before it`, () => {
      expect(stale_fetches(shape, 'smp_wmb').reported).toBeGreaterThan(0);
      expect(stale_fetches(shape, 'wmb-between').reported).toBeGreaterThan(0);
    });
  }
  test('arm64: the CPU reads its own pending stores; a clock event drains them', () => {
    const { pdev, dev, s } = setup('arm64', 3);
    run(pdev, () => {
      put_u32(0xabcd, s.buf + 8);
      expect(get_u16(s.buf + 8)).toBe(0xabcd);
    });
    // The harness boundary drained it: the device sees it.
    run(pdev, () => writel_relaxed(1, s.bar + 0x08));
    expect(new DataView(dev.fetched[0]!.buffer).getUint32(8, true)).toBe(0xabcd);
    expect(codes()).toEqual([]);
  });
});

describe('the load side', () => {
  /** The device writes length 0x5ee and status DD in one write-back; the driver reads DD, then
   *  the length, `how` it says. How many lengths came back stale, over `seeds` machines. */
  function stale_lengths(shape: 'x86' | 'arm64', how: 'none' | 'rmb' | 'readl' | 'rmb-before' | 'dd-twice', seeds = 8) {
    let stale = 0, reported = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const { pdev, dev, s } = setup(shape, seed);
      for (let lap = 1; lap <= 20; lap++) {
        const wb = new DataView(dev.writeback.buffer);
        wb.setUint16(8, 0x500 + lap, true);
        wb.setUint8(12, lap % 2 ? 1 : 3);
        run(pdev, () => put_u32(0, s.buf + 12));
        run(pdev, () => {
          if (how === 'rmb-before') {
            // The barrier first, then the device writes back while the CPU polls DD.
            dma_rmb();
            dev.armed = 1;
            while (!(get_u8(s.buf + 12) & 1)) {}
          } else writel(1, s.bar + 0x0c);            // the write-back happens now
          const dd = get_u8(s.buf + 12);
          expect(dd & 1).toBe(1);
          if (how === 'rmb') dma_rmb();
          if (how === 'readl') readl(s.bar);
          if (how === 'dd-twice') { expect(get_u8(s.buf + 12)).toBe(dd); return; }
          if (get_u16(s.buf + 8) !== 0x500 + lap) stale++;
        });
      }
      if (codes().includes('DMA_LOAD_REORDERED')) reported++;
      else expect(codes()).toEqual([]);
    }
    return { stale, reported };
  }
  test('x86: loads in program order', () => {
    expect(stale_lengths('x86', 'none')).toEqual({ stale: 0, reported: 0 });
  });
  test('arm64: the length read after DD without dma_rmb() may be from before the write-back, and is reported', () => {
    const r = stale_lengths('arm64', 'none');
    expect(r.stale).toBeGreaterThan(20);
    expect(r.reported).toBe(8);
    const d = diagnostics().find((x) => x.code === 'DMA_LOAD_REORDERED')!;
    expect(d.lines[0]).toMatch(/^dmalab: poller-test 0000:00:06\.0: the CPU read [0-9a-f]{16} \(2 bytes: its value from before the device's write-back\) after reading [0-9a-f]{16}, which the device wrote in the same write-back$/);
  });
  test('arm64: a dma_rmb() (or readl()) after DD orders it; one before DD does not; one location never goes back in time', () => {
    expect(stale_lengths('arm64', 'rmb')).toEqual({ stale: 0, reported: 0 });
    expect(stale_lengths('arm64', 'readl')).toEqual({ stale: 0, reported: 0 });
    expect(stale_lengths('arm64', 'rmb-before').reported).toBeGreaterThan(0);
    expect(stale_lengths('arm64', 'dd-twice')).toEqual({ stale: 0, reported: 0 });
  });
  test('arm64: a device step runs before some CPU loads of coherent memory (about 1 in 8)', () => {
    const { pdev, dev, s } = setup('arm64', 5);
    dev.armed = 1000;
    run(pdev, () => { for (let i = 0; i < 800; i++) get_u8(s.buf + 12); });
    expect(1000 - dev.armed).toBeGreaterThan(60);
    expect(1000 - dev.armed).toBeLessThan(140);
  });
});
