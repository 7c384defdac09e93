// Exercise 11, reference solution: dmacopy, a platform driver for a pseudo-device with no DMA
// engine of its own (compatible = "dmalab,dmacopy"). It borrows whatever DMA_MEMCPY channel the
// machine's controllers offer, copies through it for its callers, and checks itself the way
// drivers/dma/dmatest.c does: patterns in both buffers, one copy of a window, six regions
// verified. Compare dmatest.c: request_channels(), dmatest_func(), dmatest_callback(),
// dmatest_verify().
import { platform_set_drvdata, platform_get_drvdata, type platform_device, type platform_driver } from '#linux/platform_device';
import { dma_map_single, dma_unmap_single, dma_mapping_error, DMA_TO_DEVICE, DMA_FROM_DEVICE } from '#linux/dma-mapping';
import { dma_cap_mask, dma_cap_zero, dma_cap_set, dma_request_chan_by_mask, dma_release_channel, dma_chan_name,
  dmaengine_prep_dma_memcpy, dmaengine_submit, dma_submit_error, dma_async_issue_pending, dma_async_is_tx_complete,
  dmaengine_terminate_sync, DMA_MEMCPY, DMA_PREP_INTERRUPT, DMA_CTRL_ACK, DMA_TRANS_NOERROR, DMA_COMPLETE,
  type dma_chan, type dmaengine_result } from '#linux/dmaengine';
import { DECLARE_COMPLETION, reinit_completion, complete, wait_for_completion_timeout, type completion } from '#linux/completion';
import { msecs_to_jiffies } from '#linux/jiffies';
import { ktime_get, ktime_sub, ktime_to_us } from '#linux/ktime';
import { kmalloc, kfree, GFP_KERNEL } from '#linux/slab';
import { copy_from_mem, copy_to_mem } from '#dmalab/mem';
import { IS_ERR, PTR_ERR } from '#linux/err';
import { dev_err, dev_info, dev_warn, dev_err_probe, type device } from '#linux/device';
import { EINVAL, EIO, ENOMEM, ETIMEDOUT } from '#linux/errno';

export const DMACOPY_TIMEOUT_MS = 1000;
export const DMACOPY_MAX_LEN = 1 << 20;

export interface dmacopy {
  dev: device;
  chan: dma_chan;
  done: completion;
  /** What the last callback was told (callback_result). */
  result: dmaengine_result;
}

// ---- the self-test's patterns (dmatest.c's scheme) ------------------------------------------

const PATTERN_SRC = 0x80, PATTERN_DST = 0x00, PATTERN_COPY = 0x40, PATTERN_OVERWRITE = 0x20, PATTERN_COUNT_MASK = 0x1f;
const MAX_ERROR_COUNT = 32;

function gen_inv_idx(index: number): number {
  return ~index & PATTERN_COUNT_MASK;
}

/** dmatest_init_srcs(): the whole source buffer, the window [start, start + len) marked COPY. */
export function dmacopy_fill_src(buf: number, start: number, len: number, buf_size: number): void {
  const b = new Uint8Array(buf_size);
  for (let i = 0; i < buf_size; i++) b[i] = PATTERN_SRC | gen_inv_idx(i) | (i >= start && i < start + len ? PATTERN_COPY : 0);
  copy_to_mem(buf, b);
}

/** dmatest_init_dsts(): the whole destination buffer, the window marked OVERWRITE. */
export function dmacopy_fill_dst(buf: number, start: number, len: number, buf_size: number): void {
  const b = new Uint8Array(buf_size);
  for (let i = 0; i < buf_size; i++) b[i] = PATTERN_DST | gen_inv_idx(i) | (i >= start && i < start + len ? PATTERN_OVERWRITE : 0);
  copy_to_mem(buf, b);
}

/** dmatest_verify(): bytes [start, end) of buf must hold `pattern` with the index counter
 *  from `counter`. Prints dmatest's words for the first MAX_ERROR_COUNT wrong bytes; returns how
 *  many were wrong. */
export function dmacopy_check(cp: dmacopy, buf: number, start: number, end: number, counter: number, pattern: number,
  is_srcbuf: boolean): number {
  const name = `${dma_chan_name(cp.chan)}-copy0`;
  const b = copy_from_mem(buf + start, end - start);
  let error_count = 0;
  for (let i = start; i < end; i++, counter++) {
    const actual = b[i - start]!;
    const expected = pattern | gen_inv_idx(counter);
    if (actual === expected) continue;
    if (error_count < MAX_ERROR_COUNT) {
      const diff = actual ^ pattern;
      const what = is_srcbuf ? 'srcbuf[0x%x] overwritten!'
        : pattern & PATTERN_COPY && diff & (PATTERN_COPY | PATTERN_OVERWRITE) ? 'dstbuf[0x%x] not copied!'
          : diff & PATTERN_SRC ? 'dstbuf[0x%x] was copied!' : 'dstbuf[0x%x] mismatch!';
      dev_warn(cp.dev, `%s: ${what} Expected %02x, got %02x\n`, name, i, expected, actual);
    }
    error_count++;
  }
  if (error_count > MAX_ERROR_COUNT) dev_warn(cp.dev, '%s: %u errors suppressed\n', name, error_count - MAX_ERROR_COUNT);
  return error_count;
}

/** dmatest_persec(): val per second over runtime µs, in 8-bit fixed point. */
function dmatest_persec(runtime_us: number, val: number): bigint {
  if (runtime_us <= 0) return 0n;
  return ((1000000n * BigInt(val)) << 8n) / BigInt(Math.floor(runtime_us));
}

/** A seeded xorshift (the self-test's dmatest_random()). */
function dmacopy_rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x;
  };
}

// ---- the copy --------------------------------------------------------------------------------

/** The completion callback: the channel's tasklet (softirq) runs it, so it records and wakes. */
function dmacopy_callback(cp: dmacopy, result: dmaengine_result | null): void {
  cp.result = result ?? { result: DMA_TRANS_NOERROR, residue: 0 };
  complete(cp.done);
}

/** Copy `len` bytes from kernel buffer `src` to `dst` through the channel. Sleeps. 0, or a
 *  negative errno. */
export function dmacopy_copy(cp: dmacopy, dst: number, src: number, len: number): number {
  const chan = cp.chan;
  if (len <= 0 || len > DMACOPY_MAX_LEN) return -EINVAL;
  // The controller reads and writes the buffers: map them for its device, not ours.
  const dma_dev = chan.device.dev!;
  const s = dma_map_single(dma_dev, src, len, DMA_TO_DEVICE);
  if (dma_mapping_error(dma_dev, s)) return -ENOMEM;
  const d = dma_map_single(dma_dev, dst, len, DMA_FROM_DEVICE);
  if (dma_mapping_error(dma_dev, d)) {
    dma_unmap_single(dma_dev, s, len, DMA_TO_DEVICE);
    return -ENOMEM;
  }
  let ret = 0;
  run: {
    const tx = dmaengine_prep_dma_memcpy(chan, d, s, len, DMA_PREP_INTERRUPT | DMA_CTRL_ACK);
    if (!tx) {
      dev_err(cp.dev, '%s: prep of a %zu-byte copy failed\n', dma_chan_name(chan), len);
      ret = -ENOMEM;
      break run;
    }
    tx.callback_result = dmacopy_callback;
    tx.callback_param = cp;
    reinit_completion(cp.done);
    const cookie = dmaengine_submit(tx);
    if (dma_submit_error(cookie)) {
      dev_err(cp.dev, '%s: submit error %d\n', dma_chan_name(chan), cookie);
      ret = -EIO;
      break run;
    }
    // Submitting only queues the descriptor: nothing moves until the queue is issued.
    dma_async_issue_pending(chan);

    if (!wait_for_completion_timeout(cp.done, msecs_to_jiffies(DMACOPY_TIMEOUT_MS))) {
      dev_err(cp.dev, '%s: copy of %zu bytes timed out\n', dma_chan_name(chan), len);
      // The controller may still be reading and writing: stop it before anything is unmapped.
      dmaengine_terminate_sync(chan);
      ret = -ETIMEDOUT;
      break run;
    }
    if (cp.result.result !== DMA_TRANS_NOERROR || dma_async_is_tx_complete(chan, cookie, null, null) !== DMA_COMPLETE) {
      dev_err(cp.dev, '%s: copy failed (result %d, %u bytes left)\n', dma_chan_name(chan), cp.result.result,
        cp.result.residue);
      ret = -EIO;
    }
  }
  dma_unmap_single(dma_dev, d, len, DMA_FROM_DEVICE);
  dma_unmap_single(dma_dev, s, len, DMA_TO_DEVICE);
  return ret;
}

/** dmatest in small: `iterations` copies of a seeded window between two buffers of `buf_size`,
 *  each checked in all six regions. Returns the number of failed iterations. */
export function dmacopy_selftest(cp: dmacopy, iterations: number, buf_size: number, seed: number): number {
  const name = `${dma_chan_name(cp.chan)}-copy0`;
  const align = cp.chan.device.copy_align;
  const src = kmalloc(buf_size, GFP_KERNEL);
  const dst = kmalloc(buf_size, GFP_KERNEL);
  if (!src || !dst) {
    kfree(src);
    kfree(dst);
    return -ENOMEM;
  }
  const random = dmacopy_rng(seed);
  let total_tests = 0, failed_tests = 0, total_len = 0;
  const start = ktime_get();
  while (total_tests < iterations) {
    total_tests++;
    let len = (random() % buf_size) + 1;
    len = (len >> align) << align;
    if (!len) len = 1 << align;
    const src_off = ((random() % (buf_size - len + 1)) >> align) << align;
    const dst_off = ((random() % (buf_size - len + 1)) >> align) << align;
    total_len += len;
    dmacopy_fill_src(src, src_off, len, buf_size);
    dmacopy_fill_dst(dst, dst_off, len, buf_size);

    const ret = dmacopy_copy(cp, dst + dst_off, src + src_off, len);
    if (ret) {
      dev_info(cp.dev, "%s: result #%u: '%s' with src_off=0x%x dst_off=0x%x len=0x%x (%d)\n", name, total_tests,
        'copy error', src_off, dst_off, len, ret);
      failed_tests++;
      continue;
    }
    let errors = dmacopy_check(cp, src, 0, src_off, 0, PATTERN_SRC, true);
    errors += dmacopy_check(cp, src, src_off, src_off + len, src_off, PATTERN_SRC | PATTERN_COPY, true);
    errors += dmacopy_check(cp, src, src_off + len, buf_size, src_off + len, PATTERN_SRC, true);
    errors += dmacopy_check(cp, dst, 0, dst_off, 0, PATTERN_DST, false);
    errors += dmacopy_check(cp, dst, dst_off, dst_off + len, src_off, PATTERN_SRC | PATTERN_COPY, false);
    errors += dmacopy_check(cp, dst, dst_off + len, buf_size, dst_off + len, PATTERN_DST, false);
    if (errors) {
      dev_info(cp.dev, "%s: result #%u: '%s' with src_off=0x%x dst_off=0x%x len=0x%x (%u)\n", name, total_tests,
        'data error', src_off, dst_off, len, errors);
      failed_tests++;
    }
  }
  const runtime = ktime_to_us(ktime_sub(ktime_get(), start));
  const iops = dmatest_persec(runtime, total_tests);
  dev_info(cp.dev, '%s: summary %u tests, %u failures %llu.%02llu iops %llu KB/s (%d)\n', name, total_tests, failed_tests,
    iops >> 8n, ((iops & 0xffn) * 100n) >> 8n, dmatest_persec(runtime, total_len >> 10) >> 8n, 0);
  kfree(dst);
  kfree(src);
  return failed_tests;
}

// ---- probe and remove --------------------------------------------------------------------------

function dmacopy_probe(pdev: platform_device): number {
  const mask = dma_cap_mask();
  dma_cap_zero(mask);
  dma_cap_set(DMA_MEMCPY, mask);
  // -EPROBE_DEFER while no controller has registered: the driver core probes again when one has.
  // -ENODEV: no controller can copy, and a copy offload without a copier has nothing to offer.
  const chan = dma_request_chan_by_mask(mask);
  if (IS_ERR(chan)) return dev_err_probe(pdev.dev, PTR_ERR(chan), 'no memcpy channel\n');

  const cp: dmacopy = { dev: pdev.dev, chan, done: DECLARE_COMPLETION(), result: { result: DMA_TRANS_NOERROR, residue: 0 } };
  platform_set_drvdata(pdev, cp);
  dev_info(pdev.dev, 'using %s\n', dma_chan_name(chan));
  return 0;
}

function dmacopy_remove(pdev: platform_device): number {
  const cp = platform_get_drvdata<dmacopy>(pdev);
  dma_release_channel(cp.chan);
  return 0;
}

export const dmacopy_driver: platform_driver = {
  probe: dmacopy_probe,
  remove: dmacopy_remove,
  driver: { name: 'dmacopy', of_match_table: [{ compatible: 'dmalab,dmacopy' }] },
};
