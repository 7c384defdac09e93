// The edu model's dma_delay_ns option: a device slower than the driver's timeout, so a test can
// see what a driver does with a buffer the device is still using.
import { describe, expect, test } from 'vitest';
import { machine, plug_edu, bind, unbind, run, codes, pattern, fill, read, compare } from '../testing/index.ts';
import { kmalloc, kfree, GFP_KERNEL, ETIMEDOUT } from '../index.ts';
import { edu_irq_dma_driver, edu_dma, type edu_dev } from './drivers/edu_irq_dma.ts';

describe('edu dma_delay_ns', () => {
  test('a transfer takes the time asked for', () => {
    const m = machine({ shape: 'x86' });
    const { pdev } = plug_edu(3, { dma_delay_ns: 300e6 });
    expect(bind(edu_irq_dma_driver, pdev)).toBe(0);
    const e = pdev.dev.driver_data as edu_dev;
    const buf = kmalloc(4096, GFP_KERNEL);
    fill(buf, pattern(4096, 9));
    const t0 = m.clock.now;
    expect(run(pdev, () => edu_dma(e, buf, 4096, true))).toBe(0);
    expect(m.clock.now - t0).toBeGreaterThanOrEqual(300e6);
    expect(m.clock.now - t0).toBeLessThan(400e6);
    kfree(buf);
    unbind(pdev);
    expect(codes()).toEqual([]);
  });

  test('slower than the driver\'s timeout: the transfer is still in flight when the wait ends', () => {
    const m = machine({ shape: 'x86' });
    const { pdev, edu } = plug_edu(3, { dma_delay_ns: 1500e6 });
    expect(bind(edu_irq_dma_driver, pdev)).toBe(0);
    const e = pdev.dev.driver_data as edu_dev;
    const buf = kmalloc(4096, GFP_KERNEL);
    const want = pattern(4096, 10);
    fill(buf, want);
    expect(run(pdev, () => edu_dma(e, buf, 4096, true))).toBe(-ETIMEDOUT);
    expect(edu.busy()).toBe(true);
    m.clock.advance_to(m.clock.now + 600e6);
    expect(edu.busy()).toBe(false);
    expect(compare(edu.dma_buf, want)).toBeNull();
    expect(compare(read(buf, 4096), want)).toBeNull();
  });
});
