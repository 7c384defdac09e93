// Hidden tests of exercise 01 (mmio-and-probe): probe/remove of edu, its registers, its
// interrupt on a shared line, and every error path of probe.
import { describe, test } from 'vitest';
import { load_driver } from '../lib/target.ts';
import { run, probe_fault_sweep } from './lib/harness.ts';
import { request_irq, free_irq, IRQ_HANDLED, IRQ_NONE, IRQF_SHARED } from '#sim';
import { M } from '#sim/testing';
import type * as Solution from '../../solutions/01-mmio-and-probe/driver.ts';
import type { ShapeName } from '#sim/testing';

const drv = await load_driver<typeof Solution>('01-mmio-and-probe');
const L = 'lessons/01-mmio-and-probe.md';
const SHAPES: ShapeName[] = ['x86', 'arm64', 'x86-iommu'];

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

describe('the factorial engine and its interrupt', () => {
  const fact = (n: number) => { let f = 1; for (let i = 2; i <= n; i++) f = Math.imul(f, i) >>> 0; return f; };
  for (const shape of ['x86', 'arm64'] as ShapeName[]) {
    test(`computes n! for n = 0..13 and is woken by the interrupt (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#interrupts` }, (r) => {
        const { pdev } = r.plug_edu();
        r.bind_ok(drv.edu_driver, pdev);
        const edu = pdev.dev.driver_data as Solution.edu_dev;
        const irq = M.irq.descs.get(pdev.irq)!;
        const before = irq.count;
        for (let n = 0; n <= 13; n++) {
          const got = r.call(pdev, `edu_factorial(edu, ${n})`, () => drv.edu_factorial(edu, n));
          if (!r.expect_result(`edu_factorial(edu, ${n})`, got, fact(n))) break;
        }
        if (irq.count - before < 14) {
          r.finding('WRONG_RESULT', `edu's interrupt fired ${irq.count - before} times for 14 factorials: wait for the interrupt (EDU_STATUS_IRQFACT), do not poll`);
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
      // The other device's driver: claims its own interrupt, acknowledges it.
      let theirs = 0;
      const cookie = { name: 'irqgen' };
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
