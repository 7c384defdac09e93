// sgblk (sim/hw/sgblk.ts): its registers, a clean read and write through a descriptor table on
// every shape, each ERROR bit (set, logged as a guest error naming the descriptor, nothing
// moved), the doorbell while busy, and DONE as a write-1-to-clear interrupt.
import { describe, expect, test } from 'vitest';
import { machine, plug_sgblk, bind, unbind, run, run_for_ms, pattern, compare, diagnostics, explain, read, fill,
  SHAPES, type ShapeName, type Sgblk, type pci_dev } from '../../testing/index.ts';
import { sgblk_lab_driver, lab_prd, lab_start, lab_reg, lab_wreg, type sgblk_lab } from '../drivers/sgblk_lab.ts';
import { SGBLK_ERR_PRD_LEN, SGBLK_ERR_NO_EOT, SGBLK_ERR_LEN, SGBLK_ERR_LBA, SGBLK_ERR_BUS, SGBLK_ERR_ALIGN,
  SGBLK_REG_ERROR, SGBLK_REG_STATUS, SGBLK_REG_ISR, SGBLK_REG_IER, SGBLK_STATUS_ERR, SGBLK_STATUS_BUSY,
  SGBLK_ID } from '../../hw/sgblk.ts';

interface X { pdev: pci_dev; blk: Sgblk; l: sgblk_lab }

function setup(shape: ShapeName = 'x86'): X {
  machine({ shape, seed: 1 });
  const { pdev, blk } = plug_sgblk();
  expect(bind(sgblk_lab_driver, pdev)).toBe(0);
  return { pdev, blk, l: pdev.dev.driver_data as sgblk_lab };
}

function guest_errors(): string[] {
  return diagnostics().filter((d) => d.code === 'DEVICE_GUEST_ERROR').map((d) => d.lines[0]!);
}

/** Run one command with the given descriptors; returns ERROR. */
function command(x: X, prds: [number, number, boolean][], lba: number, nsect: number, write: boolean): number {
  run(x.pdev, () => {
    prds.forEach(([a, n, e], i) => lab_prd(x.l, i, a, n, e));
    lab_start(x.l, lba, nsect, write);
  });
  expect(x.blk.busy()).toBe(true);
  run_for_ms(1);
  expect(x.blk.busy()).toBe(false);
  return run(x.pdev, () => lab_reg(x.l, SGBLK_REG_ERROR));
}

describe.each(SHAPES)('%s', (shape) => {
  test('a read and a write of two segments move exactly the bytes described', () => {
    const x = setup(shape);
    const disk = pattern(8192, 3);
    x.blk.disk.set(disk, 4 * 512);
    // Read 4096 + 4096 bytes from sector 4 into the data buffer at offsets 8192 and 0.
    expect(command(x, [[x.l.data_dma + 8192, 4096, false], [x.l.data_dma, 4096, true]], 4, 16, false)).toBe(0);
    expect(compare(read(x.l.data + 8192, 4096), disk.subarray(0, 4096))).toBeNull();
    expect(compare(read(x.l.data, 4096), disk.subarray(4096))).toBeNull();
    // Write 1024 bytes back to sector 100.
    const out = pattern(1024, 9);
    fill(x.l.data + 16384, out);
    expect(command(x, [[x.l.data_dma + 16384, 1024, true]], 100, 2, true)).toBe(0);
    expect(compare(x.blk.disk.slice(100 * 512, 100 * 512 + 1024), out)).toBeNull();
    expect(x.blk.last_table).toEqual([{ addr: x.l.data_dma + 16384, len: 1024 }]);
    unbind(x.pdev);
    expect(diagnostics().map((d) => d.code), explain()).toEqual([]);
  });
});

describe('registers', () => {
  test('ID, NPRD, MAXSEG, CAPACITY; other widths read all ones and are guest errors', () => {
    const x = setup();
    expect(run(x.pdev, () => [0, 4, 8, 12].map((o) => lab_reg(x.l, o)))).toEqual([SGBLK_ID, 32, 32768, 2048]);
    expect(x.blk.bars[0]!.read(0, 2)).toBe(0xffff);
    expect(guest_errors()).toEqual(['SGBLK: 2-byte read of 0x00 ignored: registers take 4-byte accesses only']);
  });

  test('DONE raises the interrupt only when enabled, and writing 1 to ISR clears it', () => {
    const x = setup();
    expect(command(x, [[x.l.data_dma, 512, true]], 0, 1, false)).toBe(0);
    expect(run(x.pdev, () => lab_reg(x.l, SGBLK_REG_ISR))).toBe(1);
    expect(x.blk.fn.asserting()).toBe(false);
    run(x.pdev, () => lab_wreg(x.l, SGBLK_REG_IER, 1));
    expect(x.blk.fn.asserting()).toBe(true);
    run(x.pdev, () => lab_wreg(x.l, SGBLK_REG_ISR, 1));
    expect(x.blk.fn.asserting()).toBe(false);
    expect(run(x.pdev, () => lab_reg(x.l, SGBLK_REG_ISR))).toBe(0);
  });

  test('the doorbell and the command registers are ignored while a command runs', () => {
    const x = setup();
    run(x.pdev, () => { lab_prd(x.l, 0, x.l.data_dma, 512, true); lab_start(x.l, 0, 1, false); });
    run(x.pdev, () => lab_wreg(x.l, 0x18, 7));
    expect(run(x.pdev, () => lab_reg(x.l, SGBLK_REG_STATUS)) & SGBLK_STATUS_BUSY).toBe(SGBLK_STATUS_BUSY);
    expect(run(x.pdev, () => lab_reg(x.l, 0x18))).toBe(0);
    expect(guest_errors()).toEqual(['SGBLK: write to register 0x18 ignored: a command is still running (wait for DONE)']);
    run_for_ms(1);
  });
});

describe('error bits: set, logged, and nothing moves', () => {
  const cases: [string, number, (x: X) => [[number, number, boolean][], number, number], RegExp][] = [
    ['PRD_LEN', SGBLK_ERR_PRD_LEN, (x) => [[[x.l.data_dma, 65536, true]], 0, 128], /^SGBLK: PRD 0: 65536 bytes, more than MAXSEG 32768$/],
    ['LEN', SGBLK_ERR_LEN, (x) => [[[x.l.data_dma, 4096, false], [x.l.data_dma + 4096, 512, true]], 0, 8], /^SGBLK: the descriptors cover 4608 bytes, but NSECT 8 is 4096 bytes$/],
    ['LBA', SGBLK_ERR_LBA, (x) => [[[x.l.data_dma, 4096, true]], 2044, 8], /^SGBLK: sectors 2044\.\.2051 \(NSECT 8\) are not on the disk/],
    ['ALIGN (odd count)', SGBLK_ERR_ALIGN, (x) => [[[x.l.data_dma, 511, true]], 0, 1], /^SGBLK: PRD 0: odd byte count 511/],
  ];
  test.each(cases)('%s', (_name, bit, make, text) => {
    const x = setup();
    const before = read(x.l.data, 4096);
    x.blk.disk.set(pattern(65536, 5), 0);
    const [prds, lba, nsect] = make(x);
    expect(command(x, prds, lba, nsect, false) & bit).toBe(bit);
    expect(run(x.pdev, () => lab_reg(x.l, SGBLK_REG_STATUS)) & SGBLK_STATUS_ERR).toBe(SGBLK_STATUS_ERR);
    expect(guest_errors().some((l) => text.test(l)), guest_errors().join('\n')).toBe(true);
    expect(compare(read(x.l.data, 4096), before)).toBeNull();
  });

  test('NO_EOT: 32 descriptors read and none ends the table', () => {
    const x = setup();
    const prds: [number, number, boolean][] = Array.from({ length: 32 }, (_, i) => [x.l.data_dma + i * 512, 512, false]);
    expect(command(x, prds, 0, 32, false) & SGBLK_ERR_NO_EOT).toBe(SGBLK_ERR_NO_EOT);
    expect(guest_errors()).toContain('SGBLK: 32 descriptors read and none has EOT (bit 31) set');
  });

  test('ALIGN: a descriptor table that is not 128-byte aligned', () => {
    const x = setup();
    run(x.pdev, () => { lab_prd(x.l, 0, x.l.data_dma, 512, true); lab_start(x.l, 0, 1, false, x.l.table_dma + 16); });
    run_for_ms(1);
    expect(run(x.pdev, () => lab_reg(x.l, SGBLK_REG_ERROR))).toBe(SGBLK_ERR_ALIGN);
  });

  test.each(['x86', 'x86-iommu'] as ShapeName[])('BUS: a segment nobody mapped is a master abort or an IOMMU fault (%s)', (shape) => {
    const x = setup(shape);
    const addr = shape === 'x86' ? 0x40000000 : 0x1000;   // past the end of RAM; an IOVA never mapped
    expect(command(x, [[addr, 512, true]], 0, 1, false) & SGBLK_ERR_BUS).toBe(SGBLK_ERR_BUS);
    expect(guest_errors()).toContain(`SGBLK: PRD 0: writing 512 bytes at bus address 0x${addr.toString(16)} failed`);
    const codes = diagnostics().map((d) => d.code);
    expect(codes).toContain('DEVICE_ACCESS_UNMAPPED');
    if (shape === 'x86-iommu') expect(codes).toContain('IOMMU_FAULT');
  });
});
