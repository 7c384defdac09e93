// Hidden tests of exercise 08 (bounce-and-iommu): edu where its 28 bits do not reach the memory.
// arm64 with memory placed high (every mapping bounces through swiotlb by necessity), x86-swiotlb
// (bouncing forced), x86-iommu and arm64-smmu (IOVAs, faults), x86 (direct); then a bounce pool or
// an IOVA space too small for a batch, one too small for anything, and a PC with no pool at all.
import { describe, test } from 'vitest';
import { load_driver } from '../lib/target.ts';
import { run, probe_fault_sweep, errno_str, type Run, type RunOptions } from './lib/harness.ts';
import { M, pattern, fill } from '#sim/testing';
import { kmalloc, kfree, GFP_KERNEL } from '#sim';
import type * as Solution from '../../solutions/08-bounce-and-iommu/driver.ts';
import type { pci_dev, ShapeName, Edu } from '#sim/testing';

const drv = await load_driver<typeof Solution>('08-bounce-and-iommu');
const L = 'lessons/08-bounce-and-iommu.md';
const FILE = 'exercises/08-bounce-and-iommu/driver.ts';

type EduDev = Solution.edu_dev;

/** The machines of the lesson, each with what makes it what it is. */
const MACHINES: { name: string; opts: RunOptions }[] = [
  { name: 'arm64, memory placed high: every mapping bounces', opts: { shape: 'arm64', placement: 'high' } },
  { name: 'x86-swiotlb', opts: { shape: 'x86-swiotlb' } },
  { name: 'x86-iommu', opts: { shape: 'x86-iommu' } },
  { name: 'arm64-smmu', opts: { shape: 'arm64-smmu' } },
  { name: 'x86', opts: { shape: 'x86' } },
];

function bound(r: Run): { pdev: pci_dev; model: Edu; edu: EduDev } | null {
  const { pdev, edu: model } = r.plug_edu();
  r.bind_ok(drv.edu_driver, pdev);
  const edu = pdev.dev.driver_data as EduDev | undefined;
  if (!edu) {
    r.finding('WRONG_RESULT', `probe succeeded but did not keep its edu_dev with pci_set_drvdata(): the tests find it there (${FILE}, edu_probe)`);
    r.unbind(pdev);
    return null;
  }
  return { pdev, model, edu };
}

/** `n` kmalloc'ed buffers of `len` bytes, each its own pattern. */
function buffers(n: number, len: number, seed: number): { bufs: number[]; data: Uint8Array[]; free: () => void } {
  const bufs = Array.from({ length: n }, () => kmalloc(Math.max(len, 1), GFP_KERNEL));
  const data = bufs.map((b, i) => pattern(len, seed + i));
  bufs.forEach((b, i) => fill(b, data[i]!));
  return { bufs, data, free: () => bufs.forEach((b) => kfree(b)) };
}

function why(shape: ShapeName, placement?: string): string {
  if (shape === 'x86-swiotlb' || (shape === 'arm64' && placement === 'high'))
    return 'here every mapping bounces: the device reads a copy made at dma_map_single() (or dma_sync_single_for_device()), never the buffer itself';
  if (shape === 'x86-iommu' || shape === 'arm64-smmu') return 'behind an IOMMU the device reaches only what is mapped, while it is mapped';
  return '';
}

/** Send a batch and check every buffer landed at its offset in the device. */
function batch(r: Run, pdev: pci_dev, model: Edu, edu: EduDev, n: number, len: number, seed: number, want = 0): boolean {
  const { bufs, data, free } = buffers(n, len, seed);
  model.dma_buf.fill(0);
  const what = `edu_send_batch(edu, <${n} buffers>, ${len})`;
  const ret = r.call(pdev, what, () => drv.edu_send_batch(edu, bufs, len));
  let ok = r.expect_result(what, ret, want);
  if (ok && want === 0) {
    for (let i = 0; i < n && ok; i++) {
      ok = r.expect_bytes(`${what}: buffer ${i} at device offset ${i * len} (${why(r.shape, r.opts.placement)})`,
        model.dma_buf.slice(i * len, (i + 1) * len), data[i]!);
    }
  }
  free();
  return ok;
}

describe('batches of buffers to the device', () => {
  for (const { name, opts } of MACHINES) {
    test(`edu_send_batch() delivers batches of 1, 3 and 8 buffers exactly (${name})`, (ctx) => {
      run(ctx, { ...opts, lesson: `${L}#bounce-buffers` }, (r) => {
        const b = bound(r);
        if (!b) return;
        const { pdev, model, edu } = b;
        if (batch(r, pdev, model, edu, 1, 4096, 11) && batch(r, pdev, model, edu, 3, 1000, 21)) batch(r, pdev, model, edu, 8, 512, 31);
        if (opts.placement === 'high' && !(M.swiotlb && M.swiotlb.hiwater > 0))
          r.finding('WRONG_RESULT', 'on this machine every buffer above edu\'s 28 bits must bounce, but swiotlb was never used');
        r.unbind(pdev);
      });
    });
  }
});

describe('the status buffer: one mapping for the life of the device', () => {
  for (const { name, opts } of MACHINES) {
    test(`edu_read_status() returns what the device wrote, 16 times through the one mapping (${name})`, (ctx) => {
      run(ctx, { ...opts, lesson: `${L}#why-a-missing-sync-breaks-even-on-x86` }, (r) => {
        const b = bound(r);
        if (!b) return;
        const { pdev, model, edu } = b;
        const lens = [256, 16, 100, 256, 1, 64, 200, 256, 33, 128, 7, 256, 90, 2, 255, 256];
        for (const [i, len] of lens.entries()) {
          const sent = pattern(4096, 101 + i);
          model.dma_buf.set(sent);
          const what = `status read #${i + 1}: edu_read_status(edu, ${len})`;
          const got = r.call(pdev, what, () => drv.edu_read_status(edu, len));
          if (typeof got === 'number') {
            r.finding('WRONG_RESULT', `${what} returned ${errno_str(got)}; it should return the ${len} bytes the device wrote`);
            break;
          }
          if (!r.expect_bytes(`${what} returned other bytes than the device wrote (${why(r.shape, opts.placement) || 'the status buffer is the device\'s until dma_sync_single_for_cpu()'})`,
            got, sent.subarray(0, len))) break;
        }
        r.unbind(pdev);
      });
    });
  }
});

describe('sending the last buffer again', () => {
  for (const { name, opts } of MACHINES) {
    test(`edu_resend() sends the first buffer of the last batch as it is now (${name})`, (ctx) => {
      run(ctx, { ...opts, lesson: `${L}#use-after-unmap` }, (r) => {
        const b = bound(r);
        if (!b) return;
        const { pdev, model, edu } = b;
        const { bufs, free } = buffers(4, 1024, 41);
        const ret = r.call(pdev, 'edu_send_batch()', () => drv.edu_send_batch(edu, bufs, 1024));
        if (r.expect_result('edu_send_batch(edu, <4 buffers>, 1024)', ret, 0)) {
          // Something else maps memory in between, as the rest of the kernel would.
          const other = buffers(2, 1024, 61);
          const now = pattern(1024, 51);
          fill(bufs[0]!, now);
          model.dma_buf.fill(0);
          const again = r.call(pdev, 'edu_resend(edu)', () => drv.edu_resend(edu));
          if (r.expect_result('edu_resend(edu) after the batch', again, 0))
            r.expect_bytes(`edu_resend(edu): the device read other bytes than the buffer holds (${why(r.shape, opts.placement) || 'a handle is dead after its unmap'})`, model.dma_buf.slice(0, 1024), now);
          other.free();
        }
        free();
        r.unbind(pdev);
      });
    });
  }
});

describe('when the bounce pool is short', () => {
  // The status mapping holds 1 slot; 4 more fit 4 of the 8 buffers of 512 bytes, not all 8.
  for (const opts of [{ shape: 'x86-swiotlb', swiotlb_slots: 5 }, { shape: 'arm64', placement: 'high', swiotlb_slots: 5 }] as RunOptions[]) {
    test(`a batch that does not fit the pool still arrives, one buffer at a time (${opts.shape}, 5 swiotlb slots)`, (ctx) => {
      run(ctx, { ...opts, allow: ['SWIOTLB_FULL'], lesson: `${L}#when-swiotlb-is-full` }, (r) => {
        const b = bound(r);
        if (!b) return;
        const { pdev, model, edu } = b;
        if (batch(r, pdev, model, edu, 8, 512, 71)) batch(r, pdev, model, edu, 6, 512, 81);
        r.unbind(pdev);
      });
    });
  }

  test('with room for no buffer at all, edu_send_batch() returns -ENOMEM and nothing is left mapped (x86-swiotlb, 2 slots)', (ctx) => {
    run(ctx, { shape: 'x86-swiotlb', swiotlb_slots: 2, allow: ['SWIOTLB_FULL'], lesson: `${L}#when-swiotlb-is-full` }, (r) => {
      const b = bound(r);
      if (!b) return;
      const { pdev, model, edu } = b;
      batch(r, pdev, model, edu, 1, 4096, 95, -12);
      r.unbind(pdev);
    });
  });

  test('on a PC with memory above edu\'s reach and no pool, probe fails with -ENOMEM and leaves nothing (x86, memory placed high)', (ctx) => {
    run(ctx, { shape: 'x86', placement: 'high', allow: ['DMA_ADDR_OVERFLOW'], lesson: `${L}#without-a-pool-the-pc` }, (r) => {
      const { pdev } = r.plug_edu();
      const ret = r.bind(drv.edu_driver, pdev);
      r.expect_result('probe with the status buffer out of edu\'s reach and no swiotlb', ret, -12);
      if (ret === 0) r.unbind(pdev);
    });
  });
});

describe('bad arguments and error paths', () => {
  test('edu_send_batch() and edu_read_status() reject bad sizes with -EINVAL; edu_resend() before any batch too (x86)', (ctx) => {
    run(ctx, { shape: 'x86', lesson: `${L}#the-exercise` }, (r) => {
      const b = bound(r);
      if (!b) return;
      const { pdev, edu } = b;
      r.expect_result('edu_resend(edu) before any batch', r.call(pdev, 'edu_resend()', () => drv.edu_resend(edu)), -22);
      const { bufs, free } = buffers(9, 512, 1);
      r.expect_result('edu_send_batch(edu, <9 buffers>, 512)', r.call(pdev, 'edu_send_batch()', () => drv.edu_send_batch(edu, bufs, 512)), -22);
      r.expect_result('edu_send_batch(edu, <2 buffers>, 4096)', r.call(pdev, 'edu_send_batch()', () => drv.edu_send_batch(edu, bufs.slice(0, 2), 4096)), -22);
      r.expect_result('edu_send_batch(edu, <0 buffers>, 512)', r.call(pdev, 'edu_send_batch()', () => drv.edu_send_batch(edu, [], 512)), -22);
      r.expect_result('edu_read_status(edu, 0)', r.call(pdev, 'edu_read_status()', () => drv.edu_read_status(edu, 0)), -22);
      r.expect_result('edu_read_status(edu, 257)', r.call(pdev, 'edu_read_status()', () => drv.edu_read_status(edu, 257)), -22);
      free();
      r.unbind(pdev);
    });
  });

  for (const opts of [{ shape: 'arm64', placement: 'high' }, { shape: 'x86-iommu' }] as RunOptions[]) {
    test(`every failure in probe is unwound: nothing left mapped or allocated (${opts.shape}${opts.placement ? ', memory placed high' : ''})`, (ctx) => {
      probe_fault_sweep(ctx, drv.edu_driver, { ...opts, lesson: `${L}#the-exercise` });
    });
  }
});
