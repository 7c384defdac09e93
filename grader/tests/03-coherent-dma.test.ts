// Hidden tests of exercise 03 (coherent-dma): edu's DMA engine through one coherent buffer.
// The data must reach the device and come back on every machine shape (no syncs: the memory
// is coherent); the device must be given the DMA handle; remove must wait for a transfer still
// running before it frees the buffer; and every error path of probe must give the buffer back.
import { describe, test } from 'vitest';
import { load_driver } from '../lib/target.ts';
import { run, probe_fault_sweep, errno_str, type Run } from './lib/harness.ts';
import { M, compare, pattern, peek, run_for_ms } from '#sim/testing';
import type { Edu, pci_dev, ShapeName } from '#sim/testing';
import type * as Solution from '../../solutions/03-coherent-dma/driver.ts';

const drv = await load_driver<typeof Solution>('03-coherent-dma');
const L = 'lessons/03-coherent-dma.md';
const ALL: ShapeName[] = ['x86', 'x86-iommu', 'x86-swiotlb', 'arm64', 'arm64-smmu'];
const EDU_DMA_SIZE = 4096;
const EINVAL = -22;

/** Bind the driver to a fresh edu and return what the tests need. */
function setup(r: Run): { pdev: pci_dev; dev: Edu; edu: Solution.edu_dev } | null {
  const { pdev, edu: dev } = r.plug_edu();
  r.bind_ok(drv.edu_driver, pdev);
  const edu = pdev.dev.driver_data as Solution.edu_dev | null;
  if (!edu) {
    r.finding('WRONG_RESULT', 'probe succeeded but did not keep its edu_dev with pci_set_drvdata(pdev, edu): the tests (and remove) cannot find it');
    return null;
  }
  if (!edu.buf || !edu.buf_dma) {
    r.finding('WRONG_RESULT', `after probe, edu.buf is ${edu.buf ? 'set' : '0'} and edu.buf_dma is ${edu.buf_dma ? 'set' : '0'}: probe should allocate the coherent buffer with dma_alloc_coherent(), keeping the CPU address it returns in edu.buf and the DMA handle it stores in edu.buf_dma`);
    return null;
  }
  return { pdev, dev, edu };
}

/** edu_write(edu, data), checked: it returns 0 and the device's buffer then holds data. */
function write_and_check(r: Run, pdev: pci_dev, dev: Edu, edu: Solution.edu_dev, data: Uint8Array): boolean {
  dev.dma_buf.fill(0);
  const before = dev.transfers;
  const ret = r.call(pdev, `edu_write(edu, ${data.length} bytes)`, () => drv.edu_write(edu, data));
  if (!r.expect_result(`edu_write(edu, <${data.length} bytes>)`, ret, 0)) return false;
  if (dev.transfers === before) {
    r.finding('WRONG_RESULT', `edu_write(edu, <${data.length} bytes>) returned 0 but edu did no transfer: start one (RAM -> edu) and wait for its interrupt before returning`);
    return false;
  }
  return r.expect_bytes(`the ${data.length} bytes edu received from the coherent buffer after edu_write() returned`, dev.dma_buf.subarray(0, data.length), data);
}

const sim_equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && compare(a, b) === null;

/** edu_read(edu, len), checked against what the device's buffer holds. */
function read_and_check(r: Run, pdev: pci_dev, dev: Edu, edu: Solution.edu_dev, want: Uint8Array): boolean {
  dev.dma_buf.fill(0);
  dev.dma_buf.set(want);
  // What the coherent buffer held before, and edu's transfers: to say what happened, not guess.
  const held = edu.buf ? peek(edu.buf, want.length) : null;
  const transfers = dev.transfers;
  const got = r.call(pdev, `edu_read(edu, ${want.length})`, () => drv.edu_read(edu, want.length));
  if (typeof got === 'number') {
    r.finding('WRONG_RESULT', `edu_read(edu, ${want.length}) returned ${errno_str(got)}; it should return the ${want.length} bytes the device wrote into the coherent buffer`);
    return false;
  }
  if (!(got instanceof Uint8Array) || got.length !== want.length) {
    r.finding('WRONG_RESULT', `edu_read(edu, ${want.length}) returned ${got instanceof Uint8Array ? `${got.length} bytes` : String(got)}; it should return exactly ${want.length} bytes`);
    return false;
  }
  const facts: string[] = [];
  if (held && !sim_equal(held, want) && sim_equal(got, held)) facts.push("what the coherent buffer held before edu's transfer: copy them out after its interrupt");
  if (dev.busy()) facts.push('edu was still writing the buffer when edu_read() returned');
  else if (dev.transfers === transfers) facts.push('edu did no edu -> RAM transfer during the call');
  else if (!facts.length) facts.push("edu's transfer into the coherent buffer ended during the call");
  return r.expect_bytes(`the bytes edu_read(edu, ${want.length}) returned (${facts.join('; ')})`, got, want);
}

describe('data through the coherent buffer, with no syncs', () => {
  for (const shape of ALL) {
    test(`edu_write() and edu_read() move the data both ways (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#the-exercise` }, (r) => {
        const s = setup(r);
        if (!s) return;
        const { pdev, dev, edu } = s;
        const irqs = M.irq.descs.get(pdev.irq)!;
        const before = irqs.count;
        if (!write_and_check(r, pdev, dev, edu, pattern(EDU_DMA_SIZE, 1))) return;
        if (!read_and_check(r, pdev, dev, edu, pattern(EDU_DMA_SIZE, 2))) return;
        if (!write_and_check(r, pdev, dev, edu, pattern(100, 3))) return;
        if (!read_and_check(r, pdev, dev, edu, pattern(64, 4))) return;
        if (irqs.count - before < 4) {
          r.finding('WRONG_RESULT', `edu raised ${irqs.count - before} interrupts for 4 transfers: ask for one (EDU_DMA_IRQ in the command) and wait for it with the completion`);
        }
        r.unbind(pdev);
      });
    });
  }

  test('the buffer stays below edu\'s 28-bit reach when memory is tight (x86, memory above 256 MiB)', (ctx) => {
    run(ctx, { shape: 'x86', placement: 'high', lesson: `${L}#allocating` }, (r) => {
      const s = setup(r);
      if (!s) return;
      const { pdev, dev, edu } = s;
      if (!write_and_check(r, pdev, dev, edu, pattern(EDU_DMA_SIZE, 5))) return;
      if (!read_and_check(r, pdev, dev, edu, pattern(EDU_DMA_SIZE, 6))) return;
      r.unbind(pdev);
    });
  });
});

describe('lengths', () => {
  test('a length of 0 or more than the 4 KiB buffer is -EINVAL, and nothing is started (x86)', (ctx) => {
    run(ctx, { shape: 'x86', lesson: `${L}#the-exercise` }, (r) => {
      const s = setup(r);
      if (!s) return;
      const { pdev, dev, edu } = s;
      const cases: [string, () => unknown][] = [
        ['edu_write(edu, <0 bytes>)', () => drv.edu_write(edu, new Uint8Array(0))],
        [`edu_write(edu, <${EDU_DMA_SIZE + 1} bytes>)`, () => drv.edu_write(edu, new Uint8Array(EDU_DMA_SIZE + 1))],
        ['edu_read(edu, 0)', () => drv.edu_read(edu, 0)],
        [`edu_read(edu, ${EDU_DMA_SIZE + 1})`, () => drv.edu_read(edu, EDU_DMA_SIZE + 1)],
        [`edu_start_read(edu, ${EDU_DMA_SIZE + 1})`, () => drv.edu_start_read(edu, EDU_DMA_SIZE + 1)],
      ];
      for (const [what, fn] of cases) {
        const before = dev.transfers;
        r.expect_result(what, r.call(pdev, what, fn), EINVAL);
        if (dev.transfers !== before || dev.busy()) {
          r.finding('WRONG_RESULT', `${what} started a transfer; check the length before touching the device`);
          break;
        }
      }
      r.unbind(pdev);
    });
  });
});

describe('remove while the device is still writing', () => {
  for (const shape of ['x86', 'arm64', 'x86-iommu'] as ShapeName[]) {
    test(`unbinding during edu_start_read()'s transfer waits for it before freeing the buffer (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#freeing` }, (r) => {
        const s = setup(r);
        if (!s) return;
        const { pdev, dev, edu } = s;
        const ret = r.call(pdev, `edu_start_read(edu, ${EDU_DMA_SIZE})`, () => drv.edu_start_read(edu, EDU_DMA_SIZE));
        if (!r.expect_result(`edu_start_read(edu, ${EDU_DMA_SIZE})`, ret, 0)) return;
        if (!dev.busy()) {
          r.finding('WRONG_RESULT', `edu_start_read(edu, ${EDU_DMA_SIZE}) returned 0 but no transfer is running: it should start one (edu -> RAM) and return without waiting for it`);
          return;
        }
        r.unbind(pdev);
        if (dev.busy()) {
          r.finding('WRONG_RESULT', 'remove() returned while edu was still writing into the coherent buffer: wait for the running transfer to finish before freeing the buffer (and before free_irq, since the wait needs the interrupt)');
        }
        // Give a transfer that outlived remove the time to land in freed memory.
        run_for_ms(200);
      });
    });
  }

  test('a transfer started by edu_start_read() is waited for by the next edu_read() (x86)', (ctx) => {
    run(ctx, { shape: 'x86', lesson: `${L}#waiting-for-the-device` }, (r) => {
      const s = setup(r);
      if (!s) return;
      const { pdev, dev, edu } = s;
      const ret = r.call(pdev, 'edu_start_read(edu, 16)', () => drv.edu_start_read(edu, 16));
      if (!r.expect_result('edu_start_read(edu, 16)', ret, 0)) return;
      if (!read_and_check(r, pdev, dev, edu, pattern(256, 7))) return;
      r.unbind(pdev);
    });
  });
});

describe('error paths', () => {
  for (const shape of ['x86', 'arm64', 'x86-iommu'] as ShapeName[]) {
    test(`every failure in probe is unwound, the coherent buffer included (${shape})`, (ctx) => {
      probe_fault_sweep(ctx, drv.edu_driver, { shape, lesson: `${L}#when-probe-fails` });
    });
  }
});
