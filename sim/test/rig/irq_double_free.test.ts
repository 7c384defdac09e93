// Rig case irq-double-free (IRQ_ALREADY_FREE): free_irq of an IRQ never requested, and twice.
import { describe, expect, test } from 'vitest';
import { expect_kernel_lines, kernel_codes } from './rig.ts';
import { edu_irqfree_driver } from '../drivers/rig/irq_double_free.ts';

describe('rig irq-double-free', () => {
  test('x86: "Trying to free already-free IRQ n" with no device prefix, the same for both; free_irq returns NULL', () => {
    // The sim's INTx line for slot 3 is not QEMU's GSI 23: the IRQ number is blanked.
    const r = expect_kernel_lines('irq-double-free/irq-double-free.txt', edu_irqfree_driver, 'x86', {}, { dma: 'mask' },
      { map: (l) => l.replace(/(IRQ |free_irq\(|request_irq\()\d+/g, '$1N') });
    expect(kernel_codes()).toEqual(['IRQ_ALREADY_FREE']);
    expect(r.m.diag.dma_error_count).toBe(0);
    expect(r.all.filter((l) => l.includes('free_irq returned 0000000000000000'))).toHaveLength(2);
  });
});
