// The UART model (sim/hw/uart.ts): characters at the programmed baud rate, FIFO flags and
// levels, the RX interrupt at its level, the receive timeout, overruns, loopback, PIO, and its
// DMA request lines driving the DMA controller (sim/hw/dmac.ts with its provider) both ways.
import { describe, expect, test } from 'vitest';
import { machine, plug_uart, plug_dmac, load_platform, run, run_for_ms, dmesg, codes, fill, read, pattern, compare,
  all_shapes, type ShapeName, type Uart, type platform_device } from '../../testing/index.ts';
import { M } from '../../kernel/machine.ts';
import { ioremap, readl, writel } from '../../include/linux/io.ts';
import { kmalloc, GFP_KERNEL } from '../../include/linux/slab.ts';
import { IS_ERR } from '../../include/linux/err.ts';
import { dma_map_single, dma_unmap_single, dma_mapping_error, DMA_TO_DEVICE, DMA_FROM_DEVICE } from '../../include/linux/dma-mapping.ts';
import { dma_request_chan, dmaengine_slave_config, dmaengine_prep_slave_single, dmaengine_submit, dma_async_issue_pending,
  dmaengine_tx_status, dma_tx_state_zero, dmaengine_pause, dmaengine_terminate_sync, DMA_MEM_TO_DEV, DMA_DEV_TO_MEM,
  DMA_PREP_INTERRUPT, DMA_CTRL_ACK, DMA_SLAVE_BUSWIDTH_1_BYTE, DMA_PAUSED } from '../../include/linux/dmaengine.ts';
import { dmac_driver } from '../../drivers/dma/dmac.ts';
import { UART_DR, UART_FR, UART_IBRD, UART_FBRD, UART_LCRH, UART_CR, UART_IFLS, UART_IMSC, UART_RIS, UART_MIS, UART_ICR,
  UART_DMACR, UART_RSR, UART_FR_BUSY, UART_FR_RXFE, UART_FR_TXFE, UART_FR_TXFF, UART_FR_RXFF, UART_LCRH_FEN,
  UART_LCRH_WLEN_8, UART_CR_UARTEN, UART_CR_TXE, UART_CR_RXE, UART_CR_LBE, UART_RXIS, UART_TXIS, UART_RTIS, UART_OEIS,
  UART_RXDMAE, UART_TXDMAE, UART_DR_OE, UART_RSR_OE } from '../../hw/uart.ts';

/** 115200 baud from 24 MHz: 13 + 1/64, so a bit is 8677 ns and a character (8N1) 86771 ns. */
const CHAR_NS = 86771;

interface Rig { pdev: platform_device; uart: Uart; base: number; r: (off: number) => number; w: (off: number, v: number) => void }

function uart_rig(o: { shape?: ShapeName; seed?: number; dma?: boolean; fifo?: boolean; lines?: number } = {}): Rig & { ctrl?: platform_device } {
  machine({ shape: o.shape ?? 'x86', seed: o.seed });
  let ctrl: platform_device | undefined;
  let u: { pdev: platform_device; uart: Uart };
  if (o.dma) {
    load_platform(dmac_driver);
    const d = plug_dmac();
    ctrl = d.pdev;
    u = plug_uart(d);
  } else {
    u = plug_uart();
  }
  const base = ioremap(u.pdev.resource[0]!.start, 0x1000);
  const r = (off: number) => readl(base + off), w = (off: number, v: number) => writel(v, base + off);
  w(UART_IBRD, 13);
  w(UART_FBRD, 1);
  w(UART_LCRH, UART_LCRH_WLEN_8 | (o.fifo === false ? 0 : UART_LCRH_FEN));
  w(UART_CR, UART_CR_UARTEN | UART_CR_TXE | UART_CR_RXE | (o.lines ?? 0));
  return { ...u, base, r, w, ctrl };
}

/** Drain the RX FIFO by PIO, as a driver's rx_chars loop does. */
function drain(x: Rig): number[] {
  const got: number[] = [];
  while (!(x.r(UART_FR) & UART_FR_RXFE)) got.push(x.r(UART_DR) & 0xff);
  return got;
}

describe('timing and flags', () => {
  test('the divisor paces the line: a character per 10 bit times at 115200 8N1, from the LCR_H write on', () => {
    const x = uart_rig();
    expect(x.uart.char_ns()).toBe(CHAR_NS);
    const t0 = M.clock.now;
    x.uart.remote.send([1, 2, 3]);
    M.clock.advance_to(t0 + 3 * CHAR_NS - 10);
    expect(x.uart.rx_count).toBe(2);
    M.clock.advance_to(t0 + 3 * CHAR_NS);
    expect(x.uart.rx_count).toBe(3);
    expect(drain(x)).toEqual([1, 2, 3]);
    // A new divisor only counts once LCR_H is written.
    x.w(UART_IBRD, 1);
    x.w(UART_FBRD, 0);
    expect(x.uart.char_ns()).toBe(CHAR_NS);
    x.w(UART_LCRH, UART_LCRH_WLEN_8 | UART_LCRH_FEN);
    expect(x.uart.char_ns()).toBe(6667);
  });

  test('TX: BUSY while characters go out, TXFE once the FIFO is empty, TXFF at 32, the far end hears them in order', () => {
    const x = uart_rig();
    expect(x.r(UART_FR) & (UART_FR_TXFE | UART_FR_BUSY)).toBe(UART_FR_TXFE);
    for (let i = 0; i < 33; i++) x.w(UART_DR, 0x40 + i);
    // One went straight to the shift register: 32 wait, the FIFO is full.
    expect(x.r(UART_FR) & UART_FR_TXFF).toBe(UART_FR_TXFF);
    expect(x.uart.tx_dropped).toBe(0);
    x.w(UART_DR, 0x7f);
    expect(x.uart.tx_dropped).toBe(1);
    expect(dmesg().some((l) => /^dmalab: fe000000\.serial: DR written with the TX FIFO full/.test(l))).toBe(true);
    const t0 = M.clock.now;
    M.clock.advance_to(t0 + 10 * CHAR_NS);
    expect(x.uart.remote.heard.length).toBe(10);
    expect(x.r(UART_FR) & UART_FR_BUSY).toBe(UART_FR_BUSY);
    M.clock.advance_to(t0 + 34 * CHAR_NS);
    expect(x.uart.remote.heard).toEqual(Array.from({ length: 33 }, (_, i) => 0x40 + i));
    expect(x.r(UART_FR) & (UART_FR_TXFE | UART_FR_BUSY)).toBe(UART_FR_TXFE);
  });

  test('TXE off or UARTEN off: nothing goes out until they are set', () => {
    const x = uart_rig();
    x.w(UART_CR, UART_CR_RXE | UART_CR_TXE);
    x.w(UART_DR, 0x55);
    run_for_ms(1);
    expect(x.uart.remote.heard).toEqual([]);
    x.w(UART_CR, UART_CR_UARTEN | UART_CR_TXE | UART_CR_RXE);
    run_for_ms(1);
    expect(x.uart.remote.heard).toEqual([0x55]);
  });

  test('without FEN the FIFOs are one character deep', () => {
    const x = uart_rig({ fifo: false });
    x.uart.remote.send([1, 2]);
    M.clock.advance_to(M.clock.now + 2 * CHAR_NS);
    expect(x.r(UART_FR) & UART_FR_RXFF).toBe(UART_FR_RXFF);
    expect(x.uart.overruns).toBe(1);
    expect(x.r(UART_DR)).toBe(1 | UART_DR_OE);
  });
});

describe('interrupts', () => {
  test('RX at the FIFO level (1/2: 16), cleared by reading below it; MIS is RIS under IMSC; the line follows', () => {
    const x = uart_rig();
    x.w(UART_IMSC, UART_RXIS);
    x.uart.remote.send(pattern(20, 1));
    M.clock.advance_to(M.clock.now + 15 * CHAR_NS + 1);
    expect(x.r(UART_RIS) & UART_RXIS).toBe(0);
    M.clock.advance_to(M.clock.now + CHAR_NS);
    expect(x.r(UART_RIS) & UART_RXIS).toBe(UART_RXIS);
    expect(x.r(UART_MIS)).toBe(UART_RXIS);
    expect(x.pdev._hw.irq.length).toBe(1);
    expect(M.irq.line(x.pdev._hw.irq[0]!).sources.some((s) => s.asserting())).toBe(true);
    x.r(UART_DR);
    expect(x.r(UART_RIS) & UART_RXIS).toBe(0);
    expect(M.irq.line(x.pdev._hw.irq[0]!).sources.some((s) => s.asserting())).toBe(false);
    // IFLS RX 1/8: 4 characters.
    x.w(UART_IFLS, 0 << 3 | 2);
    drain(x);
    x.uart.remote.send([1, 2, 3, 4]);
    run_for_ms(1);
    expect(x.r(UART_RIS) & UART_RXIS).toBe(UART_RXIS);
  });

  test('the receive timeout: characters below the level raise RT 32 bit periods after the last one; emptying clears it', () => {
    const x = uart_rig();
    x.w(UART_IMSC, UART_RXIS | UART_RTIS);
    const t0 = M.clock.now;
    x.uart.remote.send([9, 8, 7, 6, 5]);
    const last = t0 + 5 * CHAR_NS, rt = Math.round(32 * x.uart.bit_ns());
    M.clock.advance_to(last + rt - 5000);
    expect(x.r(UART_RIS) & (UART_RXIS | UART_RTIS)).toBe(0);
    M.clock.advance_to(last + rt + 5000);
    expect(x.r(UART_RIS) & UART_RTIS).toBe(UART_RTIS);
    expect(drain(x)).toEqual([9, 8, 7, 6, 5]);
    expect(x.r(UART_RIS) & UART_RTIS).toBe(0);
    // An empty FIFO never times out.
    run_for_ms(5);
    expect(x.r(UART_RIS)).toBe(0);
  });

  test('TX: raised when a character leaving takes the FIFO to its level, cleared by refilling above it or by ICR', () => {
    const x = uart_rig();
    x.w(UART_IMSC, UART_TXIS);
    expect(x.r(UART_RIS) & UART_TXIS).toBe(0);
    for (let i = 0; i < 20; i++) x.w(UART_DR, i);
    // 19 wait; 3 more out and 16 are left: at the level.
    M.clock.advance_to(M.clock.now + 3 * CHAR_NS - 10);
    expect(x.r(UART_RIS) & UART_TXIS).toBe(UART_TXIS);
    x.w(UART_DR, 0x20);
    expect(x.r(UART_RIS) & UART_TXIS).toBe(0);
    M.clock.advance_to(M.clock.now + CHAR_NS);
    expect(x.r(UART_RIS) & UART_TXIS).toBe(UART_TXIS);
    x.w(UART_ICR, UART_TXIS);
    expect(x.r(UART_RIS) & UART_TXIS).toBe(0);
  });

  test('overrun: the 33rd character is lost, OE on the last one kept and in RSR, one dmalab line per episode', () => {
    const x = uart_rig();
    x.uart.remote.send(pattern(40, 2));
    run_for_ms(5);
    expect(x.uart.overruns).toBe(8);
    expect(x.r(UART_RIS) & UART_OEIS).toBe(UART_OEIS);
    expect(x.r(UART_RSR)).toBe(UART_RSR_OE);
    const got = [];
    while (!(x.r(UART_FR) & UART_FR_RXFE)) got.push(x.r(UART_DR));
    expect(got.map((c) => c & 0xff)).toEqual([...pattern(32, 2)]);
    expect(got[31]! & UART_DR_OE).toBe(UART_DR_OE);
    expect(got.slice(0, 31).every((c) => !(c & UART_DR_OE))).toBe(true);
    x.w(UART_RSR, 0);
    expect(x.r(UART_RSR)).toBe(0);
    const lines = dmesg().filter((l) => l.includes('RX FIFO overrun'));
    expect(lines).toEqual(['dmalab: fe000000.serial: RX FIFO overrun: a character arrived with the FIFO full and is lost (1 lost so far): nothing drained the FIFO in time']);
    x.uart.remote.send(pattern(34, 3));
    run_for_ms(5);
    expect(dmesg().filter((l) => l.includes('RX FIFO overrun'))).toHaveLength(2);
  });
});

describe('loopback and the far end', () => {
  test('LBE: what goes out comes back in; the line is not listened to', () => {
    const x = uart_rig({ lines: UART_CR_LBE });
    for (const c of [0xde, 0xad]) x.w(UART_DR, c);
    x.uart.remote.send([1]);
    run_for_ms(1);
    expect(drain(x)).toEqual([0xde, 0xad]);
    expect(x.uart.remote.heard).toEqual([]);
    expect(x.uart.rx_ignored).toBe(1);
  });

  test('an echoing far end sends back what it heard, one character time later', () => {
    const x = uart_rig();
    x.uart.remote.echo = true;
    const t0 = M.clock.now;
    x.w(UART_DR, 0x31);
    M.clock.advance_to(t0 + 2 * CHAR_NS - 10);
    expect(x.uart.rx_count).toBe(0);
    M.clock.advance_to(t0 + 2 * CHAR_NS + 10);
    expect(drain(x)).toEqual([0x31]);
  });
});

describe('DMA', () => {
  const FLAGS = DMA_PREP_INTERRUPT | DMA_CTRL_ACK;

  /** RX through the controller: a 256-byte buffer, the requests at the RX level (16), bursts of 8. */
  function rx_by_dma(shape: ShapeName, seed: number, n: number) {
    const x = uart_rig({ shape, seed, dma: true });
    const buf = run(x.pdev, () => kmalloc(256, GFP_KERNEL));
    fill(buf, new Uint8Array(256));
    let done = 0;
    const st = dma_tx_state_zero();
    const chan = run(x.pdev, () => dma_request_chan(x.pdev.dev, 'rx'));
    expect(IS_ERR(chan)).toBe(false);
    const dev = chan.device.dev!;
    const h = run(x.pdev, () => {
      dmaengine_slave_config(chan, { src_addr: x.pdev.resource[0]!.start + UART_DR, src_addr_width: DMA_SLAVE_BUSWIDTH_1_BYTE, src_maxburst: 8 });
      const h = dma_map_single(dev, buf, 256, DMA_FROM_DEVICE);
      expect(dma_mapping_error(dev, h)).toBe(0);
      const d = dmaengine_prep_slave_single(chan, h, 256, DMA_DEV_TO_MEM, FLAGS)!;
      d.callback = () => done++;
      const cookie = dmaengine_submit(d);
      dma_async_issue_pending(chan);
      x.w(UART_DMACR, UART_RXDMAE);
      x.w(UART_IMSC, UART_RTIS);
      x.uart.remote.send(pattern(n, seed));
      run_for_ms(40);
      dmaengine_pause(chan);
      expect(dmaengine_tx_status(chan, cookie, st)).toBe(n >= 256 ? 0 : DMA_PAUSED);
      dmaengine_terminate_sync(chan);
      dma_unmap_single(dev, h, 256, DMA_FROM_DEVICE);
      return h;
    });
    void h;
    return { x, buf, done, residue: st.residue, mem: read(buf, 256) };
  }

  test.each(all_shapes())('%s: RX: bursts of 8 at the level, the rest waits for the timeout; the residue says how far it got', (shape) => {
    const { x, done, residue, mem } = rx_by_dma(shape, 1, 100);
    expect(done).toBe(0);
    // 100 characters: the controller took bursts while 16 or more waited: 88, leaving 12.
    expect(256 - residue).toBe(88);
    expect(compare(mem.subarray(0, 88), pattern(100, 1).subarray(0, 88))).toBe(null);
    expect(x.r(UART_RIS) & UART_RTIS).toBe(UART_RTIS);
    expect(drain(x)).toEqual([...pattern(100, 1).subarray(88)]);
    expect(x.uart.overruns).toBe(0);
    expect(codes()).toEqual([]);
  });

  test('RX: a full buffer completes by its callback', () => {
    const { done, mem } = rx_by_dma('arm64', 2, 300);
    expect(done).toBe(1);
    expect(compare(mem, pattern(300, 2).subarray(0, 256))).toBe(null);
  });

  test('RX: a burst larger than the RX level reads an empty FIFO, and dmalab says so', () => {
    const x = uart_rig({ dma: true });
    x.w(UART_IFLS, 0 << 3 | 2);
    const chan = run(x.pdev, () => dma_request_chan(x.pdev.dev, 'rx'));
    const buf = run(x.pdev, () => kmalloc(64, GFP_KERNEL));
    run(x.pdev, () => {
      const dev = chan.device.dev!;
      dmaengine_slave_config(chan, { src_addr: x.pdev.resource[0]!.start, src_addr_width: DMA_SLAVE_BUSWIDTH_1_BYTE, src_maxburst: 16 });
      const h = dma_map_single(dev, buf, 64, DMA_FROM_DEVICE);
      expect(dma_mapping_error(dev, h)).toBe(0);
      dmaengine_submit(dmaengine_prep_slave_single(chan, h, 64, DMA_DEV_TO_MEM, FLAGS)!);
      dma_async_issue_pending(chan);
      x.w(UART_DMACR, UART_RXDMAE);
      x.uart.remote.send(pattern(8, 4));
      run_for_ms(5);
      dmaengine_terminate_sync(chan);
      dma_unmap_single(dev, h, 64, DMA_FROM_DEVICE);
    });
    expect(x.uart.empty_reads).toBeGreaterThan(0);
    expect(dmesg().some((l) => l.startsWith('dmalab: fe010000.serial: DR read with the RX FIFO empty (it reads 0)'))).toBe(true);
  });

  test.each(all_shapes())('%s: TX: the controller keeps the FIFO topped up, the line sets the pace', (shape) => {
    const x = uart_rig({ shape, dma: true });
    const n = 200;
    const buf = run(x.pdev, () => kmalloc(n, GFP_KERNEL));
    fill(buf, pattern(n, 5));
    let done_at = 0;
    const chan = run(x.pdev, () => dma_request_chan(x.pdev.dev, 'tx'));
    const dev = chan.device.dev!;
    const t0 = M.clock.now;
    run(x.pdev, () => {
      dmaengine_slave_config(chan, { dst_addr: x.pdev.resource[0]!.start + UART_DR, dst_addr_width: DMA_SLAVE_BUSWIDTH_1_BYTE, dst_maxburst: 16 });
      const h = dma_map_single(dev, buf, n, DMA_TO_DEVICE);
      expect(dma_mapping_error(dev, h)).toBe(0);
      const d = dmaengine_prep_slave_single(chan, h, n, DMA_MEM_TO_DEV, FLAGS)!;
      d.callback = () => { done_at = M.clock.now; };
      dmaengine_submit(d);
      dma_async_issue_pending(chan);
      x.w(UART_DMACR, UART_TXDMAE);
      run_for_ms(30);
      dma_unmap_single(dev, h, n, DMA_TO_DEVICE);
    });
    expect(compare(Uint8Array.from(x.uart.remote.heard), pattern(n, 5))).toBe(null);
    expect(x.uart.tx_dropped).toBe(0);
    // The DMA is done when the last burst is in the FIFO: about 32 characters before the line is.
    const chars = (done_at - t0) / CHAR_NS;
    expect(chars).toBeGreaterThan(n - 34);
    expect(chars).toBeLessThan(n - 15);
    expect(codes()).toEqual([]);
  });

  test('deterministic: a seed run twice gives the same trace; the line timing does not depend on the seed', () => {
    const once = (seed: number) => {
      const r = rx_by_dma('arm64-smmu', seed, 77);
      const lines = M.trace.tail(400);
      const writes = lines.filter((l) => l.includes('device_dma_write')).map((l) => `${l.split(': ')[0]} ${/size=\d+/.exec(l)![0]}`);
      return { residue: r.residue, now: M.clock.now, lines, writes };
    };
    const a = once(11), b = once(11), c = once(12);
    expect(b).toEqual(a);
    expect(a.writes.length).toBe(8);
    expect([c.residue, c.now, c.writes]).toEqual([a.residue, a.now, a.writes]);
  });
});
