// Hidden tests of exercise 01 (mmio-and-probe): probe/remove of edu, its registers, its
// interrupt on a shared line, and every error path of probe.
import { describe, test } from 'vitest';
import { load_driver } from '../lib/target.ts';
import { run, probe_fault_sweep } from './lib/harness.ts';
import { request_irq, free_irq, pci_enable_device, pci_disable_device, IRQ_HANDLED, IRQ_NONE, IRQF_SHARED } from '#sim';
import { M } from '#sim/testing';
import type * as Solution from '../../solutions/01-mmio-and-probe/driver.ts';
import type { Edu, ShapeName } from '#sim/testing';

const drv = await load_driver<typeof Solution>('01-mmio-and-probe');
const L = 'lessons/01-mmio-and-probe.md';
const SHAPES: ShapeName[] = ['x86', 'arm64', 'x86-iommu'];
// edu's registers (QEMU hw/misc/edu.c), for watching what the driver asks of it
const EDU_REG_FACT = 0x08, EDU_REG_STATUS = 0x20;
const EDU_STATUS_COMPUTING = 0x01, EDU_STATUS_IRQFACT = 0x80;

describe('probe and remove', () => {
  for (const shape of SHAPES) {
    test(`binds to edu and unbinds leaving nothing behind (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#probe` }, (r) => {
        const { pdev } = r.plug_edu();
        r.bind_ok(drv.edu_driver, pdev);
        r.unbind(pdev);
      });
    });
  }
});

describe('registers', () => {
  for (const shape of ['x86', 'arm64'] as ShapeName[]) {
    test(`the liveness register reads back the inverse of what was written (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#reading-and-writing-registers` }, (r) => {
        const { pdev } = r.plug_edu();
        r.bind_ok(drv.edu_driver, pdev);
        const edu = pdev.dev.driver_data as Solution.edu_dev;
        for (const v of [0, 1, 0xdeadbeef, 0x12345678, 0xffffffff]) {
          const got = r.call(pdev, 'edu_liveness()', () => drv.edu_liveness(edu, v));
          r.expect_result(`edu_liveness(edu, 0x${v.toString(16)})`, got, ~v >>> 0);
        }
        r.unbind(pdev);
      });
    });
  }
});

/** The offsets edu has a writable register at (sim/hw/edu.ts's register map). */
const EDU_WRITABLE = new Set([0x04, 0x08, 0x20, 0x60, 0x64, 0x80, 0x88, 0x90, 0x98]);

/** What the driver asked of edu's factorial engine, as seen at edu's registers (for the
 *  findings' wording only: it changes nothing edu does). */
function watch_factorials(edu: Edu) {
  const seen = { started: 0, started_with_irq: 0, asked: 0, status_reads: 0, stray: -1 };
  const bar = edu.bars[0]!;
  const read = bar.read.bind(bar), write = bar.write.bind(bar);
  bar.read = (off, size) => {
    if (off === EDU_REG_STATUS) seen.status_reads++;
    return read(off, size);
  };
  bar.write = (off, size, v) => {
    if (!EDU_WRITABLE.has(off) && seen.stray < 0) seen.stray = off;
    if (off === EDU_REG_STATUS && v & EDU_STATUS_IRQFACT) seen.asked++;
    if (off === EDU_REG_FACT && !(edu.status & EDU_STATUS_COMPUTING)) {
      seen.started++;
      if (edu.status & EDU_STATUS_IRQFACT) seen.started_with_irq++;
    }
    write(off, size, v);
  };
  return seen;
}

const times = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

describe('the factorial engine and its interrupt', () => {
  const fact = (n: number) => { let f = 1; for (let i = 2; i <= n; i++) f = Math.imul(f, i) >>> 0; return f; };
  for (const shape of ['x86', 'arm64'] as ShapeName[]) {
    test(`computes n! for n = 0..13 and is woken by the interrupt (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#interrupts` }, (r) => {
        const { pdev, edu: dev } = r.plug_edu();
        r.bind_ok(drv.edu_driver, pdev);
        const edu = pdev.dev.driver_data as Solution.edu_dev;
        const irq = M.irq.descs.get(pdev.irq)!;
        const seen = watch_factorials(dev);
        const before = irq.count;
        let calls = 0;
        for (let n = 0; n <= 13; n++) {
          calls++;
          const got = r.call(pdev, `edu_factorial(edu, ${n})`, () => drv.edu_factorial(edu, n));
          if (!r.expect_result(`edu_factorial(edu, ${n})`, got, fact(n))) break;
        }
        const fired = irq.count - before;
        if (fired < calls) {
          // Say why from what edu saw: no factorial started, none asked for the interrupt, or
          // the driver polled instead of waiting.
          const why = seen.started < calls
            ? `${seen.started ? `edu started only ${seen.started} of them` : 'edu never started a factorial to raise it'}; ${seen.stray >= 0 ? `the driver wrote to offset 0x${seen.stray.toString(16)}, where edu has no register: n goes to EDU_REG_FACT, offset 0x08` : 'check the register edu_factorial() writes n to (EDU_REG_FACT, 0x08)'}${seen.asked ? '' : ', and that it asks for the interrupt (EDU_STATUS_IRQFACT in the status register)'}`
            : seen.started_with_irq < seen.started
              ? `edu raises it only for a factorial started with EDU_STATUS_IRQFACT set in the status register, and ${seen.started_with_irq ? `only ${seen.started_with_irq} of the ${seen.started} were` : seen.started === 1 ? 'it was not' : `none of the ${seen.started} were`}`
              : 'each factorial was started with EDU_STATUS_IRQFACT set: is the handler on pdev.irq, and does it acknowledge the interrupt?';
          const polled = seen.status_reads > calls ? '; wait for the interrupt (a completion) instead of polling the status register' : '';
          r.finding('WRONG_RESULT', `edu's interrupt fired ${times(fired, 'time')} for ${times(calls, 'factorial')}: ${why}${polled}`);
        } else if (seen.status_reads > 2 * calls) {
          // The interrupt came every time, but edu_factorial() did not wait for it.
          r.finding('WRONG_RESULT', `edu_factorial() read the status register ${times(seen.status_reads, 'time')} for ${times(calls, 'factorial')}: it polled. The interrupt fired, but nothing waited for it: have the handler complete() a completion, and wait_for_completion_timeout() on it`);
        }
        r.unbind(pdev);
      });
    });
  }
});

describe('a shared interrupt line', () => {
  test('claims only edu\'s own interrupts when another device shares the line (x86)', (ctx) => {
    run(ctx, { shape: 'x86', lesson: `${L}#interrupt-handlers` }, (r) => {
      const { pdev } = r.plug_edu(3);
      const { pdev: other, gen } = r.plug_irqgen(7);
      if (other.irq !== pdev.irq) throw new Error('test setup: the two devices do not share a line');
      // The other device's driver: enables its device (which routes the line), claims its own
      // interrupt, acknowledges it.
      let theirs = 0;
      const cookie = { name: 'irqgen' };
      if (pci_enable_device(other)) throw new Error('test setup: pci_enable_device of the other device failed');
      request_irq(other.irq, () => { if (!gen.asserting()) return IRQ_NONE; gen.set(false); theirs++; return IRQ_HANDLED; }, IRQF_SHARED, 'irqgen', cookie);
      r.bind_ok(drv.edu_driver, pdev);
      const edu = pdev.dev.driver_data as Solution.edu_dev;
      for (let i = 0; i < 3; i++) {
        r.call(pdev, 'the other device', () => gen.set(true));
      }
      r.expect_result('interrupts the other device\'s driver handled', theirs, 3);
      r.expect_result('edu_factorial(edu, 5) with a shared line', r.call(pdev, 'edu_factorial()', () => drv.edu_factorial(edu, 5)), 120);
      r.unbind(pdev);
      free_irq(other.irq, cookie);
      pci_disable_device(other);
    });
  });
});

describe('error paths', () => {
  for (const shape of ['x86', 'arm64'] as ShapeName[]) {
    test(`every failure in probe is unwound: nothing left behind (${shape})`, (ctx) => {
      probe_fault_sweep(ctx, drv.edu_driver, { shape, lesson: `${L}#when-probe-fails` });
    });
  }
});
