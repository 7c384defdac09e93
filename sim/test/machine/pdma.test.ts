// The PL330-like DMA controller (sim/hw/pdma.ts) on its own, programmed by hand through the debug
// interface as pl330.c's _execute_DBGINSN() does: each instruction, nested loops, a forever loop
// with an event per lap, waiting for a request line, every fault type with its FTR bit, DMAGO on
// a running thread, DBGCMD while busy, DMAKILL and CHHALT in the middle of a transfer, SAR/DAR per
// burst, an IOMMU fault on a fetch and on a burst, and INTEN off.
import { describe, expect, test } from 'vitest';
import { machine, plug_pdma, run, fill, read, pattern, compare, codes, has, M, type ShapeName } from '../../testing/index.ts';
import { dma_alloc_coherent, dma_set_mask_and_coherent, DMA_BIT_MASK } from '../../include/linux/dma-mapping.ts';
import { GFP_KERNEL } from '../../include/linux/gfp.ts';
import { out } from '../../include/dmalab/ref.ts';
import { Pdma, type PdmaOptions, PDMA_DBGINST0, PDMA_DBGINST1, PDMA_DBGCMD, PDMA_DBGSTATUS, PDMA_INTEN, PDMA_INT_EVENT_RIS,
  PDMA_INTMIS, PDMA_INTCLR, PDMA_FSRC, PDMA_FSRD, PDMA_FTRD, PDMA_FTR, PDMA_CSR, PDMA_CPC, PDMA_SAR, PDMA_DAR, PDMA_LC0,
  PDMA_CHHALT, PDMA_CR0, PDMA_PERIPH_ID, PDMA_CS_STOPPED, PDMA_CS_EXECUTING, PDMA_CS_HALTED, PDMA_CS_WFP,
  PDMA_CS_FAULTING, PDMA_FT_UNDEF_INSTR, PDMA_FT_OPERAND_INVALID, PDMA_FT_PERIPH, PDMA_FT_INSTR_FETCH,
  PDMA_FT_DATA_READ, PDMA_FT_DATA_WRITE, PDMA_CC_SRCINC, PDMA_CC_DSTINC } from '../../hw/pdma.ts';

/** CCR for bursts of `len` beats of `size` bytes on both sides. */
const ccr = (len: number, size: number, flags = PDMA_CC_SRCINC | PDMA_CC_DSTINC) => {
  const s = Math.log2(size);
  return (flags | s << 1 | (len - 1) << 4 | s << 15 | (len - 1) << 18) >>> 0;
};
const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
/** A tiny assembler: each helper returns the instruction's bytes. */
const A = {
  mov: (r: 'sar' | 'ccr' | 'dar', v: number) => [0xbc, { sar: 0, ccr: 1, dar: 2 }[r], ...u32(v)],
  lp: (l: number, n: number) => [0x20 | l << 1, n - 1],
  lpend: (l: number, back: number) => [0x38 | l << 2, back],
  lpfe: (back: number) => [0x28, back],
  ld: () => [0x04], st: () => [0x08], wmb: () => [0x13], nop: () => [0x18], end: () => [0x00],
  sev: (e: number) => [0x34, e << 3], wfp: (p: number) => [0x32, p << 3], flushp: (p: number) => [0x35, p << 3],
};

interface Rig { hw: Pdma; cpu: number; dma: number; rd: (off: number) => number; wr: (off: number, v: number) => void;
  exec: (bytes: number[], chan?: number) => void; go: (chan: number, prog: number[]) => void; wait: (ns: number) => void;
  line: (i: number) => boolean }

/** A machine with a pdma and 64 KiB of coherent memory for it: program at 0, data after. */
function rig(shape: ShapeName = 'x86', o: PdmaOptions = {}): Rig {
  machine({ shape });
  const { pdev, hw } = plug_pdma(o);
  const h = out(0);
  const cpu = run(pdev, () => {
    dma_set_mask_and_coherent(pdev.dev, DMA_BIT_MASK(32));
    return dma_alloc_coherent(pdev.dev, 65536, h, GFP_KERNEL);
  });
  const regs = hw.regions[0]!;
  const rd = (off: number) => regs.read(off, 4), wr = (off: number, v: number) => regs.write(off, 4, v);
  const wait = (ns: number) => M.clock.advance_to(M.clock.now + ns);
  const exec = (b: number[], chan = -1) => {
    while (rd(PDMA_DBGSTATUS) & 1) wait(10);
    wr(PDMA_DBGINST0, (b[0]! << 16 | (b[1] ?? 0) << 24 | (chan >= 0 ? 1 | chan << 8 : 0)) >>> 0);
    wr(PDMA_DBGINST1, (b[2] ?? 0) | (b[3] ?? 0) << 8 | (b[4] ?? 0) << 16 | (b[5] ?? 0) << 24);
    wr(PDMA_DBGCMD, 0);
  };
  const go = (chan: number, prog: number[]) => {
    fill(cpu + chan * 1024, Uint8Array.from(prog));
    exec([0xa0, chan, ...u32(h.value + chan * 1024)]);
    wait(200);
  };
  const line = (i: number) => M.irq.line(hw.node.irq[i]!).sources.some((s) => s.asserting());
  return { hw, cpu, dma: h.value, rd, wr, exec, go, wait, line };
}

const SRC = 0x4000, DST = 0x8000;

/** A copy of `bursts` bursts of 16 x 4 bytes as LC1 x LC0 loops, then a tail of single beats. */
function copy_prog(x: Rig, outer: number, inner: number, tail: number, ev = 0): number[] {
  const body = [...A.ld(), ...A.st()];
  const p = [...A.mov('sar', x.dma + SRC), ...A.mov('dar', x.dma + DST), ...A.mov('ccr', ccr(16, 4)),
    ...A.lp(1, outer), ...A.lp(0, inner), ...body, ...A.lpend(0, 2), ...A.lpend(1, 6)];
  if (tail) p.push(...A.mov('ccr', ccr(1, 4)), ...A.lp(0, tail), ...body, ...A.lpend(0, 2));
  p.push(...A.wmb(), ...A.sev(ev), ...A.end());
  return p;
}

describe('programs', () => {
  test('nested loops and a tail copy every byte; the event raises its line; the thread stops', () => {
    const x = rig('arm64');
    const len = 3 * 5 * 64 + 7 * 4;
    fill(x.cpu + SRC, pattern(len, 1));
    x.wr(PDMA_INTEN, 1);
    x.go(0, copy_prog(x, 3, 5, 7));
    x.wait(10_000);
    expect(compare(read(x.cpu + DST, len), pattern(len, 1))).toBe(null);
    expect(read(x.cpu + DST + len, 4)).toEqual(new Uint8Array(4));
    expect(x.rd(PDMA_CSR(0)) & 0xf).toBe(PDMA_CS_STOPPED);
    expect(x.rd(PDMA_SAR(0))).toBe(x.dma + SRC + len);
    expect(x.rd(PDMA_DAR(0))).toBe(x.dma + DST + len);
    expect(x.rd(PDMA_INT_EVENT_RIS)).toBe(1);
    expect(x.line(0)).toBe(true);
    x.wr(PDMA_INTCLR, 1);
    expect(x.line(0)).toBe(false);
    expect(x.hw.moved[0]).toBe(len);
    expect(codes()).toEqual([]);
  });

  test('SAR and DAR advance per burst while it runs (the residue comes from them)', () => {
    const x = rig();
    x.go(1, copy_prog(x, 1, 200, 0, 1));
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) { seen.push(x.rd(PDMA_DAR(1)) - (x.dma + DST)); x.wait(1000); }
    expect(seen.every((v) => v % 64 === 0)).toBe(true);
    expect(new Set(seen).size).toBeGreaterThan(5);
    expect(seen.every((v, i) => i === 0 || v >= seen[i - 1]!)).toBe(true);
    x.wait(20_000);
    expect(x.rd(PDMA_DAR(1)) - (x.dma + DST)).toBe(200 * 64);
  });

  test('DMALPFE loops for ever with an event per lap, until DMAKILL', () => {
    const x = rig();
    x.wr(PDMA_INTEN, 1 << 2);
    const prog = [...A.mov('ccr', ccr(16, 4)), ...A.mov('sar', x.dma + SRC), ...A.mov('dar', x.dma + DST),
      ...A.lp(0, 4), ...A.ld(), ...A.st(), ...A.lpend(0, 2), ...A.sev(2), ...A.lpfe(15)];
    x.go(2, prog);
    let laps = 0;
    for (let i = 0; i < 50; i++) {
      x.wait(200);
      if (x.rd(PDMA_INTMIS) & 4) { laps++; x.wr(PDMA_INTCLR, 4); }
    }
    expect(laps).toBeGreaterThan(10);
    expect(x.rd(PDMA_CSR(2)) & 0xf).toBe(PDMA_CS_EXECUTING);
    x.exec([0x01], 2);
    x.wait(500);
    expect(x.rd(PDMA_CSR(2)) & 0xf).toBe(PDMA_CS_STOPPED);
    const moved = x.hw.moved[2];
    x.wait(5000);
    expect(x.hw.moved[2]).toBe(moved);
  });

  test('DMAWFP waits for its request line (CSR 7, the line in [8:4]); DMAFLUSHP is harmless', () => {
    const x = rig();
    // A peripheral "FIFO" at a fixed address: 4 bursts of 8 beats of 1 byte, each after a request.
    fill(x.cpu + SRC, Uint8Array.from([0x5a]));
    const prog = [...A.mov('ccr', ccr(8, 1, PDMA_CC_DSTINC)), ...A.mov('sar', x.dma + SRC), ...A.mov('dar', x.dma + DST),
      ...A.flushp(5), ...A.lp(0, 4), ...A.wfp(5), ...A.ld(), ...A.st(), ...A.lpend(0, 4), ...A.sev(0), ...A.end()];
    x.go(0, prog);
    expect(x.rd(PDMA_CSR(0))).toBe(PDMA_CS_WFP | 5 << 4);
    x.hw.request(5, true);
    x.wait(10_000);
    expect(x.rd(PDMA_CSR(0)) & 0xf).toBe(PDMA_CS_STOPPED);
    expect(read(x.cpu + DST, 33)).toEqual(Uint8Array.from([...new Array(32).fill(0x5a), 0]));
    expect(x.rd(PDMA_SAR(0))).toBe(x.dma + SRC);
  });

  test('ID and configuration registers', () => {
    const x = rig('x86', { channels: 4, requests: 8, events: 6 });
    const id = [0, 1, 2, 3].map((i) => x.rd(PDMA_PERIPH_ID + 4 * i));
    expect(id).toEqual([0x30, 0x13, 0x04, 0x00]);
    expect(id[0]! | id[1]! << 8 | (id[2]! & 0xf) << 16).toBe(0x41330);
    const cr0 = x.rd(PDMA_CR0);
    expect([(cr0 >> 4) & 7, (cr0 >> 12) & 0x1f, (cr0 >> 17) & 0x1f, cr0 & 1]).toEqual([3, 7, 5, 1]);
    expect(x.hw.irqs).toBe(7);
  });
});

describe('faults', () => {
  const cases: [string, (x: Rig) => number[], number][] = [
    ['an undefined instruction', () => [...A.nop(), 0xff, ...A.end()], PDMA_FT_UNDEF_INSTR],
    ['DMAST with an empty FIFO', () => [...A.mov('ccr', ccr(4, 4)), ...A.st(), ...A.end()], PDMA_FT_OPERAND_INVALID],
    ['a loop counter already in use', () => [...A.lp(0, 2), ...A.lp(0, 2), ...A.end()], PDMA_FT_OPERAND_INVALID],
    ['a jump back out of the program', () => [...A.nop(), ...A.lp(0, 2), ...A.lpend(0, 9), ...A.end()], PDMA_FT_OPERAND_INVALID],
    ['bursts of different sizes', () => [...A.mov('ccr', (PDMA_CC_SRCINC | 2 << 1 | 3 << 4 | 2 << 15) >>> 0), ...A.ld(), ...A.end()],
      PDMA_FT_OPERAND_INVALID],
    ['a request line out of range', () => [...A.wfp(20), ...A.end()], PDMA_FT_PERIPH],
  ];
  test.each(cases)('%s: the thread faults, FSRC and FTR say why, the abort line rises; DMAKILL clears it', (_w, prog, bit) => {
    const x = rig();
    x.go(3, prog(x));
    expect(x.rd(PDMA_CSR(3)) & 0xf).toBe(PDMA_CS_FAULTING);
    expect(x.rd(PDMA_FSRC)).toBe(1 << 3);
    expect(x.rd(PDMA_FTR(3))).toBe(bit);
    expect(x.line(x.hw.events)).toBe(true);
    x.exec([0x01], 3);
    x.wait(200);
    expect([x.rd(PDMA_CSR(3)) & 0xf, x.rd(PDMA_FSRC), x.rd(PDMA_FTR(3))]).toEqual([PDMA_CS_STOPPED, 0, 0]);
    expect(x.line(x.hw.events)).toBe(false);
  });

  test.each(['x86-iommu', 'arm64-smmu'] as ShapeName[])('%s: IOMMU faults on a fetch, a read and a write set bits 16, 18 and 17', (shape) => {
    const x = rig(shape);
    // A program at an IOVA nobody mapped.
    x.exec([0xa0, 0, ...u32(0x7000_0000)]);
    x.wait(200);
    expect(x.rd(PDMA_FTR(0))).toBe(PDMA_FT_INSTR_FETCH);
    expect(x.rd(PDMA_CPC(0))).toBe(0x7000_0000);
    const rw = (src: number, dst: number) => [...A.mov('ccr', ccr(16, 4)), ...A.mov('sar', src), ...A.mov('dar', dst),
      ...A.lp(0, 8), ...A.ld(), ...A.st(), ...A.lpend(0, 2), ...A.end()];
    x.go(1, rw(0x7000_0000, x.dma + DST));
    x.wait(2000);
    expect(x.rd(PDMA_FTR(1))).toBe(PDMA_FT_DATA_READ);
    expect(x.rd(PDMA_SAR(1))).toBe(0x7000_0000);
    x.go(2, rw(x.dma + SRC, 0x7000_0000 - 128));
    x.wait(2000);
    expect(x.rd(PDMA_FTR(2))).toBe(PDMA_FT_DATA_WRITE);
    expect(x.rd(PDMA_FSRC)).toBe(7);
    expect(has('IOMMU_FAULT')).toBe(true);
  });

  test('DMAGO on a thread that is running: a manager fault, FTRD operand invalid', () => {
    const x = rig();
    x.go(0, copy_prog(x, 4, 100, 0));
    expect(x.rd(PDMA_CSR(0)) & 0xf).toBe(PDMA_CS_EXECUTING);
    x.exec([0xa0, 0, ...u32(x.dma)]);
    x.wait(200);
    expect([x.rd(PDMA_FSRD), x.rd(PDMA_FTRD)]).toEqual([1, PDMA_FT_OPERAND_INVALID]);
    expect(x.line(x.hw.events)).toBe(true);
    x.exec([0x01]);
    x.wait(200);
    expect(x.rd(PDMA_FSRD)).toBe(0);
  });

  test('DBGCMD while DBGSTATUS is busy is dropped, with a guest error', () => {
    const x = rig();
    fill(x.cpu, Uint8Array.from(copy_prog(x, 1, 4, 0)));
    const go = [0xa0, 0, ...u32(x.dma)];
    x.wr(PDMA_DBGINST0, (go[0]! << 16 | go[1]! << 24) >>> 0);
    x.wr(PDMA_DBGINST1, x.dma);
    x.wr(PDMA_DBGCMD, 0);
    expect(x.rd(PDMA_DBGSTATUS)).toBe(1);
    x.wr(PDMA_DBGINST0, (0x01 << 16 | 1 | 0 << 8) >>> 0);
    x.wr(PDMA_DBGCMD, 0);
    expect(codes()).toEqual(['DEVICE_GUEST_ERROR']);
    expect(M.diag.list[0]!.lines[0]).toMatch(/^PDMA: DBGCMD while busy/);
    x.wait(5000);
    // The DMAGO ran; the DMAKILL never happened.
    expect(x.hw.moved[0]).toBe(4 * 64);
  });
});

describe('stopping and halting', () => {
  test('DMAKILL in the middle of a copy: the burst on the bus lands, nothing after it', () => {
    const x = rig();
    x.go(0, copy_prog(x, 1, 200, 0));
    x.wait(3000);
    x.exec([0x01], 0);
    x.wait(100);
    const at_kill = x.hw.moved[0]!;
    x.wait(300);
    const after = x.hw.moved[0]!;
    expect(after - at_kill).toBeLessThanOrEqual(64);
    expect(after % 64).toBe(0);
    expect(x.rd(PDMA_CSR(0)) & 0xf).toBe(PDMA_CS_STOPPED);
    x.wait(20_000);
    expect(x.hw.moved[0]).toBe(after);
    expect(x.rd(PDMA_DAR(0)) - (x.dma + DST)).toBe(after);
    expect(x.rd(PDMA_LC0(0))).toBe(0);
  });

  test('CHHALT stops at a burst boundary (CSR 2 within a burst time) and 0 resumes where it stopped', () => {
    const x = rig();
    const len = 200 * 64;
    fill(x.cpu + SRC, pattern(len, 4));
    x.go(0, copy_prog(x, 1, 200, 0));
    x.wait(2500);
    x.wr(PDMA_CHHALT(0), 1);
    x.wait(100);
    expect(x.rd(PDMA_CSR(0)) & 0xf).toBe(PDMA_CS_HALTED);
    const held = x.rd(PDMA_DAR(0)) - (x.dma + DST);
    expect(held % 64).toBe(0);
    expect(x.hw.moved[0]).toBe(held);
    x.wait(10_000);
    expect(x.hw.moved[0]).toBe(held);
    x.wr(PDMA_CHHALT(0), 0);
    x.wait(30_000);
    expect(x.rd(PDMA_CSR(0)) & 0xf).toBe(PDMA_CS_STOPPED);
    expect(compare(read(x.cpu + DST, len), pattern(len, 4))).toBe(null);
  });

  test('without pause, CHHALT reads 0 and does nothing', () => {
    const x = rig('x86', { pause: false });
    x.go(0, copy_prog(x, 1, 200, 0));
    x.wr(PDMA_CHHALT(0), 1);
    expect(x.rd(PDMA_CHHALT(0))).toBe(0);
    x.wait(30_000);
    expect(x.hw.moved[0]).toBe(200 * 64);
  });

  test('INTEN off: DMASEV sets the event, no line rises', () => {
    const x = rig();
    x.go(0, copy_prog(x, 1, 2, 0, 3));
    x.wait(2000);
    expect(x.rd(PDMA_INT_EVENT_RIS)).toBe(1 << 3);
    expect(x.rd(PDMA_INTMIS)).toBe(0);
    expect(x.line(3)).toBe(false);
  });

  test('a halted thread reads CSR 2 and a DMAGO on it is a manager fault', () => {
    const x = rig();
    x.wr(PDMA_CHHALT(0), 1);
    x.go(0, copy_prog(x, 1, 2, 0));
    expect(x.rd(PDMA_CSR(0)) & 0xf).toBe(PDMA_CS_HALTED);
    x.exec([0xa0, 0, ...u32(x.dma)]);
    x.wait(200);
    expect(x.rd(PDMA_FSRD)).toBe(1);
  });
});
