// Hidden tests of exercise 14 (dma-controller): the learner's provider for pdma, graded as clients
// see it. dmatest's memcpy threads on every channel (callbacks and polled), long copies, a queue
// of copies in order; the reference solutions of exercises 11-13 run unchanged on it (their
// copies, the UART's receive timeout with its residue, the audio ring's pointer and pause); the
// residue of a running transfer against the model's count; terminate with a transfer running,
// then a watch that the controller moves nothing more; a bus fault as a result; a controller
// without CHHALT; prep in atomic context; a slow debug interface; the probe's fault sweep. Every
// test ends with the clients and the provider unbound and every program back in its pool.
import { describe, test } from 'vitest';
import { load_driver } from '../lib/target.ts';
import { run, lesson_opts, Stop, type Run } from './lib/harness.ts';
import { load, plug, expect_bound, unbind, call } from './lib/platform.ts';
import { plug_provider, unbind_provider, expect_pool_empty, type Prov } from './lib/pdma.ts';
import { duart_send, duart_receive, duart_line_checks } from './lib/duart.ts';
import { dmatest_run, type dmatest_params } from './lib/dmatest.ts';
import { M, pattern, fill, read, plug_node, plug_pdma, plug_uart, plug_i2s, run_for_ms, type ShapeName, type PdmaOptions,
  type platform_device } from '#sim/testing';
import { kmalloc, kfree, GFP_KERNEL } from '#sim';
import { spin_lock_irqsave, spin_unlock_irqrestore, DEFINE_SPINLOCK } from '#linux/spinlock';
import { dma_map_single, dma_unmap_single, dma_mapping_error, dma_map_sg, dma_unmap_sg, DMA_TO_DEVICE, DMA_FROM_DEVICE } from '#linux/dma-mapping';
import { sg_array, sg_init_table, sg_set_buf } from '#linux/scatterlist';
import { readl, writel } from '#linux/io';
import { dma_request_channel, dma_release_channel, dma_cap_mask, dma_cap_set, dma_get_slave_caps, dma_slave_caps_zero,
  dmaengine_prep_dma_memcpy, dmaengine_prep_slave_sg, dmaengine_submit, dma_async_issue_pending, dmaengine_terminate_sync, dmaengine_tx_status,
  dma_tx_state_zero, dma_async_is_tx_complete, DMA_MEMCPY, DMA_SLAVE, DMA_CYCLIC, DMA_MEM_TO_DEV,
  DMA_PREP_INTERRUPT, DMA_CTRL_ACK, DMA_COMPLETE, DMA_TRANS_NOERROR, DMA_TRANS_READ_FAILED, DMA_TRANS_WRITE_FAILED,
  DMA_RESIDUE_GRANULARITY_BURST, type dma_chan, type dmaengine_result } from '#linux/dmaengine';
import * as s11 from '../../solutions/11-dmaengine-memcpy/driver.ts';
import * as s12 from '../../solutions/12-dmaengine-slave/driver.ts';
import * as s13 from '../../solutions/13-dmaengine-cyclic/driver.ts';
import type * as Solution from '../../solutions/14-dma-controller/driver.ts';

const drv = await load_driver<typeof Solution>('14-dma-controller');
const L = 'lessons/14-dma-controller.md';
const ALL: ShapeName[] = ['x86', 'x86-iommu', 'x86-swiotlb', 'arm64', 'arm64-smmu'];
/** Where the clients of 11-13 run: a coherent PC, a non-coherent arm64, one behind an SMMU. */
const CLIENT_SHAPES: ShapeName[] = ['x86', 'arm64', 'arm64-smmu'];
const RX_LINE = 3, TX_LINE = 4, PCM_TX = 6, PCM_RX = 7;

const opts = lesson_opts(L);

function provider(r: Run, o: PdmaOptions = {}): Prov {
  return plug_provider(r, drv.pdma_driver, o);
}

function finish(r: Run, p: Prov, after = 'the test'): void {
  expect_pool_empty(r, p, after);
  unbind_provider(r, p);
}

function memcpy_chan(r: Run, p: Prov): dma_chan {
  const mask = dma_cap_mask();
  dma_cap_set(DMA_MEMCPY, mask);
  const chan = call(r, p.pdev, 'dma_request_channel(DMA_MEMCPY)', () => dma_request_channel(mask, null, null));
  if (!chan) {
    r.finding('WRONG_RESULT', 'no DMA_MEMCPY channel: the provider did not register a dma_device with DMA_MEMCPY (dma_cap_set(), dma_async_device_register())');
    throw new Stop('no channel');
  }
  return chan;
}

/** dmatest on the provider's channels: every thread 0 failures and its summary in dmatest's words. */
function dmatest(r: Run, p: Prov, o: dmatest_params, what: string): boolean {
  const info = call(r, p.pdev, what, () => dmatest_run({ seed: r.m.seed, ...o }));
  if (!info.threads.length) {
    r.finding('WRONG_RESULT', `${what}: "dmatest: Could not start test, no channels configured": the provider registered no DMA_MEMCPY channel`);
    return false;
  }
  const SUMMARY = /^dmatest: dma\d+chan\d+-copy\d: summary \d+ tests, 0 failures \d+\.\d\d iops \d+ KB\/s \(0\)$/;
  for (const t of info.threads) {
    if (!t.failed_tests && SUMMARY.test(t.summary)) continue;
    const first = [...t.results, ...t.mismatches].slice(0, 3).map((l) => `"${l}"`).join(', ');
    r.finding('WRONG_RESULT', `${what}: "${t.summary}"${first ? `; first: ${first}` : ''}`);
    return false;
  }
  return true;
}

describe('registration', () => {
  test('dma_get_slave_caps(): widths 1/2/4, both directions, pause, resume, terminate, burst residue; DMA_MEMCPY, DMA_SLAVE, DMA_CYCLIC (x86)', (ctx) => {
    run(ctx, opts('x86', 'struct-dma_device-capabilities-and-callbacks'), (r) => {
      const p = provider(r);
      const chan = memcpy_chan(r, p);
      const caps = dma_slave_caps_zero();
      const ret = dma_get_slave_caps(chan, caps);
      const dd = chan.device, cap = (b: number) => (dd.cap_mask.bits >>> b) & 1;
      const bad: string[] = [];
      if (ret) bad.push(`dma_get_slave_caps() returned ${ret}`);
      if (!cap(DMA_MEMCPY) || !cap(DMA_SLAVE) || !cap(DMA_CYCLIC)) bad.push('cap_mask lacks DMA_MEMCPY, DMA_SLAVE or DMA_CYCLIC');
      if ((caps.src_addr_widths & 0x16) !== 0x16 || (caps.dst_addr_widths & 0x16) !== 0x16) bad.push('bus widths 1, 2 and 4 not all offered');
      if ((caps.directions & 6) !== 6) bad.push('directions lack DMA_MEM_TO_DEV or DMA_DEV_TO_MEM');
      if (!caps.cmd_pause || !caps.cmd_resume || !caps.cmd_terminate) bad.push(`cmd_pause ${caps.cmd_pause}, cmd_resume ${caps.cmd_resume}, cmd_terminate ${caps.cmd_terminate}: pdma's CHHALT makes all three possible`);
      if (caps.residue_granularity !== DMA_RESIDUE_GRANULARITY_BURST) bad.push('residue_granularity is not DMA_RESIDUE_GRANULARITY_BURST (SAR/DAR move every burst)');
      if (caps.max_burst < 16) bad.push(`max_burst ${caps.max_burst}: a burst of 16 beats fits pdma's FIFO`);
      if (dd.channels.length !== p.hw.channels) bad.push(`${dd.channels.length} channels registered, the controller has ${p.hw.channels} (CR0)`);
      if (bad.length) r.finding('WRONG_RESULT', `the registered dma_device: ${bad.join('; ')}`);
      call(r, p.pdev, 'dma_release_channel(chan)', () => dma_release_channel(chan));
      finish(r, p);
    });
  });
});

describe('dmatest', () => {
  for (const shape of ALL) {
    test(`dmatest on 4 channels, two threads each (so copies queue), a copy of up to 1 KiB a thread: 0 failures, dmatest's summaries, the pool empty (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'completing-cookies'), (r) => {
        const p = provider(r);
        if (dmatest(r, p, { max_channels: 4, iterations: 1, threads_per_chan: 2, test_buf_size: 1024 }, 'dmatest max_channels=4 threads_per_chan=2 iterations=1 test_buf_size=1024')) expect_pool_empty(r, p, 'dmatest');
        finish(r, p);
      });
    });
  }
  for (const shape of ['arm64'] as ShapeName[]) {
    test(`dmatest polled (dma_sync_wait(), no callbacks): 0 failures (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'completing-cookies'), (r) => {
        const p = provider(r);
        dmatest(r, p, { iterations: 4, test_buf_size: 1024, polled: true, max_channels: 1 }, 'dmatest polled=1 iterations=4');
        finish(r, p);
      });
    });
  }
});

/** Source and destination of `len` (+ guards), mapped for the channel's controller. */
function copy_bufs(chan: dma_chan, len: number, seed: number) {
  const dev = chan.device.dev!;
  const src = kmalloc(len, GFP_KERNEL), dst = kmalloc(len, GFP_KERNEL);
  const s = pattern(len, seed);
  fill(src, s);
  fill(dst, pattern(len, seed ^ 0x77));
  const sd = dma_map_single(dev, src, len, DMA_TO_DEVICE), dd = dma_map_single(dev, dst, len, DMA_FROM_DEVICE);
  if (dma_mapping_error(dev, sd) || dma_mapping_error(dev, dd)) throw new Error(`test machine: a ${len}-byte buffer could not be mapped`);
  return { src, dst, s, sd, dd, unmap: () => { dma_unmap_single(dev, dd, len, DMA_FROM_DEVICE); dma_unmap_single(dev, sd, len, DMA_TO_DEVICE); },
    free: () => { kfree(src); kfree(dst); } };
}

describe('long copies and queues', () => {
  for (const shape of ['arm64-smmu'] as ShapeName[]) {
    // 276 bursts: an LC1 loop around an LC0 loop of 256, a loop of the other 20, and a one-beat tail.
    const len = 276 * 64 + 4;
    test(`a copy of ${len} bytes (nested loops${len & 63 ? ' and a tail' : ''}): every byte (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'preparing-from-a-request-to-a-program'), (r) => {
        const p = provider(r);
        const chan = memcpy_chan(r, p);
        const b = copy_bufs(chan, len, len & 0xff);
        const st = call(r, p.pdev, `a ${len}-byte copy`, () => {
          const tx = dmaengine_prep_dma_memcpy(chan, b.dd, b.sd, len, DMA_CTRL_ACK);
          if (!tx) return -1;
          const cookie = dmaengine_submit(tx);
          dma_async_issue_pending(chan);
          for (let i = 0; i < 100 && dma_async_is_tx_complete(chan, cookie, null, null) !== DMA_COMPLETE; i++) run_for_ms(0.1);
          return dma_async_is_tx_complete(chan, cookie, null, null);
        });
        b.unmap();
        if (r.expect_result(`the status of a ${len}-byte copy 10 ms after it was issued (prep returned ${st === -1 ? 'NULL' : 'a descriptor'})`, st, DMA_COMPLETE))
          r.expect_bytes(`the destination of a ${len}-byte copy`, read(b.dst, len), b.s);
        b.free();
        call(r, p.pdev, 'dma_release_channel(chan)', () => dma_release_channel(chan));
        finish(r, p);
      });
    });
  }

  test('32 copies queued on one channel and issued at once: completed in order, each callback once, from softirq; a queued one\'s residue is whole (x86)', (ctx) => {
    run(ctx, opts('x86', 'completing-cookies'), (r) => {
      const p = provider(r);
      const chan = memcpy_chan(r, p);
      const N = 32, LEN = 256;
      const b = copy_bufs(chan, N * LEN, 0x64);
      const order: number[] = [];
      const bad: string[] = [];
      call(r, p.pdev, '32 copies submitted, then dma_async_issue_pending()', () => {
        const cookies: number[] = [];
        for (let i = 0; i < N; i++) {
          const tx = dmaengine_prep_dma_memcpy(chan, b.dd + i * LEN, b.sd + i * LEN, LEN, DMA_PREP_INTERRUPT | DMA_CTRL_ACK);
          if (!tx) { bad.push(`prep ${i} returned NULL`); break; }
          tx.callback = () => {
            if (!M.sched.in_softirq() || M.sched.in_hardirq()) bad.push(`callback ${i} not in softirq context`);
            order.push(i);
          };
          cookies.push(dmaengine_submit(tx));
        }
        dma_async_issue_pending(chan);
        const st = dma_tx_state_zero();
        const last = cookies[cookies.length - 1]!;
        dmaengine_tx_status(chan, last, st);
        if (dma_async_is_tx_complete(chan, last, null, null) !== DMA_COMPLETE && st.residue !== LEN)
          bad.push(`the residue of the last copy, queued behind 31 others, is ${st.residue}, not its whole ${LEN} bytes`);
        run_for_ms(2);
      });
      b.unmap();
      if (order.length !== N || order.some((v, i) => v !== i)) bad.push(`callbacks in the order ${JSON.stringify(order.slice(0, 12))}${order.length > 12 ? '...' : ''} (${order.length} of ${N})`);
      if (bad.length) r.finding('WRONG_RESULT', bad.slice(0, 3).join('; '));
      else r.expect_bytes('the destinations of 32 queued copies', read(b.dst, N * LEN), b.s);
      b.free();
      call(r, p.pdev, 'dma_release_channel(chan)', () => dma_release_channel(chan));
      finish(r, p);
    });
  });
});

// ---- exercise 11's solution on the learner's provider -------------------------------------------
describe("exercise 11's solution on pdma", () => {
  for (const shape of CLIENT_SHAPES) {
    test(`dmacopy: copies of 1, 3 and 4096 bytes at odd offsets, and its self-test (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'what-a-provider-is'), (r) => {
        const p = provider(r);
        load(r, s11.dmacopy_driver);
        const pdev = plug(r, 'dmacopy', () => plug_node('dmacopy', ['dmalab,dmacopy']));
        expect_bound(r, pdev, s11.dmacopy_driver);
        const cp = pdev.dev.driver_data as s11.dmacopy;
        for (const [i, len] of [1, 3, 4096].entries()) {
          const odd = 1 + (i % 3);
          const src = kmalloc(len + 8, GFP_KERNEL), dst = kmalloc(len + 8, GFP_KERNEL);
          const s = pattern(len + 8, 0x1400 + i), d = pattern(len + 8, 0x1480 + i);
          fill(src, s);
          fill(dst, d);
          const what = `dmacopy_copy(cp, dst + ${odd}, src, ${len})`;
          const ok = r.expect_result(what, call(r, pdev, what, () => s11.dmacopy_copy(cp, dst + odd, src, len)), 0);
          const want = d.slice();
          want.set(s.subarray(0, len), odd);
          const same = ok && r.expect_bytes(`the destination of ${what}`, read(dst, len + 8), want);
          kfree(src);
          kfree(dst);
          if (!same) break;
        }
        const ret = call(r, pdev, 'dmacopy_selftest(cp, 4, 1024, seed)', () => s11.dmacopy_selftest(cp, 4, 1024, r.m.seed));
        r.expect_result('dmacopy_selftest(cp, 4, 1024, seed): failed iterations', ret, 0);
        unbind(r, pdev);
        finish(r, p);
      });
    });
  }
});

// ---- exercise 12's solution: the UART on two channels ---------------------------------------------
interface Uart12 { p: Prov; pdev: platform_device; uart: ReturnType<typeof plug_uart>['uart']; u: s12.duart }

function uart_setup(r: Run, o: PdmaOptions = {}): Uart12 {
  const p = provider(r, o);
  load(r, s12.duart_driver);
  const { pdev, uart } = plug(r, 'duart', () => plug_uart(p, { rx: RX_LINE, tx: TX_LINE }));
  expect_bound(r, pdev, s12.duart_driver);
  return { p, pdev, uart, u: pdev.dev.driver_data as s12.duart };
}

function uart_teardown(r: Run, x: Uart12): void {
  duart_line_checks(r, x);
  unbind(r, x.pdev);
  finish(r, x.p);
}

describe("exercise 12's solution on pdma", () => {
  for (const shape of CLIENT_SHAPES) {
    test(`duart: sends of 1, 16 and 100 characters; a 100-character receive (the receive timeout, its residue) (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'reporting-residue'), (r) => {
        const x = uart_setup(r);
        if (!x.u.rx || !x.u.tx) r.finding('WRONG_RESULT', `duart found ${x.u.rx ? '' : 'no rx channel'}${!x.u.rx && !x.u.tx ? ' and ' : ''}${x.u.tx ? '' : 'no tx channel'} (it uses PIO without them): the xlate must give a channel for "dmas = <&pdma N>", and RX needs pause, resume and burst residue`);
        else if ([1, 16, 100].every((n, i) => duart_send(r, x, s12, n, 0x1420 + i))) duart_receive(r, x, s12, 100, 0x1431);
        uart_teardown(r, x);
      });
    });
  }

  test('a controller without CHHALT (pause: false): no device_pause, and duart receives by PIO, exactly (x86)', (ctx) => {
    run(ctx, opts('x86', 'configuration-pause-and-resume'), (r) => {
      const x = uart_setup(r, { pause: false });
      const dd = x.p.d.ddev;
      if (dd.device_pause || dd.device_resume) r.finding('WRONG_RESULT', 'the provider offers device_pause/device_resume on a pdma whose CHHALT reads back 0: offer them only when the halt works (clients then fall back)');
      else if (x.u.rx) r.finding('WRONG_RESULT', 'duart kept an RX channel on a controller that cannot pause');
      duart_receive(r, x, s12, 100, 0x1440);
      duart_send(r, x, s12, 64, 0x1441);
      uart_teardown(r, x);
    });
  });

  for (const shape of ['arm64'] as ShapeName[]) {
    test(`the residue of a running receive, at 10 points, against the bytes the model moved (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'reporting-residue'), (r) => {
        const x = uart_setup(r);
        const chan = x.u.rx;
        if (!chan) { r.finding('WRONG_RESULT', 'duart has no RX channel on pdma'); uart_teardown(r, x); return; }
        const LEN = 256, id = chan.chan_id;
        const buf = kmalloc(LEN, GFP_KERNEL);
        x.uart.remote.send(pattern(LEN, 0x1450), 1e6);
        if (r.expect_result('duart_rx_start(u, buf, 256)', call(r, x.pdev, 'duart_rx_start(u, buf, 256)', () => s12.duart_rx_start(x.u, buf, LEN)), 0)) {
          const base = x.p.hw.moved[id]!;
          for (let i = 0; i < 10; i++) {
            run_for_ms((LEN * x.uart.char_ns()) / 1e6 / 12);
            const st = dma_tx_state_zero();
            const status = call(r, x.pdev, 'dmaengine_tx_status(u.rx, u.rx_cookie, state)', () => dmaengine_tx_status(chan, x.u.rx_cookie, st));
            const moved = x.p.hw.moved[id]! - base;
            if (status === DMA_COMPLETE) break;
            if (Math.abs(st.residue - (LEN - moved)) > 8) {
              r.finding('WRONG_RESULT', `at point ${i + 1} of 10 of a ${LEN}-byte receive, tx_status gives a residue of ${st.residue} bytes, but the controller has moved ${moved} (so ${LEN - moved} are left): the active descriptor's residue comes from DAR against its segments`);
              break;
            }
          }
          call(r, x.pdev, 'duart_rx_wait(u, 100)', () => s12.duart_rx_wait(x.u, 100));
        }
        kfree(buf);
        uart_teardown(r, x);
      });
    });
  }
  test('the residue of a 4-entry scatterlist send, at 8 points: the current entry and every entry after it; what the far end hears (x86)', (ctx) => {
    run(ctx, opts('x86', 'reporting-residue'), (r) => {
      const x = uart_setup(r);
      const chan = x.u.tx;
      if (!chan) { r.finding('WRONG_RESULT', 'duart has no TX channel on pdma'); uart_teardown(r, x); return; }
      // duart configured the channel (the FIFO, 1 byte, bursts of 16); the test sends on it itself.
      const N = 4, ENT = 96, LEN = N * ENT, id = chan.chan_id, dev = chan.device.dev!;
      const buf = kmalloc(N * 128, GFP_KERNEL);
      const data = pattern(N * 128, 0x1455);
      fill(buf, data);
      const sgl = sg_array(N);
      sg_init_table(sgl, N);
      for (let i = 0; i < N; i++) sg_set_buf(sgl[i]!, buf + 128 * i, ENT);
      const heard = x.uart.remote.heard.length;
      const nents = call(r, x.pdev, 'dma_map_sg()', () => dma_map_sg(dev, sgl, N, DMA_TO_DEVICE));
      const ok = call(r, x.pdev, 'a 4-entry dmaengine_prep_slave_sg(), submitted and issued', () => {
        const tx = dmaengine_prep_slave_sg(chan, sgl, nents, DMA_MEM_TO_DEV, DMA_CTRL_ACK);
        if (!tx) return null;
        const cookie = dmaengine_submit(tx);
        dma_async_issue_pending(chan);
        writel(readl(x.u.regs + 0x048) | 2, x.u.regs + 0x048);   // UART DMACR.TXDMAE: its requests on
        return cookie;
      });
      if (!ok) r.finding('WRONG_RESULT', `dmaengine_prep_slave_sg() of ${N} entries of ${ENT} bytes returned NULL`);
      else {
        const base = x.p.hw.moved[id]!;
        for (let i = 0; i < 8; i++) {
          run_for_ms((LEN * x.uart.char_ns()) / 1e6 / 10);
          const st = dma_tx_state_zero();
          const status = call(r, x.pdev, 'dmaengine_tx_status(chan, cookie, state)', () => dmaengine_tx_status(chan, ok, st));
          const moved = x.p.hw.moved[id]! - base;
          if (status === DMA_COMPLETE) break;
          if (Math.abs(st.residue - (LEN - moved)) > 16) {
            r.finding('WRONG_RESULT', `at point ${i + 1} of 8 of a send of ${N} x ${ENT} bytes, tx_status gives a residue of ${st.residue} bytes, but the controller has moved ${moved} (so ${LEN - moved} are left): the current entry's rest plus every entry after it`);
            break;
          }
        }
        run_for_ms((LEN * x.uart.char_ns()) / 1e6 + 2);
        const want = new Uint8Array(LEN);
        for (let i = 0; i < N; i++) want.set(data.subarray(128 * i, 128 * i + ENT), ENT * i);
        r.expect_bytes('what the far end heard of a 4-entry scatterlist send', Uint8Array.from(x.uart.remote.heard.slice(heard)), want);
      }
      writel(readl(x.u.regs + 0x048) & ~2, x.u.regs + 0x048);
      call(r, x.pdev, 'dma_unmap_sg()', () => dma_unmap_sg(dev, sgl, N, DMA_TO_DEVICE));
      kfree(buf);
      uart_teardown(r, x);
    });
  });
});

// ---- exercise 13's solution: the audio ring ----------------------------------------------------
const PERIOD = 1024, RING = 4 * PERIOD, PERIOD_MS = (PERIOD / 4) * 1e3 / 48000;

describe("exercise 13's solution on pdma", () => {
  for (const shape of CLIENT_SHAPES) {
    test(`dsai: 16 ms of playback with the pointer on the hardware, a pause and a resume, every frame in order (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'reporting-residue'), (r) => {
        const p = provider(r);
        load(r, s13.dsai_driver);
        const { pdev, i2s } = plug(r, 'dsai', () => plug_i2s(p, { tx: PCM_TX, rx: PCM_RX }));
        expect_bound(r, pdev, s13.dsai_driver);
        const d = pdev.dev.driver_data as s13.dsai, s = d.streams[0]!;
        const data = pattern(1 << 15, 0x1460);
        let sent = 0;
        const feed = () => {
          const n = call(r, pdev, 'pcm_write(s, data)', () => s13.pcm_write(s, data.subarray(sent, sent + RING)));
          if (typeof n === 'number' && n > 0) sent += n;
          return n;
        };
        let ok = r.expect_result(`pcm_open(s, ${RING}, ${PERIOD})`, call(r, pdev, 'pcm_open', () => s13.pcm_open(s, RING, PERIOD)), 0);
        feed();
        const base = i2s.codec.played.length;
        ok &&= r.expect_result('pcm_start(s)', call(r, pdev, 'pcm_start(s)', () => s13.pcm_start(s)), 0);
        const play = (ms: number) => {
          for (let t = 0; ok && t < ms; t += PERIOD_MS / 2) {
            run_for_ms(PERIOD_MS / 2);
            const ptr = call(r, pdev, 'pcm_pointer(s)', () => s13.pcm_pointer(s));
            const real = ((i2s.codec.played.length - base + i2s.tx_count) * 4) % RING;
            // SAR counts what the thread read: the serializer's FIFO, and at most one burst more in pdma's.
            if (typeof ptr !== 'number' || (real - ptr + RING) % RING > 32 && (ptr - real + RING) % RING > 32) {
              r.finding('WRONG_RESULT', `pcm_pointer(s) returned ${ptr} with the DMA at ring offset ${real} (within a 32-byte burst either way): the cyclic residue must follow SAR over the ring`);
              ok = false;
            }
            const n = feed();
            if (typeof n !== 'number' || n < 0) { r.finding('WRONG_RESULT', `pcm_write(s, data) returned ${n} from a writer that kept up`); ok = false; }
          }
        };
        play(8);
        if (ok) {
          ok = r.expect_result('pcm_pause(s, true)', call(r, pdev, 'pcm_pause(s, true)', () => s13.pcm_pause(s, true)), 0);
          const p0 = s13.pcm_pointer(s);
          run_for_ms(5);
          if (ok && s13.pcm_pointer(s) !== p0) { r.finding('WRONG_RESULT', 'the pointer moved while the stream was paused: device_pause must stop the thread (CHHALT)'); ok = false; }
          ok &&= r.expect_result('pcm_pause(s, false)', call(r, pdev, 'pcm_pause(s, false)', () => s13.pcm_pause(s, false)), 0);
        }
        play(8);
        const played = i2s.codec.played.slice(base);
        const n = Math.min(played.length, sent / 4);
        const u32 = (i: number) => (data[i]! | data[i + 1]! << 8 | data[i + 2]! << 16 | data[i + 3]! << 24) >>> 0;
        const bad = played.slice(0, n).findIndex((f, i) => f !== u32(4 * i));
        if (ok && bad >= 0) r.finding('DATA_MISMATCH', `frame ${bad} the codec played is 0x${played[bad]!.toString(16)}, expected 0x${u32(4 * bad).toString(16)}`);
        if (ok && i2s.underruns) r.finding('DATA_MISMATCH', `the serializer played ${i2s.underruns} frames of silence (an underrun)`);
        call(r, pdev, 'pcm_stop(s) with s.lock held', () => {
          const f = spin_lock_irqsave(s.lock);
          s13.pcm_stop(s);
          spin_unlock_irqrestore(s.lock, f);
        });
        call(r, pdev, 'pcm_close(s)', () => s13.pcm_close(s));
        unbind(r, pdev);
        finish(r, p);
      });
    });
  }
});

// ---- terminate, faults, atomic context, the debug interface, probe ----------------------------------
describe('terminate', () => {
  for (const shape of CLIENT_SHAPES) {
    test(`terminate_sync with a 64 KiB copy running: the controller moves nothing after it, no callback, the channel usable again (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'terminate-all-stops-the-hardware'), (r) => {
        const p = provider(r);
        const chan = memcpy_chan(r, p);
        const LEN = 64 << 10;
        const b = copy_bufs(chan, LEN, 0x1470);
        let called = 0;
        const moved = call(r, p.pdev, 'a copy, terminated 20 µs after it started', () => {
          const tx = dmaengine_prep_dma_memcpy(chan, b.dd, b.sd, LEN, DMA_PREP_INTERRUPT | DMA_CTRL_ACK);
          if (!tx) return -1;
          tx.callback = () => { called++; };
          dmaengine_submit(tx);
          dma_async_issue_pending(chan);
          run_for_ms(0.02);
          dmaengine_terminate_sync(chan);
          return p.hw.moved[chan.chan_id]!;
        });
        // The client may free now: the checker watches the buffers it gave the controller.
        b.unmap();
        b.free();
        run_for_ms(1);
        if (moved < 0) r.finding('WRONG_RESULT', `prep of a ${LEN}-byte copy returned NULL`);
        else if (p.hw.moved[chan.chan_id]! !== moved) r.finding('DMAENGINE_HW_RUNNING_AFTER_TERMINATE', `the controller moved ${p.hw.moved[chan.chan_id]! - moved} more bytes on channel ${chan.chan_id} after dmaengine_terminate_sync() returned: device_terminate_all must DMAKILL the thread and wait for CSR to say stopped`);
        if (called) r.finding('WRONG_RESULT', 'the terminated copy\'s callback was called: aborted descriptors get no callback (vchan_terminate_vdesc())');
        const c = copy_bufs(chan, 4096, 0x1471);
        const st = call(r, p.pdev, 'a 4096-byte copy after the terminate', () => {
          const tx = dmaengine_prep_dma_memcpy(chan, c.dd, c.sd, 4096, DMA_CTRL_ACK);
          if (!tx) return -1;
          const cookie = dmaengine_submit(tx);
          dma_async_issue_pending(chan);
          run_for_ms(0.1);
          return dma_async_is_tx_complete(chan, cookie, null, null);
        });
        c.unmap();
        if (r.expect_result('the status of a copy issued after the terminate, 100 µs later', st, DMA_COMPLETE)) r.expect_bytes('the copy after the terminate', read(c.dst, 4096), c.s);
        c.free();
        call(r, p.pdev, 'dma_release_channel(chan)', () => dma_release_channel(chan));
        finish(r, p);
      });
    });
  }
});

describe('faults and contexts', () => {
  for (const shape of ['x86-iommu', 'arm64-smmu'] as ShapeName[]) {
    test(`a bus fault: the destination unmapped under a queued copy; its callback gets DMA_TRANS_WRITE_FAILED, the next copy runs (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'completing-cookies', { allow: ['IOMMU_FAULT', 'DMAENGINE_BUFFER_FREED_ACTIVE', 'DMA_UNMAP_IN_FLIGHT', 'DEVICE_ACCESS_FREED'] }), (r) => {
        const p = provider(r);
        const chan = memcpy_chan(r, p);
        const a = copy_bufs(chan, 8192, 0x1480), c = copy_bufs(chan, 4096, 0x1481);
        const res: (dmaengine_result | null)[] = [];
        call(r, p.pdev, 'two copies, the first one\'s destination unmapped before issue', () => {
          for (const [x, len] of [[a, 8192], [c, 4096]] as const) {
            const tx = dmaengine_prep_dma_memcpy(chan, x.dd, x.sd, len, DMA_PREP_INTERRUPT | DMA_CTRL_ACK);
            if (!tx) return;
            tx.callback_result = (_p: unknown, rr: dmaengine_result | null) => { res.push(rr ? { ...rr } : null); };
            dmaengine_submit(tx);
          }
          dma_unmap_single(chan.device.dev!, a.dd, 8192, DMA_FROM_DEVICE);   // deliberately, by the test
          dma_async_issue_pending(chan);
          run_for_ms(0.5);
        });
        dma_unmap_single(chan.device.dev!, a.sd, 8192, DMA_TO_DEVICE);
        c.unmap();
        const r0 = res[0]?.result;
        if (res.length !== 2) r.finding('WRONG_RESULT', `${res.length} of 2 callbacks came: a fault completes its descriptor (with the fault as result), and the next one starts`);
        else if (r0 !== DMA_TRANS_WRITE_FAILED && r0 !== DMA_TRANS_READ_FAILED) r.finding('WRONG_RESULT', `the faulted copy's callback got result ${r0}: FTR's data write error is DMA_TRANS_WRITE_FAILED`);
        else if (res[1]?.result !== DMA_TRANS_NOERROR) r.finding('WRONG_RESULT', `the copy after the fault got result ${res[1]?.result}`);
        else r.expect_bytes('the copy after the fault', read(c.dst, 4096), c.s);
        a.free();
        c.free();
        call(r, p.pdev, 'dma_release_channel(chan)', () => dma_release_channel(chan));
        finish(r, p);
      });
    });
  }

  test('prep and submit from a completion callback and with a spinlock held: no sleeping in atomic context (x86)', (ctx) => {
    run(ctx, opts('x86', 'preparing-from-a-request-to-a-program'), (r) => {
      const p = provider(r);
      const chan = memcpy_chan(r, p);
      const b = copy_bufs(chan, 8 * 1024, 0x1490);
      const lock = DEFINE_SPINLOCK();
      let done = 0;
      call(r, p.pdev, 'a chain of 8 copies, each prepared in the callback of the one before', () => {
        const next = (i: number) => {
          const f = spin_lock_irqsave(lock);
          const tx = dmaengine_prep_dma_memcpy(chan, b.dd + 1024 * i, b.sd + 1024 * i, 1024, DMA_PREP_INTERRUPT | DMA_CTRL_ACK);
          if (tx) {
            tx.callback = () => { done++; if (i < 7) next(i + 1); };
            dmaengine_submit(tx);
            dma_async_issue_pending(chan);
          }
          spin_unlock_irqrestore(lock, f);
        };
        next(0);
        run_for_ms(1);
      });
      b.unmap();
      if (r.expect_result('copies completed in the chain', done, 8)) r.expect_bytes('the chain\'s destination', read(b.dst, 8192), b.s);
      b.free();
      call(r, p.pdev, 'dma_release_channel(chan)', () => dma_release_channel(chan));
      finish(r, p);
    });
  });

  test('a debug interface 20 times slower (2 µs): dmatest on all 8 channels at once, no DBGCMD dropped (x86)', (ctx) => {
    run(ctx, opts('x86', 'the-controller-pdma'), (r) => {
      const p = provider(r, { dbg_ns: 2000 });
      dmatest(r, p, { iterations: 2, test_buf_size: 1024 }, 'dmatest iterations=2 with DBGSTATUS busy for 2 µs a command');
      finish(r, p);
    });
  });
});

describe('probe', () => {
  for (const shape of ['x86', 'arm64-smmu'] as ShapeName[]) {
    test(`fault sweep over probe: every failure unwound (pool, interrupts, registration, of_dma) (${shape})`, (ctx) => {
      let points = 0;
      for (let n = 0; n === 0 || n <= points; n++) {
        run(ctx, opts(shape, 'registering'), (r) => {
          load(r, drv.pdma_driver);
          const f = r.m.faults, base = f.count;
          if (n) f.fail_nth = base + n;
          const c = plug(r, 'pdma', () => plug_pdma());
          if (!n) points = f.count - base;
          f.fail_nth = 0;
          if (c.pdev.dev.driver) {
            const d = c.pdev.dev.driver_data as Prov['d'] | null;
            if (!n && d?.ddev?.channels?.length !== c.hw.channels)
              r.finding('WRONG_RESULT', `probe succeeded with ${d?.ddev?.channels?.length ?? 0} of the controller's ${c.hw.channels} channels registered: vchan_init() each, then dma_async_device_register()`);
            unbind(r, c.pdev);
          } else if (!n) {
            expect_bound(r, c.pdev, drv.pdma_driver);
          }
        });
      }
    });
  }
});
