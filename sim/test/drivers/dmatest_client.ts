// A memcpy client in the manner of drivers/dma/dmatest.c: source and destination buffers with
// dmatest's patterns, random lengths and offsets per iteration (from the seed), both buffers
// mapped whole with the channel's device (the destination DMA_BIDIRECTIONAL, as dmatest does),
// a callback to wait for, then every region checked: the source untouched, the window copied
// from the right offset, and nothing written before or after it. Reports in dmatest's words.
import { dma_map_single, dma_unmap_single, dma_mapping_error, DMA_TO_DEVICE, DMA_BIDIRECTIONAL } from '#linux/dma-mapping';
import { kmalloc, kfree, GFP_KERNEL } from '#linux/slab';
import { DECLARE_COMPLETION, reinit_completion, complete, wait_for_completion_timeout, type completion } from '#linux/completion';
import { msecs_to_jiffies } from '#linux/jiffies';
import { ktime_get, ktime_sub, ktime_to_us } from '#linux/ktime';
import { pr_info, pr_warn } from '#linux/printk';
import { copy_from_mem, copy_to_mem } from '#dmalab/mem';
import { dmaengine_submit, dma_submit_error, dma_async_issue_pending, dma_async_is_tx_complete, dmaengine_terminate_sync,
  dma_chan_name, DMA_CTRL_ACK, DMA_PREP_INTERRUPT, DMA_COMPLETE, DMA_ERROR, type dma_chan } from '#linux/dmaengine';

const PATTERN_SRC = 0x80, PATTERN_DST = 0x00, PATTERN_COPY = 0x40, PATTERN_OVERWRITE = 0x20, PATTERN_COUNT_MASK = 0x1f;

export interface dmatest_result { tests: number; failures: number; errors: string[]; summary: string }

const FIXPT_SHIFT = 8;
/** dmatest_persec(): val per second over runtime µs, fixed point with 8 fraction bits. */
function dmatest_persec(runtime: number, val: number): bigint {
  if (runtime <= 0) return 0n;
  let per_sec = 1000000n, rt = BigInt(Math.floor(runtime));
  while (rt > 0xffffffffn) { rt >>= 1n; per_sec <<= 1n; }
  return ((per_sec * BigInt(val)) << BigInt(FIXPT_SHIFT)) / rt;
}
function dmatest_KBs(runtime: number, len: number): bigint {
  return dmatest_persec(runtime, Math.floor(len / 1024)) >> BigInt(FIXPT_SHIFT);
}

function gen_inv_idx(i: number): number {
  return ~i & PATTERN_COUNT_MASK;
}

/** A seeded xorshift, as dmatest's prandom for lengths and offsets. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x;
  };
}

/** dmatest_init_srcs()/_dsts(): the pattern byte by byte, written in one go. */
function init_buf(buf: number, size: number, start: number, len: number, base: number, in_window: number): void {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = base | (i >= start && i < start + len ? in_window : 0) | gen_inv_idx(i);
  copy_to_mem(buf, b);
}

/** dmatest_verify(): count bytes that are not what they should be, naming the first few. */
function verify(r: dmatest_result, name: string, bytes: Uint8Array, start: number, end: number, counter: number,
  pattern: number, is_srcbuf: boolean): number {
  let errors = 0;
  for (let i = start; i < end; i++, counter++) {
    const actual = bytes[i]!;
    const expected = pattern | gen_inv_idx(counter);
    if (actual === expected) continue;
    if (errors++ < 4) {
      const what = is_srcbuf ? 'srcbuf[0x%x] overwritten!' : (pattern & PATTERN_COPY) ? ((actual & PATTERN_SRC) ? 'dstbuf[0x%x] mismatch!' : 'dstbuf[0x%x] not copied!') : 'dstbuf[0x%x] was copied!';
      r.errors.push(`${name}: ${what.replace('%x', i.toString(16))} Expected ${expected.toString(16).padStart(2, '0')}, got ${actual.toString(16).padStart(2, '0')}`);
    }
  }
  return errors;
}

/** Run `iterations` memcpy tests of up to `buf_size` bytes on `chan`; prints dmatest's summary. */
export function dmatest_memcpy(chan: dma_chan, iterations: number, buf_size: number, seed: number, timeout_ms = 3000): dmatest_result {
  const dev = chan.device.dev!;
  const name = `${dma_chan_name(chan)}-copy0`;
  const r: dmatest_result = { tests: 0, failures: 0, errors: [], summary: '' };
  const src = kmalloc(buf_size, GFP_KERNEL), dst = kmalloc(buf_size, GFP_KERNEL);
  const done: completion = DECLARE_COMPLETION();
  const rand = rng(seed);
  const align = chan.device.copy_align;
  const t0 = ktime_get();
  let total_len = 0;
  for (let n = 0; n < iterations; n++) {
    r.tests++;
    let len = (rand() % buf_size) + 1;
    len = Math.max(1 << align, (len >> align) << align);
    const src_off = ((rand() % (buf_size - len + 1)) >> align) << align;
    const dst_off = ((rand() % (buf_size - len + 1)) >> align) << align;
    init_buf(src, buf_size, src_off, len, PATTERN_SRC, PATTERN_COPY);
    init_buf(dst, buf_size, dst_off, len, PATTERN_DST, PATTERN_OVERWRITE);
    const s = dma_map_single(dev, src, buf_size, DMA_TO_DEVICE);
    if (dma_mapping_error(dev, s)) { r.failures++; r.errors.push(`${name}: src mapping error`); continue; }
    const d = dma_map_single(dev, dst, buf_size, DMA_BIDIRECTIONAL);
    if (dma_mapping_error(dev, d)) { dma_unmap_single(dev, s, buf_size, DMA_TO_DEVICE); r.failures++; r.errors.push(`${name}: dst mapping error`); continue; }
    const tx = chan.device.device_prep_dma_memcpy!(chan, d + dst_off, s + src_off, len, DMA_CTRL_ACK | DMA_PREP_INTERRUPT);
    let failed = '';
    if (!tx) failed = 'prep error';
    else {
      reinit_completion(done);
      tx.callback = (c: completion) => complete(c);
      tx.callback_param = done;
      const cookie = dmaengine_submit(tx);
      if (dma_submit_error(cookie)) failed = 'submit error';
      else {
        dma_async_issue_pending(chan);
        const left = wait_for_completion_timeout(done, msecs_to_jiffies(timeout_ms));
        const status = dma_async_is_tx_complete(chan, cookie, null, null);
        if (!left) failed = 'test timed out';
        else if (status !== DMA_COMPLETE) failed = status === DMA_ERROR ? 'completion error status' : 'completion busy status';
      }
    }
    dma_unmap_single(dev, d, buf_size, DMA_BIDIRECTIONAL);
    dma_unmap_single(dev, s, buf_size, DMA_TO_DEVICE);
    if (failed) {
      r.failures++;
      r.errors.push(`${name}: result #${n + 1}: '${failed}' with src_off=0x${src_off.toString(16)} dst_off=0x${dst_off.toString(16)} len=0x${len.toString(16)} (0)`);
      pr_warn('%s\n', r.errors[r.errors.length - 1]);
      continue;
    }
    const sb = copy_from_mem(src, buf_size), db = copy_from_mem(dst, buf_size);
    let errs = verify(r, name, sb, 0, src_off, 0, PATTERN_SRC, true);
    errs += verify(r, name, sb, src_off, src_off + len, src_off, PATTERN_SRC | PATTERN_COPY, true);
    errs += verify(r, name, sb, src_off + len, buf_size, src_off + len, PATTERN_SRC, true);
    errs += verify(r, name, db, 0, dst_off, 0, PATTERN_DST, false);
    errs += verify(r, name, db, dst_off, dst_off + len, src_off, PATTERN_SRC | PATTERN_COPY, false);
    errs += verify(r, name, db, dst_off + len, buf_size, dst_off + len, PATTERN_DST, false);
    total_len += len;
    if (errs) {
      r.failures++;
      r.errors.push(`${name}: result #${n + 1}: 'data error' with src_off=0x${src_off.toString(16)} dst_off=0x${dst_off.toString(16)} len=0x${len.toString(16)} (${errs})`);
    }
  }
  if (r.failures) dmaengine_terminate_sync(chan);
  kfree(dst);
  kfree(src);
  const runtime = ktime_to_us(ktime_sub(ktime_get(), t0));
  const iops = dmatest_persec(runtime, r.tests);
  const frac = ((iops & 0xffn) * 100n) >> 8n;
  r.summary = `${name}: summary ${r.tests} tests, ${r.failures} failures ${iops >> 8n}.${String(frac).padStart(2, '0')} iops ${dmatest_KBs(runtime, total_len)} KB/s (0)`;
  pr_info('%s\n', r.summary);
  return r;
}
