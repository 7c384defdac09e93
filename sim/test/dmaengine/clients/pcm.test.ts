// Exercise 13's client sketch (clients/pcm.ts) on the bundled provider and the serializer model:
// playback and capture through one cyclic descriptor each, period callbacks, the position from
// the residue (right even when the callbacks are late), pause and resume (and -ENOSYS where the
// controller cannot), an application that falls behind caught as an underrun, the serializer
// started before its DMA starved, and close synchronizing before anything is freed.
import { describe, expect, test } from 'vitest';
import { machine, plug_i2s, plug_dmac, load_platform, unbind_platform, run, run_for_ms, dmesg, codes, explain,
  all_shapes, type ShapeName, type DmacOptions, type I2s, type platform_device } from '../../../testing/index.ts';
import { M } from '../../../kernel/machine.ts';
import { ioremap, writel } from '../../../include/linux/io.ts';
import { dmaengine_tx_status, dma_tx_state_zero, DMA_PAUSED } from '../../../include/linux/dmaengine.ts';
import { ENOSYS } from '../../../include/linux/errno.ts';
import { dmac_driver } from '../../../drivers/dma/dmac.ts';
import { I2S_CTRL, I2S_CTRL_EN, I2S_CTRL_TXE, I2S_CTRL_TXDMAE } from '../../../hw/i2s.ts';
import { dpcm_driver, dpcm_prepare, dpcm_trigger, dpcm_write, dpcm_read, dpcm_pointer, dpcm_close,
  SNDRV_PCM_STREAM_PLAYBACK, SNDRV_PCM_STREAM_CAPTURE, SNDRV_PCM_TRIGGER_START, SNDRV_PCM_TRIGGER_STOP,
  SNDRV_PCM_TRIGGER_PAUSE_PUSH, SNDRV_PCM_TRIGGER_PAUSE_RELEASE, type dpcm, type dpcm_stream } from './pcm.ts';

/** 256 frames (1024 bytes) a period, 4 periods: 1024 frames, 21.3 ms at 48 kHz. */
const PERIOD = 1024, PERIODS = 4, RING = PERIOD * PERIODS / 4;
const tone = (n: number) => ((n * 7 & 0xffff) | (n & 0xffff) << 16) >>> 0;

function rig(shape: ShapeName, o: { dmac?: DmacOptions; delay_irqs_ns?: number; seed?: number } = {}) {
  machine({ shape, seed: o.seed, delay_irqs_ns: o.delay_irqs_ns });
  load_platform(dmac_driver);
  const ctrl = plug_dmac(o.dmac);
  load_platform(dpcm_driver);
  const { pdev, i2s } = plug_i2s(ctrl);
  expect(pdev.dev.driver?.name).toBe('dpcm');
  const d = pdev.dev.driver_data as dpcm;
  return { pdev, i2s, d, play: d.streams[SNDRV_PCM_STREAM_PLAYBACK]!, cap: d.streams[SNDRV_PCM_STREAM_CAPTURE]! };
}

/** The application: writes the tone on from where it got, as far as the ring has room. */
function feeder(pdev: platform_device, s: dpcm_stream) {
  let next = 0;
  return () => {
    const want = Array.from({ length: RING }, (_, i) => tone(next + i));
    next += run(pdev, () => dpcm_write(s, want));
    return next;
  };
}

function start_playback(x: ReturnType<typeof rig>) {
  const feed = feeder(x.pdev, x.play);
  expect(run(x.pdev, () => dpcm_prepare(x.play, PERIOD, PERIODS))).toBe(0);
  expect(feed()).toBe(RING);
  expect(run(x.pdev, () => dpcm_trigger(x.play, SNDRV_PCM_TRIGGER_START))).toBe(0);
  return feed;
}

/** Frames the DMA has taken from the ring: played, in the FIFO, and up to a burst in flight. */
function taken(i2s: I2s): number {
  return i2s.codec.played.length + i2s.tx_count;
}

describe('exercise 13 sketch: an audio ring on a cyclic descriptor', { timeout: 60_000 }, () => {
  test.each(all_shapes())('%s: playback: every frame heard once and in order, a callback per period, the pointer where the DMA is', (shape) => {
    const x = rig(shape);
    const feed = start_playback(x);
    for (let i = 0; i < 25; i++) {
      run_for_ms(2);
      feed();
      const ptr = run(x.pdev, () => dpcm_pointer(x.play));
      const t = taken(x.i2s) % RING;
      expect((ptr - t + RING) % RING).toBeLessThanOrEqual(8);
    }
    const played = x.i2s.codec.played;
    expect(played.length).toBe(2400);
    expect(played.every((f, i) => f === tone(i))).toBe(true);
    expect(x.i2s.underruns).toBe(0);
    expect(x.play.xruns).toBe(0);
    expect(x.play.periods_elapsed).toBe(Math.floor(taken(x.i2s) / (PERIOD / 4)));
    run(x.pdev, () => dpcm_close(x.play));
    const periods = x.play.periods_elapsed;
    run_for_ms(20);
    expect(x.play.periods_elapsed).toBe(periods);
    unbind_platform(x.pdev);
    expect(codes(), explain()).toEqual([]);
  });

  test('capture: the codec\'s frames come out of the ring in order, none lost', () => {
    const x = rig('arm64');
    expect(run(x.pdev, () => dpcm_prepare(x.cap, PERIOD, PERIODS))).toBe(0);
    expect(run(x.pdev, () => dpcm_trigger(x.cap, SNDRV_PCM_TRIGGER_START))).toBe(0);
    const got: number[] = [];
    for (let i = 0; i < 20; i++) {
      run_for_ms(3);
      got.push(...run(x.pdev, () => dpcm_read(x.cap, RING)));
    }
    expect(got.length).toBeGreaterThan(2800);
    expect(got.every((f, n) => f === (((n & 0xffff) | ((~n & 0xffff) << 16)) >>> 0))).toBe(true);
    expect(x.i2s.overruns).toBe(0);
    run(x.pdev, () => dpcm_close(x.cap));
    unbind_platform(x.pdev);
    expect(codes(), explain()).toEqual([]);
  });

  test('callbacks 4 ms late: the position from the residue stays right, the one from callbacks falls a period behind', () => {
    const x = rig('arm64-smmu', { delay_irqs_ns: 4e6 });
    const feed = start_playback(x);
    let worst_residue = 0, worst_callbacks = 0;
    for (let i = 0; i < 80; i++) {
      run_for_ms(0.5);
      if (i % 4 === 3) feed();
      const t = taken(x.i2s) % RING;
      const ptr = run(x.pdev, () => dpcm_pointer(x.play));
      worst_residue = Math.max(worst_residue, (ptr - t + RING) % RING);
      worst_callbacks = Math.max(worst_callbacks, (t - x.play.pos / 4 + RING) % RING);
    }
    expect(worst_residue).toBeLessThanOrEqual(8);
    expect(worst_callbacks).toBeGreaterThan(RING / PERIODS);
    // The hardware does not wait for the CPU: not a frame missed.
    expect(x.i2s.underruns).toBe(0);
    expect(x.i2s.codec.played.every((f, i) => f === tone(i))).toBe(true);
  });

  test('pause holds the pointer and the sound (DMA_PAUSED), without an underrun; release carries on where it was', () => {
    const x = rig('x86');
    const feed = start_playback(x);
    run_for_ms(10);
    feed();
    expect(run(x.pdev, () => dpcm_trigger(x.play, SNDRV_PCM_TRIGGER_PAUSE_PUSH))).toBe(0);
    run_for_ms(1);
    const ptr = run(x.pdev, () => dpcm_pointer(x.play)), heard = x.i2s.codec.played.length;
    const st = dma_tx_state_zero();
    expect(run(x.pdev, () => dmaengine_tx_status(x.play.chan!, x.play.cookie, st))).toBe(DMA_PAUSED);
    run_for_ms(10);
    expect(run(x.pdev, () => dpcm_pointer(x.play))).toBe(ptr);
    expect(x.i2s.codec.played.length).toBe(heard);
    expect(run(x.pdev, () => dpcm_trigger(x.play, SNDRV_PCM_TRIGGER_PAUSE_RELEASE))).toBe(0);
    for (let i = 0; i < 5; i++) { run_for_ms(2); feed(); }
    expect(x.i2s.codec.played.length).toBeGreaterThan(heard + 400);
    expect(x.i2s.codec.played.every((f, i) => f === tone(i))).toBe(true);
    expect(x.i2s.underruns).toBe(0);
    expect(run(x.pdev, () => dpcm_trigger(x.play, SNDRV_PCM_TRIGGER_PAUSE_RELEASE))).toBeLessThan(0);
  });

  test('a controller that cannot pause: PAUSE_PUSH is -ENOSYS, and the stream runs on', () => {
    const x = rig('arm64', { dmac: { pause: false } });
    expect(x.d.can_pause).toBe(false);
    const feed = start_playback(x);
    run_for_ms(5);
    expect(run(x.pdev, () => dpcm_trigger(x.play, SNDRV_PCM_TRIGGER_PAUSE_PUSH))).toBe(-ENOSYS);
    expect(x.play.state).toBe('running');
    feed();
    run_for_ms(5);
    expect(x.i2s.codec.played.length).toBe(480);
    expect(x.i2s.underruns).toBe(0);
  });

  test('an application that stops writing: the period callback finds the ring empty and stops the stream (XRUN) before stale frames are heard', () => {
    const x = rig('arm64');
    start_playback(x);
    run_for_ms(40);
    expect(x.play.state).toBe('xrun');
    expect(x.play.xruns).toBe(1);
    const played = x.i2s.codec.played, heard = played.length;
    expect(heard).toBeLessThanOrEqual(RING);
    expect(played.every((f, i) => f === tone(i))).toBe(true);
    // Stopped by the DAI first: the serializer itself never ran dry.
    expect(x.i2s.underruns).toBe(0);
    // Prepared again, it plays again.
    const feed = feeder(x.pdev, x.play);
    expect(run(x.pdev, () => dpcm_prepare(x.play, PERIOD, PERIODS))).toBe(0);
    feed();
    expect(run(x.pdev, () => dpcm_trigger(x.play, SNDRV_PCM_TRIGGER_START))).toBe(0);
    run_for_ms(5);
    expect(played.length).toBeGreaterThan(heard + 200);
  });

  test('the serializer started a millisecond before its DMA: silence, counted by the device and said by dmalab; the sketch\'s order has none', () => {
    const x = rig('x86');
    const base = ioremap(x.pdev.resource[0]!.start, 0x1000);
    const feed = feeder(x.pdev, x.play);
    run(x.pdev, () => dpcm_prepare(x.play, PERIOD, PERIODS));
    feed();
    writel(I2S_CTRL_EN | I2S_CTRL_TXE | I2S_CTRL_TXDMAE, base + I2S_CTRL);
    run_for_ms(1);
    run(x.pdev, () => dpcm_trigger(x.play, SNDRV_PCM_TRIGGER_START));
    run_for_ms(5);
    expect(x.i2s.underruns).toBe(48);
    expect(x.d.hw_xruns).toBeGreaterThan(0);
    expect(dmesg().filter((l) => l.includes('TX underrun'))).toHaveLength(1);
    run(x.pdev, () => dpcm_trigger(x.play, SNDRV_PCM_TRIGGER_STOP));
    const y = rig('x86');
    start_playback(y);
    run_for_ms(5);
    expect(y.i2s.underruns).toBe(0);
    expect(dmesg().some((l) => l.includes('TX underrun'))).toBe(false);
  });

  test('the controller described but not probed yet: the probe defers, then binds', () => {
    machine({ shape: 'arm64' });
    load_platform(dpcm_driver);
    const ctrl = plug_dmac();
    const { pdev } = plug_i2s(ctrl);
    expect(pdev.dev.driver).toBeFalsy();
    load_platform(dmac_driver);
    expect(pdev.dev.driver?.name).toBe('dpcm');
    expect(M.dmesg.texts()).toContain(`dpcm ${pdev.dev.init_name}: playback: dma0chan0`);
    unbind_platform(pdev);
    expect(codes()).toEqual([]);
  });
});
