// The audio serializer model (sim/hw/i2s.ts): a steady frame clock that plays the TX FIFO and
// fills the RX FIFO whether the driver keeps up or not; underruns and overruns counted, flagged
// and reported; the watermark interrupts; PIO from an interrupt handler, on time and late; a
// cyclic DMA through the controller that never underruns until it is paused under a running
// clock; loopback; the same frames and counts for every seed.
import { describe, expect, test } from 'vitest';
import { machine, plug_i2s, plug_dmac, load_platform, run, run_for_ms, dmesg, codes, all_shapes, read,
  type ShapeName, type I2s, type platform_device } from '../../testing/index.ts';
import { M } from '../../kernel/machine.ts';
import { ioremap, readl, writel } from '../../include/linux/io.ts';
import { devm_platform_ioremap_resource, platform_get_irq, type platform_driver } from '../../include/linux/platform_device.ts';
import { devm_request_irq, IRQ_HANDLED, IRQ_NONE } from '../../include/linux/interrupt.ts';
import { IS_ERR, PTR_ERR } from '../../include/linux/err.ts';
import { dma_alloc_coherent, dma_free_coherent } from '../../include/linux/dma-mapping.ts';
import { GFP_KERNEL } from '../../include/linux/gfp.ts';
import { out } from '../../include/dmalab/ref.ts';
import { copy_to_mem } from '../../include/dmalab/mem.ts';
import { dma_request_chan, dmaengine_slave_config, dmaengine_prep_dma_cyclic, dmaengine_submit, dma_async_issue_pending,
  dmaengine_pause, dmaengine_resume, dmaengine_terminate_sync, DMA_MEM_TO_DEV, DMA_DEV_TO_MEM, DMA_PREP_INTERRUPT,
  DMA_CTRL_ACK, DMA_SLAVE_BUSWIDTH_4_BYTES } from '../../include/linux/dmaengine.ts';
import { dmac_driver } from '../../drivers/dma/dmac.ts';
import { I2S_CTRL, I2S_FIFOCTL, I2S_STATUS, I2S_INTMASK, I2S_INTSTAT, I2S_TXUR_CNT, I2S_RXOR_CNT, I2S_FRAMES,
  I2S_TXDATA, I2S_RXDATA, I2S_CTRL_EN, I2S_CTRL_TXE, I2S_CTRL_RXE, I2S_CTRL_TXDMAE, I2S_CTRL_RXDMAE, I2S_CTRL_LOOP,
  I2S_CTRL_TXFLUSH, I2S_STATUS_TXUR, I2S_STATUS_RXOR, I2S_INT_TX, I2S_INT_RX, I2S_INT_TXUR, I2S_INT_RXOR,
  I2S_FIFOCTL_RXWM_SHIFT } from '../../hw/i2s.ts';

/** 48 kHz from 12.288 MHz / 256. */
const FRAME_NS = 1e9 / 48000;

interface Rig { pdev: platform_device; i2s: I2s; r: (off: number) => number; w: (off: number, v: number) => void }
function i2s_rig(shape: ShapeName = 'x86', seed?: number): Rig {
  machine({ shape, seed });
  const { pdev, i2s } = plug_i2s();
  const base = ioremap(pdev.resource[0]!.start, 0x1000);
  return { pdev, i2s, r: (off) => readl(base + off), w: (off, v) => writel(v, base + off) };
}
const frame = (n: number) => (0x10000 * (n & 0x7fff) + n) >>> 0;

describe('the frame clock', () => {
  test('48 kHz: a frame out per 20.83 us; an empty FIFO plays silence, counts, flags, and dmalab says so once per episode', () => {
    const x = i2s_rig();
    for (let i = 0; i < 16; i++) x.w(I2S_TXDATA, frame(i));
    expect(x.r(I2S_STATUS) & 0x1f).toBe(16);
    const t0 = M.clock.now;
    x.w(I2S_CTRL, I2S_CTRL_EN | I2S_CTRL_TXE);
    M.clock.advance_to(t0 + 10 * FRAME_NS - 50);
    expect(x.i2s.codec.played).toHaveLength(9);
    M.clock.advance_to(t0 + 16 * FRAME_NS + 100);
    expect(x.i2s.codec.played).toEqual(Array.from({ length: 16 }, (_, i) => frame(i)));
    expect(x.r(I2S_TXUR_CNT)).toBe(0);
    M.clock.advance_to(t0 + 20 * FRAME_NS + 100);
    expect(x.r(I2S_TXUR_CNT)).toBe(4);
    expect(x.r(I2S_FRAMES)).toBe(20);
    expect(x.i2s.codec.played.slice(16)).toEqual([0, 0, 0, 0]);
    expect(x.r(I2S_STATUS) & I2S_STATUS_TXUR).toBe(I2S_STATUS_TXUR);
    expect(x.r(I2S_INTSTAT) & I2S_INT_TXUR).toBe(I2S_INT_TXUR);
    x.w(I2S_INTSTAT, I2S_INT_TXUR);
    expect(x.r(I2S_STATUS) & I2S_STATUS_TXUR).toBe(0);
    const said = () => dmesg().filter((l) => l.includes('TX underrun'));
    expect(said()).toEqual(['dmalab: fe000000.i2s: TX underrun: the FIFO was empty at a frame clock, silence played (1 frame so far): the driver (or its DMA) was late refilling it']);
    // Data again ends the episode; the next empty frame starts another.
    x.w(I2S_TXDATA, frame(99));
    M.clock.advance_to(M.clock.now + 3 * FRAME_NS);
    expect(said()).toHaveLength(2);
    x.w(I2S_TXUR_CNT, 0);
    expect(x.r(I2S_TXUR_CNT)).toBe(0);
  });

  test('RX: the codec\'s frames come in one per clock; a full FIFO loses them (RXOR), and dmalab says so', () => {
    const x = i2s_rig();
    x.w(I2S_CTRL, I2S_CTRL_EN | I2S_CTRL_RXE);
    M.clock.advance_to(M.clock.now + 20 * FRAME_NS + 10);
    expect(x.r(I2S_STATUS) >> 8 & 0x1f).toBe(16);
    expect(x.r(I2S_RXOR_CNT)).toBe(4);
    expect(x.r(I2S_STATUS) & I2S_STATUS_RXOR).toBe(I2S_STATUS_RXOR);
    const got = Array.from({ length: 16 }, () => x.r(I2S_RXDATA));
    expect(got).toEqual(Array.from({ length: 16 }, (_, n) => ((n & 0xffff) | ((~n & 0xffff) << 16)) >>> 0));
    expect(dmesg().filter((l) => l.includes('RX overrun'))).toEqual([
      'dmalab: fe000000.i2s: RX overrun: a frame arrived with the FIFO full and is lost (1 frame so far): the driver (or its DMA) was late draining it']);
    expect(x.r(I2S_RXDATA)).toBe(0);
    expect(dmesg().some((l) => l.startsWith('dmalab: fe000000.i2s: RXDATA read with the RX FIFO empty'))).toBe(true);
  });

  test('watermark interrupts follow the levels; the line follows INTSTAT under INTMASK', () => {
    const x = i2s_rig();
    x.w(I2S_FIFOCTL, 4 | 8 << I2S_FIFOCTL_RXWM_SHIFT);
    x.w(I2S_INTMASK, I2S_INT_TX | I2S_INT_RX);
    const asserting = () => M.irq.line(x.pdev._hw.irq[0]!).sources.some((s) => s.asserting());
    expect(x.r(I2S_INTSTAT)).toBe(I2S_INT_TX);
    expect(asserting()).toBe(true);
    for (let i = 0; i < 5; i++) x.w(I2S_TXDATA, i);
    expect(x.r(I2S_INTSTAT)).toBe(0);
    expect(asserting()).toBe(false);
    x.w(I2S_CTRL, I2S_CTRL_EN | I2S_CTRL_TXE | I2S_CTRL_RXE);
    M.clock.advance_to(M.clock.now + FRAME_NS + 10);
    expect(x.r(I2S_INTSTAT) & I2S_INT_TX).toBe(I2S_INT_TX);
    M.clock.advance_to(M.clock.now + 7 * FRAME_NS);
    expect(x.r(I2S_INTSTAT) & I2S_INT_RX).toBe(I2S_INT_RX);
    x.w(I2S_INTMASK, I2S_INT_TXUR | I2S_INT_RXOR);
    x.w(I2S_INTSTAT, I2S_INT_TXUR | I2S_INT_RXOR);
    expect(asserting()).toBe(false);
  });

  test('LOOP: RX hears what TX plays; TXFLUSH empties the FIFO', () => {
    const x = i2s_rig();
    for (let i = 0; i < 6; i++) x.w(I2S_TXDATA, frame(i + 1));
    x.w(I2S_CTRL, I2S_CTRL_EN | I2S_CTRL_TXE | I2S_CTRL_RXE | I2S_CTRL_LOOP);
    M.clock.advance_to(M.clock.now + 4 * FRAME_NS + 10);
    expect(Array.from({ length: 4 }, () => x.r(I2S_RXDATA))).toEqual([1, 2, 3, 4].map(frame));
    x.w(I2S_CTRL, I2S_CTRL_EN | I2S_CTRL_TXE | I2S_CTRL_RXE | I2S_CTRL_LOOP | I2S_CTRL_TXFLUSH);
    expect(x.r(I2S_STATUS) & 0x1f).toBe(0);
    expect(x.r(I2S_CTRL) & I2S_CTRL_TXFLUSH).toBe(0);
  });
});

/** A PIO playback driver: the TX interrupt (level at or below 8) refills the FIFO from a counter. */
function pio_driver(): { drv: platform_driver; next: { n: number } } {
  const next = { n: 0 };
  const drv: platform_driver = {
    probe(pdev) {
      const base = devm_platform_ioremap_resource(pdev, 0);
      if (IS_ERR(base)) return PTR_ERR(base);
      const irq = platform_get_irq(pdev, 0);
      if (irq < 0) return irq;
      const ret = devm_request_irq(pdev.dev, irq, () => {
        if (!(readl(base + I2S_INTSTAT) & I2S_INT_TX)) return IRQ_NONE;
        while ((readl(base + I2S_STATUS) & 0x1f) < 16) writel(frame(next.n++), base + I2S_TXDATA);
        return IRQ_HANDLED;
      }, 0, 'i2s-pio', pdev);
      if (ret) return ret;
      writel(8, base + I2S_FIFOCTL);
      writel(I2S_INT_TX, base + I2S_INTMASK);
      writel(I2S_CTRL_EN | I2S_CTRL_TXE, base + I2S_CTRL);
      return 0;
    },
    driver: { name: 'i2s-pio', of_match_table: [{ compatible: 'dmalab,i2s' }] },
  };
  return { drv, next };
}

describe('PIO', () => {
  test('an interrupt handler that refills at the watermark keeps up: every frame played in order, no underrun', () => {
    machine({ shape: 'arm64' });
    const p = pio_driver();
    load_platform(p.drv);
    const { i2s } = plug_i2s();
    run_for_ms(10);
    expect(i2s.underruns).toBe(0);
    expect(i2s.codec.played.length).toBe(480);
    expect(i2s.codec.played).toEqual(Array.from({ length: 480 }, (_, i) => frame(i)));
    expect(codes()).toEqual([]);
  });

  test('the same handler, late (interrupts delivered 400 us after they are raised): underruns, heard and reported', () => {
    machine({ shape: 'arm64', delay_irqs_ns: 400e3 });
    const p = pio_driver();
    load_platform(p.drv);
    const { i2s } = plug_i2s();
    run_for_ms(10);
    // 8 frames (167 us) were left at the watermark; 400 us later the handler runs: ~11 frames
    // of silence each time.
    expect(i2s.underruns).toBeGreaterThan(100);
    expect(i2s.codec.played.filter((f) => f === 0).length).toBe(i2s.underruns + 1);
    expect(dmesg().filter((l) => l.includes('TX underrun')).length).toBe(8);
  });
});

describe('DMA', () => {
  const FLAGS = DMA_PREP_INTERRUPT | DMA_CTRL_ACK;

  function cyclic(shape: ShapeName, dir: 'tx' | 'rx', seed?: number) {
    machine({ shape, seed });
    load_platform(dmac_driver);
    const d = plug_dmac();
    const { pdev, i2s } = plug_i2s(d);
    const base = ioremap(pdev.resource[0]!.start, 0x1000);
    const chan = run(pdev, () => dma_request_chan(pdev.dev, dir));
    expect(IS_ERR(chan)).toBe(false);
    const dev = chan.device.dev!;
    const len = 4096, period = 1024;
    const h = out(0);
    const ring = run(pdev, () => dma_alloc_coherent(dev, len, h, GFP_KERNEL));
    const frames = new Uint8Array(len);
    const dv = new DataView(frames.buffer);
    for (let i = 0; i < len / 4; i++) dv.setUint32(4 * i, frame(i), true);
    if (dir === 'tx') run(pdev, () => copy_to_mem(ring, frames));
    let periods = 0;
    run(pdev, () => {
      const fifo = pdev.resource[0]!.start + (dir === 'tx' ? I2S_TXDATA : I2S_RXDATA);
      dmaengine_slave_config(chan, dir === 'tx'
        ? { dst_addr: fifo, dst_addr_width: DMA_SLAVE_BUSWIDTH_4_BYTES, dst_maxburst: 8 }
        : { src_addr: fifo, src_addr_width: DMA_SLAVE_BUSWIDTH_4_BYTES, src_maxburst: 8 });
      const desc = dmaengine_prep_dma_cyclic(chan, h.value, len, period, dir === 'tx' ? DMA_MEM_TO_DEV : DMA_DEV_TO_MEM, FLAGS)!;
      desc.callback = () => periods++;
      dmaengine_submit(desc);
      dma_async_issue_pending(chan);
      writel(dir === 'tx' ? 8 : 8 << I2S_FIFOCTL_RXWM_SHIFT, base + I2S_FIFOCTL);
      writel(I2S_CTRL_EN | (dir === 'tx' ? I2S_CTRL_TXE | I2S_CTRL_TXDMAE : I2S_CTRL_RXE | I2S_CTRL_RXDMAE), base + I2S_CTRL);
    });
    return { pdev, i2s, chan, ring, dev, h, len, base, periods: () => periods, frames };
  }

  test.each(all_shapes())('%s: playback from a cyclic ring: the controller keeps the FIFO fed, every frame in order, a callback per period', (shape) => {
    const c = cyclic(shape, 'tx');
    run_for_ms(50);
    const played = c.i2s.codec.played;
    expect(played.length).toBe(2400);
    expect(c.i2s.underruns).toBe(0);
    expect(played.every((f, i) => f === frame(i % 1024))).toBe(true);
    // 256 frames a period: 2400 played plus the 16 in the FIFO and one burst in flight.
    expect(c.periods()).toBe(9);
    run(c.pdev, () => {
      dmaengine_terminate_sync(c.chan);
      writel(0, c.base + I2S_CTRL);
      dma_free_coherent(c.dev, c.len, c.ring, c.h.value);
    });
    expect(codes()).toEqual([]);
  });

  test('capture into a cyclic ring: the codec\'s frames land in order, nothing lost', () => {
    const c = cyclic('arm64', 'rx');
    run_for_ms(30);
    expect(c.i2s.overruns).toBe(0);
    run(c.pdev, () => dmaengine_terminate_sync(c.chan));
    const got = new DataView(read(c.ring, c.len).buffer);
    // 1440 frames came in: the ring wrapped once; slot i holds frame i + 1024 up to where it got.
    const n = c.i2s.codec.captured - c.i2s.rx_count;
    for (let i = 0; i < 1024; i++) {
      const k = i + 1024 < n - (n % 8) ? i + 1024 : i;
      expect(got.getUint32(4 * i, true)).toBe(((k & 0xffff) | ((~k & 0xffff) << 16)) >>> 0);
    }
  });

  test('pausing the DMA under a running frame clock starves the FIFO: underruns; resuming ends them', () => {
    const c = cyclic('x86', 'tx');
    run_for_ms(5);
    run(c.pdev, () => dmaengine_pause(c.chan));
    run_for_ms(2);
    const during = c.i2s.underruns;
    expect(during).toBeGreaterThan(70);
    expect(dmesg().filter((l) => l.includes('TX underrun'))).toHaveLength(1);
    run(c.pdev, () => dmaengine_resume(c.chan));
    run_for_ms(5);
    expect(c.i2s.underruns).toBe(during);
    // Clock stopped first, then the DMA paused: nothing is starved.
    const d = cyclic('x86', 'tx');
    run_for_ms(5);
    run(d.pdev, () => {
      writel(I2S_CTRL_TXDMAE, d.base + I2S_CTRL);
      dmaengine_pause(d.chan);
    });
    run_for_ms(2);
    run(d.pdev, () => {
      dmaengine_resume(d.chan);
      writel(I2S_CTRL_EN | I2S_CTRL_TXE | I2S_CTRL_TXDMAE, d.base + I2S_CTRL);
    });
    run_for_ms(5);
    expect(d.i2s.underruns).toBe(0);
  });

  test('deterministic: the same frames, periods and counts for a seed twice and across seeds', () => {
    const once = (seed: number) => {
      const c = cyclic('arm64-smmu', 'tx', seed);
      run_for_ms(8);
      run(c.pdev, () => dmaengine_pause(c.chan));
      run_for_ms(1);
      return { played: c.i2s.codec.played.slice(), periods: c.periods(), ur: c.i2s.underruns, now: M.clock.now };
    };
    const a = once(1);
    expect(once(1)).toEqual(a);
    expect(once(2)).toEqual(a);
    expect(a.ur).toBeGreaterThan(0);
  });
});
