// Hidden tests of exercise 13 (dmaengine-cyclic): dsai plays and captures through the I2S-like
// serializer on one cyclic descriptor per direction. Every frame the codec hears (or the driver
// reads) is checked against what the test wrote (or the codec's microphone gave), the driver's
// pointer against the serializer's real position, on every machine; so are merged period
// callbacks, a writer late on purpose (-EPIPE at the lap), pause and resume, controllers without
// pause or with coarse residue, stop from atomic context then close, restart, unbind mid-stream,
// bad geometry and failures of the ring's allocation and of the prep.
import { describe, test } from 'vitest';
import { load_driver } from '../lib/target.ts';
import { run, lesson_opts, Stop, type Run } from './lib/harness.ts';
import { load, plug, expect_bound, unbind, call } from './lib/platform.ts';
import { plug_ctrl, ctrl_of, apply_variant, type Ctrl, type Variant } from './lib/providers.ts';
import { M, plug_i2s, run_for_ms, pattern, type platform_device, type ShapeName, type DmacOptions, type I2s } from '#sim/testing';
import { spin_lock_irqsave, spin_unlock_irqrestore } from '#linux/spinlock';
import type * as Solution from '../../solutions/13-dmaengine-cyclic/driver.ts';

const drv = await load_driver<typeof Solution>('13-dmaengine-cyclic');
const L = 'lessons/13-dmaengine-cyclic.md';
const ALL: ShapeName[] = ['x86', 'x86-iommu', 'x86-swiotlb', 'arm64', 'arm64-smmu'];
const EINVAL = -22, ENOMEM = -12, ENOSYS = -38, EPIPE = -32;
const PERIOD = 1024, PERIODS = 4, RING = PERIOD * PERIODS, BURST = 32;
/** A period at 48 kHz, 4-byte frames: 256 frames, 5.33 ms. */
const PERIOD_MS = (PERIOD / 4) * 1e3 / 48000;
const TX_LINE = 6, RX_LINE = 7;

interface Rig { ctrl: Ctrl; pdev: platform_device; i2s: I2s; d: Solution.dsai; play: Solution.pcm_stream; cap: Solution.pcm_stream;
  /** Frames the codec had played when playback last started: the ring's offset 0. */
  base: number }

const opts = lesson_opts(L);

function setup(r: Run, o: { v?: Variant; dmac?: DmacOptions } = {}): Rig {
  const ctrl = ctrl_of(plug_ctrl(o.dmac));
  apply_variant(ctrl, o.v ?? 'bundled');
  load(r, drv.dsai_driver);
  const { pdev, i2s } = plug(r, 'dsai', () => plug_i2s(ctrl, { tx: TX_LINE, rx: RX_LINE }));
  expect_bound(r, pdev, drv.dsai_driver);
  const d = pdev.dev.driver_data as Solution.dsai | null;
  if (!d?.streams?.[0]?.chan || !d.streams[1]?.chan) {
    r.finding('WRONG_RESULT', 'probe succeeded but did not keep its dsai (with both streams\' channels) with platform_set_drvdata(pdev, d)');
    throw new Stop('no driver data');
  }
  return { ctrl, pdev, i2s, d, play: d.streams[0]!, cap: d.streams[1]!, base: 0 };
}

function teardown(r: Run, x: Rig): void {
  const chans = [x.play.chan, x.cap.chan];
  unbind(r, x.pdev);
  for (const c of chans) if (c?.client_count) r.finding('DMAENGINE_CHAN_LEAK', `after unbind, ${c.name} is still held`);
  unbind(r, x.ctrl.pdev);
}

const u32le = (b: Uint8Array, i: number) => (b[i]! | b[i + 1]! << 8 | b[i + 2]! << 16 | b[i + 3]! << 24) >>> 0;
const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/** The application side of a playback: a stream of seeded bytes written as the ring has room. */
class Writer {
  readonly data: Uint8Array;
  sent = 0;
  constructor(total: number, seed: number) {
    this.data = pattern(total, seed);
  }
  /** pcm_write() of as much as it takes; its return value. */
  feed(r: Run, x: Rig, what = 'pcm_write(s, data)'): number {
    const ret = call(r, x.pdev, what, () => drv.pcm_write(x.play, this.data.subarray(this.sent, this.sent + RING)));
    if (typeof ret === 'number' && ret > 0) this.sent += ret;
    return ret;
  }
}

/** The frames the codec played from index `from` must be the writer's from byte `at`, in order. */
function check_played(r: Run, x: Rig, w: Writer, from = 0, at = 0, what = 'the frames the codec played'): boolean {
  const played = x.i2s.codec.played.slice(from);
  const n = Math.min(played.length, (w.sent - at) / 4);
  for (let i = 0; i < n; i++) {
    const want = u32le(w.data, at + 4 * i);
    if (played[i] !== want) {
      r.finding('DATA_MISMATCH', `${what}: frame ${i} (ring offset ${(at + 4 * i) % RING}) is ${hex(played[i]!)}, expected ${hex(want)}${played[i] === 0 ? ' (silence: an underrun)' : ''}; ${played.length} frames played, ${w.sent} bytes written`);
      return false;
    }
  }
  if (played.length > n + 1) {
    r.finding('DATA_MISMATCH', `${what}: ${played.length} frames played but only ${n} were written: the hardware played stale or silent frames`);
    return false;
  }
  return true;
}

/** The driver's pointer against where the DMA really is: frames played plus those in the FIFO. */
function check_pointer(r: Run, x: Rig, o: { segment?: boolean } = {}): boolean {
  const ptr = call(r, x.pdev, 'pcm_pointer(s)', () => drv.pcm_pointer(x.play));
  const real = ((x.i2s.codec.played.length - x.base + x.i2s.tx_count) * 4) % RING;
  const behind = (real - ptr + RING) % RING;
  const limit = o.segment ? PERIOD + BURST : BURST;
  if (typeof ptr !== 'number' || ptr < 0 || ptr >= RING || behind > limit || (o.segment && ptr % PERIOD)) {
    r.finding('WRONG_RESULT', `pcm_pointer(s) returned ${ptr} with the DMA at ring offset ${real}: ${typeof ptr === 'number' && ptr >= 0 && ptr < RING ? `${behind} bytes behind it` : 'outside the ring'}; it must be the hardware's position (from the residue), within ${o.segment ? 'a period (segment residue: on a period boundary)' : 'a burst'}`);
    return false;
  }
  return true;
}

/** Open with the ring geometry, prefill, start. */
function open_start(r: Run, x: Rig, w: Writer | null, s = x.play): boolean {
  const o = call(r, x.pdev, `pcm_open(s, ${RING}, ${PERIOD})`, () => drv.pcm_open(s, RING, PERIOD));
  if (!r.expect_result(`pcm_open(s, ${RING}, ${PERIOD})`, o, 0)) return false;
  if (w) w.feed(r, x);
  if (s === x.play) x.base = x.i2s.codec.played.length;
  return r.expect_result('pcm_start(s)', call(r, x.pdev, 'pcm_start(s)', () => drv.pcm_start(s)), 0);
}

/** Play for `ms`, the writer refilling every half period; the pointer checked each time. */
function play_for(r: Run, x: Rig, w: Writer, ms: number, o: { pointer?: boolean; segment?: boolean } = {}): boolean {
  for (let t = 0; t < ms; t += PERIOD_MS / 2) {
    run_for_ms(PERIOD_MS / 2);
    if ((o.pointer ?? true) && !check_pointer(r, x, o)) return false;
    const ret = w.feed(r, x);
    if (typeof ret !== 'number' || ret < 0) {
      r.finding('WRONG_RESULT', `pcm_write(s, data) returned ${ret} from a writer that kept up (${w.sent} bytes written, ${x.i2s.codec.played.length} frames played)`);
      return false;
    }
  }
  return true;
}

function stop_locked(r: Run, x: Rig, s = x.play): void {
  call(r, x.pdev, 'pcm_stop(s) with s.lock held', () => {
    const flags = spin_lock_irqsave(s.lock);
    drv.pcm_stop(s);
    spin_unlock_irqrestore(s.lock, flags);
  });
  // A stopped stream's side of the serializer is off: nothing more is played.
  const played = x.i2s.codec.played.length;
  run_for_ms(1);
  const more = x.i2s.codec.played.length - played;
  if (s === x.play && more) r.finding('DATA_MISMATCH', `after pcm_stop(s) the serializer played ${more} more frames in 1 ms (silence, or the ring's stale frames): stop it with the channel`);
}

function close(r: Run, x: Rig, s = x.play): void {
  call(r, x.pdev, 'pcm_close(s)', () => drv.pcm_close(s));
}

function no_underrun(r: Run, x: Rig, what: string): boolean {
  if (!x.i2s.underruns) return true;
  r.finding('DATA_MISMATCH', `${what}: the serializer played ${x.i2s.underruns} frames of silence (TX FIFO underrun)`);
  return false;
}

describe('playback', () => {
  for (const shape of ALL) {
    test(`200 ms of playback, 4 x 1 KiB periods: every frame the test's, in order; the pointer on the hardware (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'where-the-hardware-is-the-residue'), (r) => {
        const x = setup(r);
        const w = new Writer(1 << 16, 0x1300);
        if (open_start(r, x, w) && play_for(r, x, w, 200) && check_played(r, x, w)) no_underrun(r, x, '200 ms of playback');
        stop_locked(r, x);
        close(r, x);
        teardown(r, x);
      });
    });
  }

  for (const shape of ['x86', 'arm64'] as ShapeName[]) {
    test(`period interrupts merged (one callback for two periods): still exact, the pointer still right (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'period-callbacks-are-not-a-clock'), (r) => {
        const x = setup(r, { v: 'merge_periods' });
        const w = new Writer(1 << 16, 0x1301);
        if (open_start(r, x, w) && play_for(r, x, w, 200) && check_played(r, x, w)) no_underrun(r, x, 'playback with merged callbacks');
        stop_locked(r, x);
        close(r, x);
        teardown(r, x);
      });
    });
  }

  test('a writer late by more than a lap: pcm_write() returns -EPIPE at the lap, not before; after a restart playback is exact (x86)', (ctx) => {
    run(ctx, opts('x86', 'keeping-ahead-of-the-hardware'), (r) => {
      const x = setup(r);
      const w = new Writer(1 << 16, 0x1302);
      if (!open_start(r, x, w)) return;
      run_for_ms(2.5 * PERIOD_MS);   // late, but the hardware has not reached appl
      const early = w.feed(r, x, 'pcm_write(s, data) 2.5 periods late');
      if (typeof early !== 'number' || early < 0) r.finding('WRONG_RESULT', `pcm_write(s, data) 2.5 periods after the last write returned ${early}: the hardware had not caught up with the writer yet, write what fits`);
      run_for_ms(6 * PERIOD_MS);     // now it has lapped the writer
      const late = call(r, x.pdev, 'pcm_write(s, data)', () => drv.pcm_write(x.play, w.data.subarray(w.sent, w.sent + RING)));
      if (!r.expect_result('pcm_write(s, data) after the hardware played past everything written (6 periods late)', late, EPIPE)) return;
      stop_locked(r, x);
      close(r, x);
      const from = x.i2s.codec.played.length;
      const w2 = new Writer(1 << 16, 0x1303);
      if (open_start(r, x, w2) && play_for(r, x, w2, 60)) check_played(r, x, w2, from, 0, 'after stop, close, open and start');
      stop_locked(r, x);
      close(r, x);
      teardown(r, x);
    });
  });

  test('stop (with the lock held), then start again without a close: playback exact again (x86)', (ctx) => {
    run(ctx, opts('x86', 'terminate-async-and-synchronize'), (r) => {
      const x = setup(r);
      const w = new Writer(1 << 16, 0x1304);
      if (!open_start(r, x, w) || !play_for(r, x, w, 30)) return;
      stop_locked(r, x);
      run_for_ms(1);
      const from = x.i2s.codec.played.length;
      // The ring is the stream's until close: refill it from its start and go again.
      const w2 = new Writer(1 << 16, 0x1305);
      w2.feed(r, x);
      x.base = from;
      if (r.expect_result('pcm_start(s) after pcm_stop(s)', call(r, x.pdev, 'pcm_start(s)', () => drv.pcm_start(x.play)), 0)
        && play_for(r, x, w2, 40)) check_played(r, x, w2, from, 0, 'after stop and start');
      stop_locked(r, x);
      close(r, x);
      teardown(r, x);
    });
  });
});

describe('capture', () => {
  for (const shape of ALL) {
    test(`200 ms of capture: every frame the microphone gave, in order, no overrun (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'keeping-ahead-of-the-hardware'), (r) => {
        const x = setup(r);
        if (!open_start(r, x, null, x.cap)) return;
        const got: number[] = [];
        for (let t = 0; t < 200; t += PERIOD_MS / 2) {
          run_for_ms(PERIOD_MS / 2);
          const b = call(r, x.pdev, `pcm_read(s, ${RING})`, () => drv.pcm_read(x.cap, RING));
          if (typeof b === 'number') {
            r.finding('WRONG_RESULT', `pcm_read(s, ${RING}) returned ${b} from a reader that kept up`);
            break;
          }
          for (let i = 0; i + 4 <= b.length; i += 4) got.push(u32le(b, i));
        }
        const want = (n: number) => x.i2s.codec.capture(n) >>> 0;
        const bad = got.findIndex((f, i) => f !== want(i));
        if (bad >= 0) r.finding('DATA_MISMATCH', `captured frame ${bad} is ${hex(got[bad]!)}, expected ${hex(want(bad))} (${got.length} frames read)`);
        else if (got.length < 200 * 48 * 0.9) r.finding('WRONG_RESULT', `only ${got.length} frames read in 200 ms (48 kHz: about ${200 * 48})`);
        if (x.i2s.overruns) r.finding('DATA_MISMATCH', `the serializer lost ${x.i2s.overruns} frames (RX FIFO overrun)`);
        stop_locked(r, x, x.cap);
        close(r, x, x.cap);
        teardown(r, x);
      });
    });
  }
});

describe('pause and resume', () => {
  for (const shape of ['x86', 'arm64-smmu'] as ShapeName[]) {
    test(`pause 20 ms and resume, 5 times: no frame lost or repeated, no underrun, the pointer still while paused (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'pause-and-resume'), (r) => {
        const x = setup(r);
        const w = new Writer(1 << 16, 0x1310);
        if (!open_start(r, x, w) || !play_for(r, x, w, 10)) return;
        // A resume of a stream that is not paused has nothing to do.
        r.expect_result('pcm_pause(s, false) of a running stream', call(r, x.pdev, 'pcm_pause(s, false)', () => drv.pcm_pause(x.play, false)), 0);
        for (let i = 0; i < 5; i++) {
          if (!r.expect_result('pcm_pause(s, true)', call(r, x.pdev, 'pcm_pause(s, true)', () => drv.pcm_pause(x.play, true)), 0)) break;
          const p0 = call(r, x.pdev, 'pcm_pointer(s)', () => drv.pcm_pointer(x.play));
          run_for_ms(20);
          const p1 = call(r, x.pdev, 'pcm_pointer(s)', () => drv.pcm_pointer(x.play));
          if (p1 !== p0) { r.finding('WRONG_RESULT', `the pointer moved from ${p0} to ${p1} while the stream was paused`); break; }
          if (!no_underrun(r, x, 'while paused')) break;
          if (!r.expect_result('pcm_pause(s, false)', call(r, x.pdev, 'pcm_pause(s, false)', () => drv.pcm_pause(x.play, false)), 0)) break;
          if (!play_for(r, x, w, 15)) break;
        }
        if (check_played(r, x, w)) no_underrun(r, x, 'pause and resume');
        stop_locked(r, x);
        close(r, x);
        teardown(r, x);
      });
    });
  }

  test('a controller that cannot pause: pcm_pause() is -ENOSYS, and the stream plays on (x86)', (ctx) => {
    run(ctx, opts('x86', 'pause-and-resume'), (r) => {
      const x = setup(r, { dmac: { pause: false } });
      const w = new Writer(1 << 16, 0x1311);
      if (!open_start(r, x, w) || !play_for(r, x, w, 20)) return;
      r.expect_result('pcm_pause(s, true) on a channel without pause', call(r, x.pdev, 'pcm_pause(s, true)', () => drv.pcm_pause(x.play, true)), ENOSYS);
      if (play_for(r, x, w, 40) && check_played(r, x, w)) no_underrun(r, x, 'after the refused pause');
      stop_locked(r, x);
      close(r, x);
      teardown(r, x);
    });
  });
});

describe('residue granularity', () => {
  test('descriptor residue (none while running): playback still exact, by counting periods (x86)', (ctx) => {
    run(ctx, opts('x86', 'where-the-hardware-is-the-residue'), (r) => {
      const x = setup(r, { dmac: { residue: 'descriptor' } });
      const w = new Writer(1 << 16, 0x1320);
      if (open_start(r, x, w) && play_for(r, x, w, 150, { pointer: false }) && check_played(r, x, w)) no_underrun(r, x, 'playback by counting');
      stop_locked(r, x);
      close(r, x);
      teardown(r, x);
    });
  });

  test('segment residue: the pointer moves a period at a time and is never ahead of the hardware (x86)', (ctx) => {
    run(ctx, opts('x86', 'where-the-hardware-is-the-residue'), (r) => {
      const x = setup(r, { dmac: { residue: 'segment' } });
      const w = new Writer(1 << 16, 0x1321);
      if (open_start(r, x, w) && play_for(r, x, w, 100, { segment: true }) && check_played(r, x, w)) no_underrun(r, x, 'playback with segment residue');
      stop_locked(r, x);
      close(r, x);
      teardown(r, x);
    });
  });
});

describe('stopping', () => {
  for (const shape of ALL) {
    test(`stop with the lock held, close: no callback after the ring is freed, nothing touched; the channel reusable (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'terminate-async-and-synchronize'), (r) => {
        const x = setup(r);
        const w = new Writer(1 << 16, 0x1330);
        if (!open_start(r, x, w) || !play_for(r, x, w, 3 * PERIOD_MS)) return;
        // Just after a period's end: its interrupt and callback are on their way.
        run_for_ms(PERIOD_MS - ((x.i2s.codec.played.length / 256 * PERIOD_MS) % PERIOD_MS) + 0.001);
        stop_locked(r, x);
        close(r, x);
        const periods = x.play.periods;
        run_for_ms(3 * PERIOD_MS);
        if (x.play.periods !== periods) r.finding('WRONG_RESULT', `a period callback ran after pcm_close() (${x.play.periods - periods} of them)`);
        const from = x.i2s.codec.played.length;
        const w2 = new Writer(1 << 16, 0x1331);
        if (open_start(r, x, w2) && play_for(r, x, w2, 30)) check_played(r, x, w2, from, 0, 'after close and a new open');
        stop_locked(r, x);
        close(r, x);
        teardown(r, x);
      });
    });
  }

  for (const shape of ['x86', 'arm64'] as ShapeName[]) {
    test(`unbind in the middle of playback and capture: both stopped and synchronized before their rings go (${shape})`, (ctx) => {
      run(ctx, opts(shape, 'terminate-async-and-synchronize'), (r) => {
        const x = setup(r);
        const w = new Writer(1 << 16, 0x1340);
        if (open_start(r, x, w) && open_start(r, x, null, x.cap) && play_for(r, x, w, 20)) {
          teardown(r, x);
          run_for_ms(10);
        }
      });
    });
  }
});

describe('errors', () => {
  test('bad geometry: -EINVAL for a period that is not a multiple of the burst, one period, 65 periods (x86)', (ctx) => {
    run(ctx, opts('x86', 'the-exercise'), (r) => {
      const x = setup(r);
      for (const [buf, per] of [[4000, 1000], [1024, 1024], [65 * 64, 64]] as [number, number][]) {
        const what = `pcm_open(s, ${buf}, ${per})`;
        const ret = call(r, x.pdev, what, () => drv.pcm_open(x.play, buf, per));
        r.expect_result(what, ret, EINVAL);
        if (ret === 0) close(r, x);
      }
      teardown(r, x);
    });
  });

  test('the ring cannot be allocated: -ENOMEM, nothing held (x86-iommu)', (ctx) => {
    run(ctx, opts('x86-iommu', 'the-exercise'), (r) => {
      const x = setup(r);
      const f = r.m.faults;
      f.only = new Set(['dma_alloc']);
      f.fail_nth = f.count + 1;
      const ret = call(r, x.pdev, `pcm_open(s, ${RING}, ${PERIOD})`, () => drv.pcm_open(x.play, RING, PERIOD));
      f.fail_nth = 0;
      r.expect_result(`pcm_open(s, ${RING}, ${PERIOD}) with the allocation failing`, ret, ENOMEM);
      const w = new Writer(1 << 16, 0x1350);
      if (open_start(r, x, w) && play_for(r, x, w, 20)) check_played(r, x, w);
      stop_locked(r, x);
      close(r, x);
      teardown(r, x);
    });
  });

  test('the cyclic prep fails: pcm_start() is -ENOMEM, the serializer stays off; the next start works (x86)', (ctx) => {
    run(ctx, opts('x86', 'preparing-a-cyclic-transfer'), (r) => {
      const x = setup(r, { v: 'prep_fails' });
      const w = new Writer(1 << 16, 0x1360);
      if (!r.expect_result(`pcm_open(s, ${RING}, ${PERIOD})`, call(r, x.pdev, 'pcm_open', () => drv.pcm_open(x.play, RING, PERIOD)), 0)) return;
      w.feed(r, x);
      r.expect_result('pcm_start(s) with the prep refused', call(r, x.pdev, 'pcm_start(s)', () => drv.pcm_start(x.play)), ENOMEM);
      run_for_ms(2);
      if (x.i2s.codec.played.length) r.finding('WRONG_RESULT', 'the serializer was started although the DMA was not: it played silence');
      if (r.expect_result('pcm_start(s)', call(r, x.pdev, 'pcm_start(s)', () => drv.pcm_start(x.play)), 0) && play_for(r, x, w, 20))
        check_played(r, x, w);
      stop_locked(r, x);
      close(r, x);
      teardown(r, x);
    });
  });
});

void M;
