// Hidden tests of exercise 12 (dmaengine-slave): duart drives the sim's PL011-flavoured UART,
// wired to two channels of the bundled DMA controller. What the far end hears and what the driver
// receives is checked on every machine, by DMA where the machine allows it and by PIO where it
// does not (no "dmas", no channel left, a controller without pause or per-burst residue); so are
// probe deferral, the receive timeout's residue, a failed mapping, a lost TX interrupt, unbind in
// the middle of both directions (on a provider that stops late, too) and the probe's fault sweep.
import { describe, test } from 'vitest';
import { load_driver } from '../lib/target.ts';
import { run, lesson_opts, Stop, type Run } from './lib/harness.ts';
import { load, plug, expect_bound, unbind, call } from './lib/platform.ts';
import { duart_send, duart_receive, duart_line_checks } from './lib/duart.ts';
import { plug_ctrl, ctrl_of, apply_variant, type Ctrl, type Variant } from './lib/providers.ts';
import { M, pattern, fill, read, plug_uart, plug_dmac, load_platform, run_for_ms, type platform_device,
  type ShapeName, type DmacOptions, type Uart } from '#sim/testing';
import { kmalloc, kfree, GFP_KERNEL } from '#sim';
import { dmac_driver } from '../../sim/drivers/dma/dmac.ts';
import type * as Solution from '../../solutions/12-dmaengine-slave/driver.ts';

const drv = await load_driver<typeof Solution>('12-dmaengine-slave');
const L = 'lessons/12-dmaengine-slave.md';
const ALL: ShapeName[] = ['x86', 'x86-iommu', 'x86-swiotlb', 'arm64', 'arm64-smmu'];
const ETIMEDOUT = -110;
const RX_LINE = 3, TX_LINE = 4;

interface Rig { ctrl: Ctrl | null; pdev: platform_device; uart: Uart; u: Solution.duart }

const opts = lesson_opts(L);

function driver_data(r: Run, pdev: platform_device): Solution.duart {
  const u = pdev.dev.driver_data as Solution.duart | null;
  if (!u?.regs) {
    r.finding('WRONG_RESULT', 'probe succeeded but did not keep its duart with platform_set_drvdata(pdev, u)');
    throw new Stop('no driver data');
  }
  return u;
}

/** The controller bound (with a variant and options), duart loaded, the UART plugged on lines
 *  RX_LINE / TX_LINE (or with no "dmas" when dma is false). */
function setup(r: Run, o: { v?: Variant; dmac?: DmacOptions; dma?: boolean; nth?: number } = {}): Rig {
  let ctrl: Ctrl | null = null;
  if (o.dma ?? true) {
    ctrl = ctrl_of(plug_ctrl(o.dmac));
    apply_variant(ctrl, o.v ?? 'bundled', o.nth);
  }
  load(r, drv.duart_driver);
  const { pdev, uart } = plug(r, 'duart', () => ctrl ? plug_uart(ctrl, { rx: RX_LINE, tx: TX_LINE }) : plug_uart());
  expect_bound(r, pdev, drv.duart_driver);
  return { ctrl, pdev, uart, u: driver_data(r, pdev) };
}

/** Streaming mappings the controller's device holds (the FIFO's dma_map_resource() excepted). */
function mapped(x: Rig): number {
  if (!x.ctrl) return 0;
  const d = M.dbg;
  return d.entries_of(x.ctrl.pdev.dev).filter((e) => d.e_type[e] === 0 || d.e_type[e] === 1).length;
}

/** dmaengine_submit events on the controller so far. */
function submits(): number {
  return M.trace.tail(100000).filter((l) => l.includes('dmaengine_submit:')).length;
}

function require_dma(r: Run, x: Rig, dir: 'tx' | 'rx', before: number): boolean {
  if (x.u[dir] && submits() > before) return true;
  r.finding('WRONG_RESULT', `the driver moved the bytes by PIO (u.${dir} ${x.u[dir] ? 'set, but nothing was submitted' : 'is null'}): this exercise is about doing it with the DMA engine`);
  return false;
}

/** duart_write / duart_read of this file's driver (grader/tests/lib/duart.ts): every buffer must
 *  be unmapped from the controller by the time the call returns. */
const send = (r: Run, x: Rig, len: number, seed: number) => duart_send(r, x, drv, len, seed, () => mapped(x));
const receive = (r: Run, x: Rig, len: number, seed: number) => duart_receive(r, x, drv, len, seed, { mapped: () => mapped(x) });

function teardown(r: Run, x: Rig): void {
  duart_line_checks(r, x);
  const chans = [x.u.rx, x.u.tx].filter((c) => c);
  unbind(r, x.pdev);
  for (const c of chans) if (c!.client_count) r.finding('DMAENGINE_CHAN_LEAK', `after unbind, ${c!.name} is still held`);
  if (x.ctrl) unbind(r, x.ctrl.pdev);
}

describe('sending and receiving by DMA', () => {
  for (const shape of ALL) {
    test(`sends of 1, 7, 16, 100 and 4096 characters by DMA arrive whole and in order (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'sending'), (r) => {
        const x = setup(r);
        const before = submits();
        for (const [i, len] of [1, 7, 16, 100, 4096].entries()) if (!send(r, x, len, 0x1200 + i)) break;
        require_dma(r, x, 'tx', before);
        teardown(r, x);
      });
    });
    test(`a full 4096-character receive (the callback) and a 100-character message (the receive timeout) (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'receiving-the-fifo-timeout-and-the-residue'), (r) => {
        const x = setup(r);
        const before = submits();
        if (receive(r, x, 4096, 0x1210) && require_dma(r, x, 'rx', before)) receive(r, x, 100, 0x1211);
        teardown(r, x);
      });
    });
  }

  for (const shape of ['x86', 'arm64', 'arm64-smmu'] as ShapeName[]) {
    test(`messages of seeded lengths 1..300, each ending anywhere in a burst: each read returns exactly its message (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'receiving-the-fifo-timeout-and-the-residue'), (r) => {
        const x = setup(r);
        let s = r.m.seed >>> 0 || 1;
        const before = submits();
        for (let i = 0; i < 16; i++) {
          s = (Math.imul(s, 1103515245) + 12345) >>> 0;
          const len = i < 2 ? [96, 97][i]! : 1 + (s >>> 8) % 300;
          if (!receive(r, x, len, 0x1220 + i)) break;
        }
        require_dma(r, x, 'rx', before);
        teardown(r, x);
      });
    });
  }

  for (const shape of ['x86', 'arm64'] as ShapeName[]) {
    test(`16 KiB sent back to back, read in 4 KiB reads: no overrun, every character right (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'receiving-the-fifo-timeout-and-the-residue'), (r) => {
        const x = setup(r);
        const total = 16384, data = pattern(total, 0x1230);
        x.uart.remote.send(data, 1e6);
        const buf = kmalloc(4096, GFP_KERNEL);
        const got: number[] = [];
        while (got.length < total) {
          const ret = call(r, x.pdev, 'duart_read(u, buf, 4096, 100)', () => drv.duart_read(x.u, buf, 4096, 100));
          if (typeof ret !== 'number' || ret <= 0) {
            r.finding('WRONG_RESULT', `duart_read(u, buf, 4096, 100) returned ${ret} after ${got.length} of ${total} characters`);
            break;
          }
          got.push(...read(buf, ret));
        }
        kfree(buf);
        r.expect_bytes(`the ${total} characters read`, Uint8Array.from(got), data.subarray(0, got.length));
        teardown(r, x);
      });
    });
  }
});

describe('probe: channels, deferral and PIO', () => {
  for (const shape of ['x86', 'arm64-smmu'] as ShapeName[]) {
    test(`the controller probes after the UART: -EPROBE_DEFER first, then bound with DMA (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'probe-deferral'), (r) => {
        const node = plug_dmac();   // described, its driver not loaded yet
        load(r, drv.duart_driver);
        const { pdev, uart } = plug(r, 'duart', () => plug_uart(node, { rx: RX_LINE, tx: TX_LINE }));
        if (pdev.dev.driver) r.finding('WRONG_RESULT', 'duart bound before its DMA controller did: probe must return -EPROBE_DEFER from dma_request_chan()');
        plug(r, 'dmac', () => load_platform(dmac_driver));
        const ctrl = { ...ctrl_of(node), d: node.pdev.dev.driver_data as Ctrl['d'] };
        expect_bound(r, pdev, drv.duart_driver);
        const x: Rig = { ctrl, pdev, uart, u: driver_data(r, pdev) };
        const before = submits();
        if (send(r, x, 100, 0x1240) && receive(r, x, 50, 0x1241)) {
          require_dma(r, x, 'tx', before);
          require_dma(r, x, 'rx', before);
        }
        teardown(r, x);
      });
    });
  }

  const pio_cases: [string, string, { dma?: boolean; dmac?: DmacOptions }, boolean][] = [
    ['no "dmas" in the node: PIO both ways', 'falling-back-to-pio', { dma: false }, false],
    ['a controller with one channel: PIO, the channel given back', 'falling-back-to-pio', { dmac: { channels: 1 } }, false],
    ['segment residue: RX by PIO, TX by DMA', 'receiving-the-fifo-timeout-and-the-residue', { dmac: { residue: 'segment' } }, true],
    ['descriptor residue: RX by PIO, TX by DMA', 'receiving-the-fifo-timeout-and-the-residue', { dmac: { residue: 'descriptor' } }, true],
    ['a controller that cannot pause: RX by PIO, TX by DMA', 'receiving-the-fifo-timeout-and-the-residue', { dmac: { pause: false } }, true],
  ];
  for (const [name, section, o, tx_dma] of pio_cases) {
    test(`${name}; the data right (x86)`, (ctx) => {
      run(ctx, opts('x86', section), (r) => {
        const x = setup(r, o);
        if (x.u.rx) r.finding('WRONG_RESULT', `u.rx is ${x.u.rx.name}: RX DMA needs two channels, pause and a per-burst residue; use PIO here`);
        if (!!x.u.tx !== tx_dma) r.finding('WRONG_RESULT', tx_dma ? 'u.tx is null: TX by DMA works on this controller' : `u.tx is ${x.u.tx!.name}: there is no DMA pair here, use PIO`);
        if (send(r, x, 300, 0x1250)) receive(r, x, 300, 0x1251);
        teardown(r, x);
      });
    });
  }

  for (const shape of ['x86', 'arm64-smmu'] as ShapeName[]) {
    test(`fault sweep over probe: every failure unwound, a channel that cannot be had means PIO (${shape})`, (ctx) => {
      let points = 0;
      for (let n = 0; n === 0 || n <= points; n++) {
        run(ctx, opts(shape, 'falling-back-to-pio', { allow: [] }), (r) => {
          const ctrl = ctrl_of(plug_ctrl());
          load(r, drv.duart_driver);
          const f = r.m.faults, base = f.count;
          if (n) f.fail_nth = base + n;
          const { pdev, uart } = plug(r, 'duart', () => plug_uart(ctrl, { rx: RX_LINE, tx: TX_LINE }));
          if (!n) points = f.count - base;
          const kind = f.injected?.kind;
          if (pdev.dev.driver) {
            const x: Rig = { ctrl, pdev, uart, u: driver_data(r, pdev) };
            if (send(r, x, 40, 0x1260 + n)) receive(r, x, 40, 0x1270 + n);
            teardown(r, x);
          } else {
            if (!n || kind === 'dma_chan') expect_bound(r, pdev, drv.duart_driver);
            unbind(r, ctrl.pdev);
          }
        });
      }
    });
  }
});

describe('when things go wrong', () => {
  test('the RX buffer cannot be mapped: that read by PIO, the data right (x86-iommu)', (ctx) => {
    run(ctx, opts('x86-iommu', 'falling-back-to-pio'), (r) => {
      const x = setup(r);
      const f = r.m.faults;
      f.only = new Set(['dma_map']);
      f.fail_nth = f.count + 1;
      receive(r, x, 200, 0x1280);
      f.fail_nth = 0;
      if (!f.injected) r.finding('WRONG_RESULT', 'the read never mapped its buffer: RX by DMA was expected here');
      receive(r, x, 200, 0x1281);
      teardown(r, x);
    });
  });

  test('the TX interrupt is lost: -ETIMEDOUT, the channel stopped before the unmap, the next write works (x86)', (ctx) => {
    run(ctx, opts('x86', 'stopping-before-freeing'), (r) => {
      const x = setup(r, { v: 'never_completes' });
      const buf = kmalloc(256, GFP_KERNEL);
      fill(buf, pattern(256, 0x1290));
      const what = 'duart_write(u, buf, 256) whose completion interrupt is lost';
      r.expect_result(what, call(r, x.pdev, what, () => drv.duart_write(x.u, buf, 256)), ETIMEDOUT);
      kfree(buf);
      run_for_ms(40);
      x.uart.remote.heard.length = 0;
      send(r, x, 100, 0x1291);
      teardown(r, x);
    });
  });

  for (const shape of ALL) {
    test(`unbind in the middle of a 4096-character receive: stopped before anything is unmapped, nothing after (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'stopping-before-freeing'), (r) => {
        const x = setup(r);
        const buf = kmalloc(4096, GFP_KERNEL);
        x.uart.remote.send(pattern(4096, 0x12a0));
        const ret = call(r, x.pdev, 'duart_rx_start(u, buf, 4096)', () => drv.duart_rx_start(x.u, buf, 4096));
        if (r.expect_result('duart_rx_start(u, buf, 4096)', ret, 0)) {
          run_for_ms(100);
          teardown(r, x);
        }
        run_for_ms(20);
        kfree(buf);
        run_for_ms(20);
      });
    });
  }

  for (const shape of ['x86-iommu', 'arm64'] as ShapeName[]) {
    test(`unbind in the middle of a 4096-character send, on a provider that stops 50 µs after terminate returns (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'stopping-before-freeing'), (r) => {
        const x = setup(r, { v: 'lazy_terminate' });
        const buf = kmalloc(4096, GFP_KERNEL);
        fill(buf, pattern(4096, 0x12b0));
        const ret = call(r, x.pdev, 'duart_tx_start(u, buf, 4096)', () => drv.duart_tx_start(x.u, buf, 4096));
        if (r.expect_result('duart_tx_start(u, buf, 4096)', ret, 0)) {
          run_for_ms(100);
          unbind(r, x.pdev);
          kfree(buf);
          run_for_ms(20);
          unbind(r, x.ctrl!.pdev);
        }
      });
    });
  }
});
