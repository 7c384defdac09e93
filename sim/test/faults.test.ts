// Fault injection beyond fail-nth: lost and late interrupts, an exhausted IOVA space.
import { describe, expect, test } from 'vitest';
import { machine, plug_edu, bind, unbind, run, codes, pattern, fill, read, compare } from '../testing/index.ts';
import { kmalloc, kfree, GFP_KERNEL, ETIMEDOUT, ENOMEM } from '../index.ts';
import { edu_irq_dma_driver, edu_dma, type edu_dev } from './drivers/edu_irq_dma.ts';

function setup(opts: Parameters<typeof machine>[0]) {
  const m = machine(opts);
  const { pdev } = plug_edu();
  expect(bind(edu_irq_dma_driver, pdev)).toBe(0);
  const e = pdev.dev.driver_data as edu_dev;
  return { m, pdev, e };
}

describe('interrupts', () => {
  test('a lost interrupt makes the wait time out; the next one is delivered', () => {
    const { pdev, e } = setup({ shape: 'x86', drop_irqs: 1 });
    const buf = kmalloc(4096, GFP_KERNEL);
    expect(run(pdev, () => edu_dma(e, buf, 4096, true))).toBe(-ETIMEDOUT);
    // The transfer itself happened; the driver never heard. The next transfer completes.
    const buf2 = kmalloc(4096, GFP_KERNEL);
    expect(run(pdev, () => edu_dma(e, buf2, 4096, true))).toBe(0);
  });

  test('a late interrupt still completes the transfer, later', () => {
    const { m, pdev, e } = setup({ shape: 'x86', delay_irqs_ns: 5e6 });
    // The caller's buffer (kernel memory of the test, not the driver's).
    const buf = kmalloc(4096, GFP_KERNEL);
    const t0 = m.clock.now;
    expect(run(pdev, () => edu_dma(e, buf, 4096, true))).toBe(0);
    expect(m.clock.now - t0).toBeGreaterThanOrEqual(105e6);
    kfree(buf);
    unbind(pdev);
    expect(codes()).toEqual([]);
  });
});

describe('IOMMU', () => {
  test('an exhausted IOVA space fails the mapping, which a correct driver survives', () => {
    const { pdev, e } = setup({ shape: 'x86-iommu', iova_pages: 2 });
    const a = kmalloc(4096, GFP_KERNEL);
    const want = pattern(4096, 3);
    fill(a, want);
    expect(run(pdev, () => edu_dma(e, a, 4096, true))).toBe(0);
    // Freed IOVAs wait in the flush queue: with two pages of space, the third map fails.
    const b = kmalloc(8192, GFP_KERNEL);
    expect(run(pdev, () => edu_dma(e, b, 8192, false))).toBe(-ENOMEM);
    expect(run(pdev, () => edu_dma(e, a, 4096, false))).toBe(0);
    expect(compare(read(a, 4096), want)).toBeNull();
    unbind(pdev);
    expect(codes()).toEqual([]);
  });
});
