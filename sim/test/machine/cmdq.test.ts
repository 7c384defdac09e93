// The command-queue device of exercise 09 (hw/cmdq.ts): commands in a ring, each pointing at a
// chain of descriptors; the results it writes back, and each of its error codes.
import { describe, expect, test } from 'vitest';
import { machine, plug_cmdq, bind, unbind, codes, diagnostics, pattern, fill, read, type pci_dev, type Cmdq } from '../../testing/index.ts';
import { pci_enable_device, pci_disable_device, pci_set_master, pci_iomap, pci_iounmap, pci_set_drvdata,
  pci_get_drvdata, PCI_DEVICE, dma_set_mask_and_coherent, DMA_BIT_MASK, dma_alloc_coherent,
  dma_free_coherent, dma_map_single, dma_unmap_single, dma_mapping_error, pci_clear_master, DMA_TO_DEVICE, DMA_FROM_DEVICE, readl, writel,
  put_u64, put_u32, put_u16, put_u8, get_u16, get_u32, kmalloc, kfree, GFP_KERNEL, out,
  type pci_driver, type iomem } from '../../index.ts';
import { CMDQ_VENDOR, CMDQ_DEVICE, CMDQ_CTRL, CMDQ_STATUS, CMDQ_ISR, CMDQ_QBASE_LO, CMDQ_QBASE_HI,
  CMDQ_QSIZE, CMDQ_QTAIL, CMDQ_QHEAD, CMDQ_ERRINFO, CMDQ_ID, CMDQ_ID_VALUE, CMDQ_CTRL_EN, CMDQ_CTRL_RST,
  CMDQ_STATUS_FATAL, CMDQ_STATUS_BUSY, CMDQ_INT_ERR, CMDQ_OP_CHECKSUM, CMDQ_OP_FILL, CMDQ_ERR_ALIGN,
  CMDQ_ERR_BOUNDARY, CMDQ_ERR_CHAIN, CMDQ_ERR_LEN, CMDQ_ERR_OPCODE, CMDQ_ERR_ABORT, CMDQ_ERR_PARAM,
  cmdq_fnv1a, cmdq_fill_pattern } from '../../hw/cmdq.ts';

const QSIZE = 8;

/** A bare driver: the ring and one coherent page to place descriptors anywhere in it. */
interface bare { pdev: pci_dev; bar: iomem; ring: number; ring_dma: number; page: number; page_dma: number; tail: number }
const bare_driver: pci_driver = {
  name: 'cmdq-test',
  id_table: [PCI_DEVICE(CMDQ_VENDOR, CMDQ_DEVICE)],
  probe(pdev) {
    expect(pci_enable_device(pdev)).toBe(0);
    pci_set_master(pdev);
    const bar = pci_iomap(pdev, 0, 0);
    expect(dma_set_mask_and_coherent(pdev.dev, DMA_BIT_MASK(32))).toBe(0);
    const h = out(0), p = out(0);
    const ring = dma_alloc_coherent(pdev.dev, 4096, h, GFP_KERNEL);
    const page = dma_alloc_coherent(pdev.dev, 8192, p, GFP_KERNEL);
    const b: bare = { pdev, bar, ring, ring_dma: h.value, page, page_dma: p.value, tail: 0 };
    writel(b.ring_dma % 2 ** 32, bar + CMDQ_QBASE_LO);
    writel(Math.floor(b.ring_dma / 2 ** 32), bar + CMDQ_QBASE_HI);
    writel(QSIZE, bar + CMDQ_QSIZE);
    writel(CMDQ_CTRL_EN, bar + CMDQ_CTRL);
    pci_set_drvdata(pdev, b);
    return 0;
  },
  remove(pdev) {
    const b = pci_get_drvdata<bare>(pdev);
    writel(CMDQ_CTRL_RST, b.bar + CMDQ_CTRL);
    dma_free_coherent(pdev.dev, 8192, b.page, b.page_dma);
    dma_free_coherent(pdev.dev, 4096, b.ring, b.ring_dma);
    pci_iounmap(pdev, b.bar);
    pci_disable_device(pdev);
  },
};

function setup(shape: 'x86' | 'arm64' | 'x86-iommu' = 'x86') {
  const m = machine({ shape, seed: 7 });
  const { pdev, cmdq } = plug_cmdq();
  expect(bind(bare_driver, pdev)).toBe(0);
  return { m, pdev, cmdq, b: pdev.dev.driver_data as bare };
}

/** Write descriptor at page offset off: buffer, length, next (a page offset, or -1 for none). */
function desc(b: bare, off: number, buf: number, len: number, next: number): number {
  put_u64(buf, b.page + off); put_u32(len, b.page + off + 8); put_u32(0, b.page + off + 12);
  put_u64(next < 0 ? 0 : b.page_dma + next, b.page + off + 16);
  return b.page_dma + off;
}

/** Post a command with its first descriptor (bus address) and ring the doorbell. */
function post(b: bare, op: number, first: number, param = 0): number {
  const c = b.ring + b.tail * 32;
  put_u64(first, c); put_u64(param, c + 8); put_u16(b.tail, c + 16); put_u8(op, c + 18); put_u8(1, c + 19);
  put_u16(0, c + 20); put_u32(0, c + 24);
  const slot = b.tail;
  b.tail = (b.tail + 1) % QSIZE;
  writel(b.tail, b.bar + CMDQ_QTAIL);
  return slot;
}

const status = (b: bare, slot: number) => get_u16(b.ring + slot * 32 + 20);
const total = (b: bare, slot: number) => get_u32(b.ring + slot * 32 + 24);

describe('cmdq', () => {
  test('identifies itself; CHECKSUM over a two-descriptor chain writes each piece\'s FNV-1a and their sum', () => {
    const { m, pdev, b } = setup('arm64');
    expect(readl(b.bar + CMDQ_ID)).toBe(CMDQ_ID_VALUE);
    const data = pattern(6000, 3);
    const buf = kmalloc(8192, GFP_KERNEL);
    fill(buf, data);
    const dma = dma_map_single(pdev.dev, buf, 6000, DMA_TO_DEVICE);
    expect(dma_mapping_error(pdev.dev, dma)).toBe(0);
    desc(b, 64, dma + 4096, 6000 - 4096, -1);
    const slot = post(b, CMDQ_OP_CHECKSUM, desc(b, 0, dma, 4096, 64));
    expect(readl(b.bar + CMDQ_STATUS) & CMDQ_STATUS_BUSY).toBeTruthy();
    m.clock.advance_to(m.clock.now + 1e6);
    const h1 = cmdq_fnv1a(data.subarray(0, 4096)), h2 = cmdq_fnv1a(data.subarray(4096));
    expect(status(b, slot)).toBe(1);
    expect(total(b, slot)).toBe((h1 + h2) >>> 0);
    expect(get_u32(b.page + 24)).toBe(4096);
    expect(get_u32(b.page + 28)).toBe(h1);
    expect(get_u32(b.page + 64 + 28)).toBe(h2);
    expect(readl(b.bar + CMDQ_QHEAD)).toBe(1);
    dma_unmap_single(pdev.dev, dma, 6000, DMA_TO_DEVICE);
    kfree(buf);
    unbind(pdev);
    expect(codes()).toEqual([]);
  });

  test('FILL writes the seed\'s pattern across the pieces; commands run in ring order and wrap', () => {
    const { m, pdev, b, cmdq } = setup('x86-iommu');
    const buf = kmalloc(4096, GFP_KERNEL);
    const dma = dma_map_single(pdev.dev, buf, 4096, DMA_FROM_DEVICE);
    expect(dma_mapping_error(pdev.dev, dma)).toBe(0);
    for (let i = 0; i < QSIZE + 3; i++) {
      put_u32(1000 + i, b.page + 4096);           // the parameter block, 64-byte aligned
      desc(b, 96, dma + 100, 200, -1);
      const slot = post(b, CMDQ_OP_FILL, desc(b, 0, dma, 100, 96), b.page_dma + 4096);
      m.clock.advance_to(m.clock.now + 1e6);
      expect(status(b, slot)).toBe(1);
      expect(total(b, slot)).toBe(300);
    }
    dma_unmap_single(pdev.dev, dma, 4096, DMA_FROM_DEVICE);
    expect(read(buf, 300)).toEqual(cmdq_fill_pattern(1000 + QSIZE + 2, 300));
    expect(cmdq.completed).toBe(QSIZE + 3);
    kfree(buf);
    unbind(pdev);
    expect(codes()).toEqual([]);
  });

  const cases: [string, number, (b: bare, dma: number) => number, number?][] = [
    ['a descriptor not 32-byte aligned', CMDQ_ERR_ALIGN, (b, dma) => post(b, CMDQ_OP_CHECKSUM, desc(b, 16, dma, 64, -1))],
    ['a descriptor across 4 KiB', CMDQ_ERR_BOUNDARY, (b, dma) => post(b, CMDQ_OP_CHECKSUM, desc(b, 4096 - 16, dma, 64, -1))],
    ['a chain that loops', CMDQ_ERR_CHAIN, (b, dma) => post(b, CMDQ_OP_CHECKSUM, desc(b, 0, dma, 64, 0))],
    ['a piece of 0 bytes', CMDQ_ERR_LEN, (b, dma) => post(b, CMDQ_OP_CHECKSUM, desc(b, 0, dma, 0, -1))],
    ['a piece over 4 KiB', CMDQ_ERR_LEN, (b, dma) => post(b, CMDQ_OP_CHECKSUM, desc(b, 0, dma, 4097, -1))],
    ['an unknown opcode', CMDQ_ERR_OPCODE, (b, dma) => post(b, 9, desc(b, 0, dma, 64, -1))],
    ['FILL without a parameter block', CMDQ_ERR_PARAM, (b, dma) => post(b, CMDQ_OP_FILL, desc(b, 0, dma, 64, -1))],
    ['a parameter block not 64-byte aligned', CMDQ_ERR_ALIGN, (b, dma) => post(b, CMDQ_OP_FILL, desc(b, 0, dma, 64, -1), b.page_dma + 4096 + 32)],
    ['a descriptor nothing answers for', CMDQ_ERR_ABORT, (b) => post(b, CMDQ_OP_CHECKSUM, 0x3fff0000)],
  ];
  test.each(cases)('%s: the command fails with its code, ERRINFO and ISR say so, and the queue stops until reset', (_what, code, mk) => {
    const { m, pdev, b } = setup('x86');
    const buf = kmalloc(8192, GFP_KERNEL);
    const dma = dma_map_single(pdev.dev, buf, 8192, DMA_TO_DEVICE);
    expect(dma_mapping_error(pdev.dev, dma)).toBe(0);
    const slot = mk(b, dma);
    const next = post(b, CMDQ_OP_CHECKSUM, desc(b, 512, dma, 64, -1));
    m.clock.advance_to(m.clock.now + 1e6);
    expect(status(b, slot)).toBe(1 | code << 8);
    expect(readl(b.bar + CMDQ_ERRINFO)).toBe((slot << 16 | code) >>> 0);
    expect(readl(b.bar + CMDQ_ISR) & CMDQ_INT_ERR).toBeTruthy();
    expect(readl(b.bar + CMDQ_STATUS) & CMDQ_STATUS_FATAL).toBeTruthy();
    expect(status(b, next)).toBe(0);
    expect(diagnostics().some((d) => d.code === 'DEVICE_GUEST_ERROR' && d.lines[0]!.startsWith(`CMDQ: slot ${slot}: `))).toBe(true);
    writel(CMDQ_CTRL_RST | CMDQ_CTRL_EN, b.bar + CMDQ_CTRL);
    expect(readl(b.bar + CMDQ_STATUS) & CMDQ_STATUS_FATAL).toBe(0);
    expect(readl(b.bar + CMDQ_QHEAD)).toBe(0);
    dma_unmap_single(pdev.dev, dma, 8192, DMA_TO_DEVICE);
    kfree(buf);
    unbind(pdev);
  });

  test('ring registers are ignored while the queue is enabled; a bad QSIZE is refused', () => {
    const { pdev, b } = setup('x86');
    writel(16, b.bar + CMDQ_QSIZE);
    expect(readl(b.bar + CMDQ_QSIZE)).toBe(QSIZE);
    writel(0, b.bar + CMDQ_CTRL);
    writel(12, b.bar + CMDQ_QSIZE);
    expect(readl(b.bar + CMDQ_QSIZE)).toBe(QSIZE);
    const lines = diagnostics().flatMap((d) => d.lines);
    expect(lines).toContain('CMDQ: write to 0x28 ignored while the queue is enabled (clear CTRL.EN first)');
    expect(lines).toContain('CMDQ: QSIZE 12 ignored: a power of two in 2..256');
    unbind(pdev);
  });

  test('with bus mastering off, nothing is fetched and the device says why', () => {
    const { m, pdev, b } = setup('x86');
    pci_clear_master(pdev);
    post(b, CMDQ_OP_CHECKSUM, desc(b, 0, b.page_dma, 64, -1));
    m.clock.advance_to(m.clock.now + 1e6);
    expect(codes()).toContain('DMA_NO_BUS_MASTER');
    unbind(pdev);
  });
});
