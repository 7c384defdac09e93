// Hidden tests of exercise 04 (streaming-dma): edu_dma() and edu_recv() map the caller's buffer
// for one transfer, in the right direction, check the mapping, wait for the device, and unmap
// with exactly what they mapped -- and never while the device may still use the buffer.
import { describe, test } from 'vitest';
import { load_driver } from '../lib/target.ts';
import { run, probe_fault_sweep, errno_str, type Run } from './lib/harness.ts';
import { kmalloc, kfree, GFP_KERNEL, EINVAL, EIO, ENOMEM, ETIMEDOUT, dma_map_single, dma_unmap_single,
  dma_mapping_error, DMA_TO_DEVICE } from '#sim';
import { fill, read, pattern, type ShapeName, type pci_dev } from '#sim/testing';
import type * as Solution from '../../solutions/04-streaming-dma/driver.ts';

const drv = await load_driver<typeof Solution>('04-streaming-dma');
const L = 'lessons/04-streaming-dma.md';
const ALL: ShapeName[] = ['x86', 'x86-iommu', 'x86-swiotlb', 'arm64', 'arm64-smmu'];
const EDU_DMA_SIZE = 4096;
const JUNK = 0xa5;

/** A kernel buffer from the caller (the test), filled by the CPU: on arm64 its lines sit dirty
 *  in the cache, as a real caller's would. */
function kbuf(size: number, bytes?: Uint8Array): number {
  const p = kmalloc(size, GFP_KERNEL);
  if (!p) throw new Error('test setup: kmalloc failed');
  fill(p, bytes ?? new Uint8Array(size).fill(JUNK));
  return p;
}

/** `edu_dma(edu, buf, len, to_device)` as the learner's function, with a readable name. */
function dma(r: Run, pdev: pci_dev, buf: number, len: number, to_device: boolean): number {
  const edu = pdev.dev.driver_data as Solution.edu_dev;
  return r.call(pdev, `edu_dma(edu, buf, ${len}, ${to_device})`, () => drv.edu_dma(edu, buf, len, to_device));
}

function recv(r: Run, pdev: pci_dev, buf: number, size: number): number {
  const edu = pdev.dev.driver_data as Solution.edu_dev;
  return r.call(pdev, `edu_recv(edu, buf, ${size})`, () => drv.edu_recv(edu, buf, size));
}

/** A message as the device holds it: a little-endian u32 length, then the payload. */
function message(payload: Uint8Array): Uint8Array {
  const m = new Uint8Array(4 + payload.length);
  new DataView(m.buffer).setUint32(0, payload.length, true);
  m.set(payload, 4);
  return m;
}

/** Fill `slots` 2 KiB swiotlb slots with mappings of the test's own (as other drivers' traffic
 *  would); returns what gives them back. */
function hog_swiotlb(pdev: pci_dev, slots: number): () => void {
  const held: [number, number, number][] = [];
  const take = (size: number) => {
    const p = kmalloc(size, GFP_KERNEL);
    const h = dma_map_single(pdev.dev, p, size, DMA_TO_DEVICE);
    if (dma_mapping_error(pdev.dev, h)) throw new Error('test setup: could not fill swiotlb');
    held.push([p, h, size]);
  };
  for (let i = 0; i < Math.floor(slots / 2); i++) take(4096);
  if (slots % 2) take(2048);
  return () => {
    for (const [p, h, size] of held) { dma_unmap_single(pdev.dev, h, size, DMA_TO_DEVICE); kfree(p); }
  };
}

describe('a buffer to the device and back', () => {
  for (const shape of ALL) {
    test(`edu_dma() moves 4096 and 100 bytes to edu and back, unmapping each (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#the-streaming-pattern` }, (r) => {
        const { pdev, edu } = r.plug_edu();
        r.bind_ok(drv.edu_driver, pdev);
        for (const [len, seed] of [[EDU_DMA_SIZE, 1], [100, 2]] as const) {
          const want = pattern(len, seed);
          const tx = kbuf(EDU_DMA_SIZE, pattern(EDU_DMA_SIZE, seed));
          if (!r.expect_result(`edu_dma(edu, buf, ${len}, true)`, dma(r, pdev, tx, len, true), 0)) break;
          r.expect_bytes(`what edu read from the buffer (edu_dma(edu, buf, ${len}, true))`, edu.dma_buf.slice(0, len), want);
          kfree(tx);

          const rx = kbuf(EDU_DMA_SIZE);
          if (!r.expect_result(`edu_dma(edu, buf, ${len}, false)`, dma(r, pdev, rx, len, false), 0)) break;
          r.expect_bytes(`the buffer after edu_dma(edu, buf, ${len}, false) returned`, read(rx, len), want);
          const untouched = read(rx + len, EDU_DMA_SIZE - len);
          r.expect_bytes(`the bytes past the first ${len} of the buffer (the device was asked for ${len})`, untouched, new Uint8Array(EDU_DMA_SIZE - len).fill(JUNK));
          kfree(rx);
        }
        r.unbind(pdev);
      });
    });
  }
});

describe('receiving a message', () => {
  for (const shape of ALL) {
    test(`edu_recv() returns the message's length, read only after the unmap (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#the-streaming-pattern` }, (r) => {
        const { pdev, edu } = r.plug_edu();
        r.bind_ok(drv.edu_driver, pdev);
        const payload = pattern(300, 7);
        edu.dma_buf.set(message(payload));
        const rx = kbuf(512);
        const got = recv(r, pdev, rx, 512);
        if (r.expect_result('edu_recv(edu, buf, 512) with a 300-byte message in the device', got, 300)) {
          r.expect_bytes('the payload in the buffer after edu_recv() returned', read(rx + 4, 300), payload);
        }
        kfree(rx);
        r.unbind(pdev);
      });
    });
  }

  test('edu_recv() refuses a message longer than the buffer (x86)', (ctx) => {
    run(ctx, { shape: 'x86', lesson: `${L}#the-streaming-pattern` }, (r) => {
      const { pdev, edu } = r.plug_edu();
      r.bind_ok(drv.edu_driver, pdev);
      edu.dma_buf.set(message(pattern(1000, 8)));
      const rx = kbuf(512);
      const got = recv(r, pdev, rx, 512);
      r.expect_result('edu_recv(edu, buf, 512) when the device holds a 1000-byte message', got, -EIO);
      kfree(rx);
      r.unbind(pdev);
    });
  });
});

describe('bad lengths', () => {
  test('edu_dma() and edu_recv() return -EINVAL for lengths the device cannot take, mapping nothing (x86)', (ctx) => {
    run(ctx, { shape: 'x86', lesson: `${L}#the-exercise` }, (r) => {
      const { pdev } = r.plug_edu();
      r.bind_ok(drv.edu_driver, pdev);
      const b = kbuf(2 * EDU_DMA_SIZE);
      for (const len of [0, EDU_DMA_SIZE + 1]) {
        for (const to_device of [true, false]) {
          const got = dma(r, pdev, b, len, to_device);
          r.expect_result(`edu_dma(edu, buf, ${len}, ${to_device}) (edu's buffer holds ${EDU_DMA_SIZE} bytes)`, got, -EINVAL);
        }
      }
      for (const size of [2, EDU_DMA_SIZE + 1]) {
        r.expect_result(`edu_recv(edu, buf, ${size}) (a message needs 4 bytes, and edu holds ${EDU_DMA_SIZE})`, recv(r, pdev, b, size), -EINVAL);
      }
      kfree(b);
      r.unbind(pdev);
    });
  });
});

describe('when the mapping fails', () => {
  test('swiotlb full: -ENOMEM, nothing programmed, nothing leaked; a smaller buffer still goes (x86-swiotlb)', (ctx) => {
    // A pool of 128 bounce slots of 2 KiB, of which other mappings hold 127: a 4096-byte buffer
    // cannot be bounced, a 2048-byte one can.
    run(ctx, { shape: 'x86-swiotlb', swiotlb_slots: 128, allow: ['SWIOTLB_FULL'], lesson: `${L}#checking-for-errors` }, (r) => {
      const { pdev, edu } = r.plug_edu();
      r.bind_ok(drv.edu_driver, pdev);
      const release = hog_swiotlb(pdev, 127);
      const b = kbuf(EDU_DMA_SIZE, pattern(EDU_DMA_SIZE, 3));
      const before = edu.transfers;
      r.expect_result('edu_dma(edu, buf, 4096, true) with swiotlb full', dma(r, pdev, b, EDU_DMA_SIZE, true), -ENOMEM);
      r.expect_result('edu_recv(edu, buf, 4096) with swiotlb full', recv(r, pdev, b, EDU_DMA_SIZE), -ENOMEM);
      if (edu.transfers !== before) {
        r.finding('WRONG_RESULT', `the device ran ${edu.transfers - before} transfer(s) although every mapping failed: after dma_mapping_error() says so, return -ENOMEM without starting the device`);
      }
      if (r.expect_result('edu_dma(edu, buf, 2048, true) with one bounce slot free', dma(r, pdev, b, 2048, true), 0)) {
        r.expect_bytes('what edu read from the buffer', edu.dma_buf.slice(0, 2048), pattern(EDU_DMA_SIZE, 3).slice(0, 2048));
      }
      kfree(b);
      release();
      r.unbind(pdev);
    });
  });

  test('a failed mapping under an IOMMU: -ENOMEM, nothing leaked (arm64-smmu)', (ctx) => {
    run(ctx, { shape: 'arm64-smmu', faults: ['dma_map'], fail_nth: 1, lesson: `${L}#checking-for-errors` }, (r) => {
      const { pdev, edu } = r.plug_edu();
      r.bind_ok(drv.edu_driver, pdev);
      const b = kbuf(EDU_DMA_SIZE);
      const before = edu.transfers;
      r.expect_result('edu_dma(edu, buf, 4096, false) when dma_map_single() fails', dma(r, pdev, b, EDU_DMA_SIZE, false), -ENOMEM);
      if (edu.transfers !== before) {
        r.finding('WRONG_RESULT', 'the device ran a transfer although the mapping failed: after dma_mapping_error() says so, return -ENOMEM without starting the device');
      }
      kfree(b);
      r.unbind(pdev);
    });
  });
});

describe('when the interrupt does not come', () => {
  for (const shape of ['x86', 'arm64'] as ShapeName[]) {
    test(`a lost interrupt: -ETIMEDOUT, the buffer unmapped once, the next transfer works (${shape})`, (ctx) => {
      run(ctx, { shape, drop_irqs: 1, lesson: `${L}#when-the-device-does-not-answer` }, (r) => {
        const { pdev } = r.plug_edu();
        r.bind_ok(drv.edu_driver, pdev);
        const want = pattern(EDU_DMA_SIZE, 4);
        const tx = kbuf(EDU_DMA_SIZE, want);
        const got = dma(r, pdev, tx, EDU_DMA_SIZE, true);
        r.expect_result('edu_dma(edu, buf, 4096, true) when its interrupt is lost', got, -ETIMEDOUT);
        kfree(tx);
        const rx = kbuf(EDU_DMA_SIZE);
        if (r.expect_result('the next edu_dma(edu, buf, 4096, false)', dma(r, pdev, rx, EDU_DMA_SIZE, false), 0)) {
          r.expect_bytes('the buffer after the next transfer (the lost one had moved its data)', read(rx, EDU_DMA_SIZE), want);
        }
        kfree(rx);
        r.unbind(pdev);
      });
    });
  }

  for (const shape of ['x86', 'arm64-smmu'] as ShapeName[]) {
    test(`a device slower than the timeout: the buffer stays mapped until the device stops (${shape})`, (ctx) => {
      // edu takes 1.5 s here: the driver's wait (1 s) ends while the device still writes.
      run(ctx, { shape, lesson: `${L}#when-the-device-does-not-answer` }, (r) => {
        const { pdev, edu } = r.plug_edu(3, { dma_delay_ns: 1500e6 });
        r.bind_ok(drv.edu_driver, pdev);
        const want = pattern(EDU_DMA_SIZE, 5);
        edu.dma_buf.set(want);
        const rx = kbuf(EDU_DMA_SIZE);
        const got = dma(r, pdev, rx, EDU_DMA_SIZE, false);
        if (got === -EIO) {
          r.finding('WRONG_RESULT', `edu_dma() gave up (returned ${errno_str(-EIO)}) while edu was only late: it stops 0.5 s after the timeout; ask it again for up to another EDU_DMA_TIMEOUT_MS before giving up`);
        } else if (r.expect_result('edu_dma(edu, buf, 4096, false) when edu takes 1.5 s', got, -ETIMEDOUT)) {
          if (edu.busy()) r.finding('WRONG_RESULT', `edu_dma() returned ${errno_str(got)} while the device was still running`);
          r.expect_bytes('the buffer after edu_dma() returned (the device finished late)', read(rx, EDU_DMA_SIZE), want);
        }
        kfree(rx);
        r.unbind(pdev);
      });
    });
  }
});

describe('probe', () => {
  test('every failure in probe is unwound: nothing left behind (x86)', (ctx) => {
    probe_fault_sweep(ctx, drv.edu_driver, { shape: 'x86', lesson: `${L}#the-exercise` });
  });
});
