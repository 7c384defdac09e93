// A DMA_MEMCPY client, the shape of exercise 11: a driver with no DMA engine of its own borrows
// a memcpy channel from whatever controller offers one, copies through it, and gives it back.
// The model is drivers/dma/dmatest.c: map with the channel's device, prepare, set the
// callback, submit, issue, wait with a timeout, check the result, unmap. Probe copies a
// pattern once and checks every byte, as a driver's self-test does (ioat_dma_self_test() in
// drivers/dma/ioat/init.c).
//
// Device tree: compatible = "dmalab,dma-copy"; no registers, no "dmas" (any memcpy channel).
import { platform_set_drvdata, platform_get_drvdata, type platform_device, type platform_driver } from '#linux/platform_device';
import { dma_map_single, dma_unmap_single, dma_mapping_error, DMA_TO_DEVICE, DMA_FROM_DEVICE,
  type dma_addr_t } from '#linux/dma-mapping';
import { dma_cap_mask, dma_cap_zero, dma_cap_set, dma_request_chan_by_mask, dma_release_channel, dma_chan_name,
  dmaengine_prep_dma_memcpy, dmaengine_submit, dma_submit_error, dma_async_issue_pending, dmaengine_terminate_sync,
  DMA_MEMCPY, DMA_PREP_INTERRUPT, DMA_CTRL_ACK, DMA_TRANS_NOERROR, type dma_chan, type dmaengine_result } from '#linux/dmaengine';
import { DECLARE_COMPLETION, reinit_completion, complete, wait_for_completion_timeout, type completion } from '#linux/completion';
import { msecs_to_jiffies } from '#linux/jiffies';
import { kmalloc, kfree, GFP_KERNEL } from '#linux/slab';
import { memset, memcmp } from '#linux/string';
import { IS_ERR, PTR_ERR } from '#linux/err';
import { dev_err, dev_info, dev_err_probe } from '#linux/device';
import { EIO, ENOMEM, ETIMEDOUT } from '#linux/errno';

const DCOPY_TIMEOUT_MS = 3000;
const SELFTEST_LEN = 4096;

export interface dcopy {
  pdev: platform_device;
  chan: dma_chan;
  done: completion;
  /** What the callback was told (callback_result). */
  result: dmaengine_result;
}

/** The completion callback: runs in the channel's tasklet, so it only records and wakes. */
function dcopy_callback(p: dcopy, result: dmaengine_result | null): void {
  p.result = result ?? { result: DMA_TRANS_NOERROR, residue: 0 };
  complete(p.done);
}

/** One copy between mapped buffers: prepare, submit, issue, wait. 0 or a negative errno. */
function dcopy_run(p: dcopy, d: dma_addr_t, s: dma_addr_t, len: number): number {
  const chan = p.chan;
  const tx = dmaengine_prep_dma_memcpy(chan, d, s, len, DMA_PREP_INTERRUPT | DMA_CTRL_ACK);
  if (!tx) {
    dev_err(p.pdev.dev, '%s: prep of a %zu-byte copy failed\n', dma_chan_name(chan), len);
    return -EIO;
  }
  tx.callback_result = dcopy_callback;
  tx.callback_param = p;
  reinit_completion(p.done);
  const cookie = dmaengine_submit(tx);
  if (dma_submit_error(cookie)) {
    dev_err(p.pdev.dev, '%s: submit error %d\n', dma_chan_name(chan), cookie);
    return -EIO;
  }
  // Nothing moves until the pending queue is issued.
  dma_async_issue_pending(chan);

  if (!wait_for_completion_timeout(p.done, msecs_to_jiffies(DCOPY_TIMEOUT_MS))) {
    dev_err(p.pdev.dev, '%s: copy of %zu bytes timed out\n', dma_chan_name(chan), len);
    // The controller may still be writing: stop it before the buffers are unmapped.
    dmaengine_terminate_sync(chan);
    return -ETIMEDOUT;
  }
  if (p.result.result !== DMA_TRANS_NOERROR) {
    dev_err(p.pdev.dev, '%s: copy failed (result %d, %u bytes left)\n', dma_chan_name(chan), p.result.result,
      p.result.residue);
    return -EIO;
  }
  return 0;
}

/** Copy `len` bytes from `src` to `dst` (kernel buffers, kmalloc'ed) through the channel.
 *  Returns 0, or a negative errno. Sleeps: process context only. */
export function dcopy_memcpy(p: dcopy, dst: number, src: number, len: number): number {
  // The controller does the accesses, so the buffers are mapped for its device.
  const dma_dev = p.chan.device.dev!;
  const s = dma_map_single(dma_dev, src, len, DMA_TO_DEVICE);
  if (dma_mapping_error(dma_dev, s)) return -ENOMEM;
  let ret = -ENOMEM;
  const d = dma_map_single(dma_dev, dst, len, DMA_FROM_DEVICE);
  if (!dma_mapping_error(dma_dev, d)) {
    ret = dcopy_run(p, d, s, len);
    dma_unmap_single(dma_dev, d, len, DMA_FROM_DEVICE);
  }
  dma_unmap_single(dma_dev, s, len, DMA_TO_DEVICE);
  return ret;
}

/** Copy a pattern and check every byte of it, and that the copy went nowhere else. */
export function dcopy_selftest(p: dcopy, len = SELFTEST_LEN): number {
  const src = kmalloc(len, GFP_KERNEL);
  if (!src) return -ENOMEM;
  // One spare byte each side of the destination, to see a copy that overran.
  const dst = kmalloc(len + 2, GFP_KERNEL);
  if (!dst) {
    kfree(src);
    return -ENOMEM;
  }
  for (let i = 0; i < len; i += 256) memset(src + i, (i >> 8) ^ 0xa5, Math.min(256, len - i));
  memset(dst, 0, len + 2);

  let ret = dcopy_memcpy(p, dst + 1, src, len);
  if (!ret && memcmp(dst + 1, src, len) !== 0) {
    dev_err(p.pdev.dev, 'self-test: the copy does not match its source\n');
    ret = -EIO;
  }
  const zero = kmalloc(1, GFP_KERNEL);
  if (!ret && zero) {
    memset(zero, 0, 1);
    if (memcmp(dst, zero, 1) !== 0 || memcmp(dst + len + 1, zero, 1) !== 0) {
      dev_err(p.pdev.dev, 'self-test: the copy wrote outside its destination\n');
      ret = -EIO;
    }
  }
  kfree(zero);
  kfree(dst);
  kfree(src);
  return ret;
}

function dcopy_probe(pdev: platform_device): number {
  const mask = dma_cap_mask();
  dma_cap_zero(mask);
  dma_cap_set(DMA_MEMCPY, mask);
  // -EPROBE_DEFER while no controller has registered yet: the driver core tries again.
  const chan = dma_request_chan_by_mask(mask);
  if (IS_ERR(chan)) return dev_err_probe(pdev.dev, PTR_ERR(chan), 'no memcpy channel\n');

  const p: dcopy = { pdev, chan, done: DECLARE_COMPLETION(), result: { result: DMA_TRANS_NOERROR, residue: 0 } };
  const ret = dcopy_selftest(p);
  if (ret) {
    dma_release_channel(chan);
    return ret;
  }
  platform_set_drvdata(pdev, p);
  dev_info(pdev.dev, 'using %s\n', dma_chan_name(chan));
  return 0;
}

function dcopy_remove(pdev: platform_device): number {
  const p = platform_get_drvdata<dcopy>(pdev);
  dma_release_channel(p.chan);
  return 0;
}

export const dcopy_driver: platform_driver = {
  probe: dcopy_probe,
  remove: dcopy_remove,
  driver: { name: 'dma-copy', of_match_table: [{ compatible: 'dmalab,dma-copy' }] },
};
