// dmalab's interrupt rules: a handler on a shared line that claims interrupts its device did not
// raise, and a level-triggered interrupt never acknowledged (a storm). The interrupt generator
// (sim/hw/irqgen.ts, slot 7) shares edu's INTx line (slot 3).
import { describe, expect, test } from 'vitest';
import { plug_irqgen, bind, unbind, all_shapes, dmesg } from '../../testing/index.ts';
import { setup, drv, caught, clean, with_code } from './lab.ts';
import * as L from '../drivers/lab.ts';

const ALL = all_shapes();

function with_gen(shape: (typeof ALL)[number], handler: 'ok' | 'greedy') {
  const x = setup(shape, { irq: true, handler });
  const { pdev, gen } = plug_irqgen();
  expect(bind(L.gen_driver(), pdev)).toBe(0);
  expect(pdev.irq).toBe(x.pdev.irq);
  return { x, gpdev: pdev, gen };
}

describe('IRQ_HANDLED_NOT_MINE', () => {
  test.each(ALL)('%s: a handler that claims the other device\'s interrupt is caught; checking its status first is clean', (shape) => {
    const { x, gpdev, gen } = with_gen(shape, 'greedy');
    gen.set(true);
    expect(gen.asserting()).toBe(false);
    expect(L.gen_irqs(gpdev)).toBe(1);
    expect(x.l.irqs).toBe(1);
    const d = caught('IRQ_HANDLED_NOT_MINE', new RegExp(`^dmalab: edu_lab 0000:00:03\\.0: irq ${x.pdev.irq}: handler returned IRQ_HANDLED, but the device did not raise this interrupt\\ndmalab: on a shared line, check your device's interrupt status first`), ['request_irq() at']);
    expect(d.sites[0]!.site.fn).toBe('lab_probe');
    expect(x.m.trace.tail(8).join('\n')).toMatch(/irq_handler_entry: irq=\d+ name=edu_lab/);

    const y = with_gen(shape, 'ok');
    y.gen.set(true);
    expect(L.gen_irqs(y.gpdev)).toBe(1);
    expect(y.x.l.irqs).toBe(0);
    // edu's own interrupt is still its own.
    drv(y.x, (l) => L.lab_raise(l, 1));
    expect(y.x.l.irqs).toBe(1);
    unbind(y.gpdev);
    unbind(y.x.pdev);
    clean();
  });
});

describe('IRQ_STORM', () => {
  test.each(ALL)('%s: a handler that never acknowledges edu\'s level interrupt: a storm, the line disabled, the run goes on', (shape) => {
    const x = setup(shape, { irq: true, handler: 'noack' });
    drv(x, (l) => L.lab_raise(l, 1));
    expect(x.l.irqs).toBe(10000);
    const d = caught('IRQ_STORM', new RegExp(`^dmalab: irq ${x.pdev.irq}: interrupt storm: the handler returned IRQ_HANDLED 10000 times but the device still asserts the line\\n.*\\nDisabling IRQ #${x.pdev.irq}$`), ["request_irq() of 'edu_lab' at"]);
    expect(d.count).toBe(1);
    // The line stays disabled: the next raise runs no handler.
    drv(x, (l) => L.lab_raise(l, 2));
    expect(x.l.irqs).toBe(10000);
    expect(with_code('IRQ_STORM').length).toBe(1);
    expect(dmesg().some((l) => l.includes(`Disabling IRQ #${x.pdev.irq}`))).toBe(true);

    const y = setup(shape, { irq: true, handler: 'ok' });
    drv(y, (l) => L.lab_raise(l, 1));
    drv(y, (l) => L.lab_raise(l, 1));
    expect(y.l.irqs).toBe(2);
    unbind(y.pdev);
    clean();
  });

  test.each(ALL)('%s: a transfer completed by its interrupt, acknowledged: clean', (shape) => {
    const x = setup(shape, { irq: true });
    const buf = drv(x, () => L.lab_alloc(4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_FROM_DEVICE));
    drv(x, (l) => L.lab_start(l, h, 4096, true, true));
    expect(drv(x, (l) => L.lab_wait_irq(l))).toBe(0);
    expect(x.l.irqs).toBe(1);
    drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_FROM_DEVICE));
    drv(x, () => L.lab_free(buf));
    unbind(x.pdev);
    clean();
  });
});

describe('IRQ_NOBODY_CARED', () => {
  test.each(ALL)('%s: a level interrupt no handler claims: the kernel\'s report, each handler as the kernel prints it (hashed pointer, name and module)', (shape) => {
    // The handler never claims it; edu keeps asserting it.
    const x = setup(shape, { irq: true, handler: 'none' });
    drv(x, (l) => L.lab_raise(l, 1));
    const d = caught('IRQ_NOBODY_CARED', new RegExp(`^irq ${x.pdev.irq}: nobody cared \\(try booting with the "irqpoll" option\\)\nhandlers:\n\\[<00000000[0-9a-f]{8}>\\] lab_irq \\[edu_lab\\]\nDisabling IRQ #${x.pdev.irq}$`), ['request_irq() at']);
    expect(d.lines[2]).not.toBe('[<0000000000000000>] lab_irq [edu_lab]');

    expect(with_code('IRQ_NOBODY_CARED').length).toBe(1);
    // (An acknowledged interrupt is clean: 'a transfer completed by its interrupt' above.)
  });
});

describe('a line no handler was requested on', () => {
  test.each(ALL)('%s: is shut down: edu asserting it interrupts no one, and Linux prints nothing', (shape) => {
    const x = setup(shape);
    drv(x, (l) => L.lab_raise(l, 1));
    expect(dmesg().join('\n')).not.toContain('nobody cared');
    unbind(x.pdev);
    clean();
  });
});
