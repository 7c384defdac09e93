// The provider rules (lesson 14), on broken versions of the bundled provider
// (sim/test/drivers/dmac_variants.ts) and on the bundled provider itself, clean: a cookie
// completed out of order (DMAENGINE_WRONG_COOKIE), a callback from the interrupt handler
// (DMAENGINE_CALLBACK_HARDIRQ), a residue the controller's progress contradicts
// (DMAENGINE_WRONG_RESIDUE), the controller still moving a terminated descriptor's data after
// terminate and synchronize (DMAENGINE_HW_RUNNING_AFTER_TERMINATE), the active descriptor
// dropped by terminate_all (DMAENGINE_DESC_LEAK). On every shape.
import { describe, expect, test } from 'vitest';
import { all_shapes, has, run_for_ms, unbind_platform } from '../../../testing/index.ts';
import { M } from '../../../kernel/machine.ts';
import { DMA_TO_DEVICE, DMA_FROM_DEVICE } from '../../../include/linux/dma-direction.ts';
import { DMA_IN_PROGRESS } from '../../../include/linux/dmaengine.ts';
import { dma_tx_state_zero } from '../../../include/linux/dmaengine.ts';
import { setup, drv, caught, clean, with_code, type Lab } from './lab.ts';
import * as E from '../../drivers/engine_lab.ts';
import * as V from '../../drivers/dmac_variants.ts';

const VARIANTS = 'sim/test/drivers/dmac_variants.ts';
const LEN = 65536;   // five LLIs of 16380 bytes (and a tail): 64 us

interface Copy { cookie: number; unmap: () => void }
function start(x: Lab, issue = true): Copy {
  const src = drv(x, () => E.elab_alloc(LEN)), dst = drv(x, () => E.elab_alloc(LEN));
  const c = drv(x, (l) => {
    const dev = l.chan!.device.dev!;
    const s = E.elab_map(dev, src, LEN, DMA_TO_DEVICE), d = E.elab_map(dev, dst, LEN, DMA_FROM_DEVICE);
    const tx = E.elab_prep_memcpy(l, d, s, LEN)!;
    E.elab_set_callback(l, tx);
    const cookie = E.elab_submit_checked(l, tx);
    if (issue) E.elab_issue(l.chan!);
    return { s, d, cookie };
  });
  return { cookie: c.cookie, unmap: () => drv(x, (l) => {
    const dev = l.chan!.device.dev!;
    E.elab_unmap(dev, c.d, LEN, DMA_FROM_DEVICE);
    E.elab_unmap(dev, c.s, LEN, DMA_TO_DEVICE);
    E.elab_kfree(src);
    E.elab_kfree(dst);
  }) };
}

/** The residue of `cookie` at these times (ns from now), as the client reads it. */
function residues(x: Lab, cookie: number, at: number[]): number[] {
  const t0 = M.clock.now, out: number[] = [];
  for (const t of at) {
    M.clock.advance_to(t0 + t);
    const st = dma_tx_state_zero();
    if (drv(x, (l) => E.elab_status(l.chan!, cookie, st)) === DMA_IN_PROGRESS) out.push(st.residue);
  }
  return out;
}

describe.each(all_shapes())('%s', (shape) => {
  test('a queued descriptor completed while the first runs: WRONG_COOKIE with the other\'s submit; the bundled provider, clean', () => {
    const x = setup(shape);
    V.variant_complete_queued(x.ctrl);
    const a = start(x, false), b = start(x, false);
    drv(x, (l) => E.elab_issue(l.chan!));
    caught('DMAENGINE_WRONG_COOKIE', /^dmalab: dmalab-dmac [\w@.-]+: dma0chan0: cookie 3 completed while cookie 2, issued before it and still in the hardware's queue, has not completed \(out of order\)\ndmalab: complete the descriptor the hardware has just finished/,
      [['Completed at', '', VARIANTS], ['Submitted at', 'elab_submit_checked']]);
    run_for_ms(1);
    a.unmap(); b.unmap();

    const y = setup(shape);
    const c = start(y, false), d = start(y, false);
    drv(y, (l) => E.elab_issue(l.chan!));
    run_for_ms(1);
    c.unmap(); d.unmap();
    unbind_platform(y.pdev);
    clean();
  });

  test('the callback called from the interrupt handler: CALLBACK_HARDIRQ; from the tasklet, clean', () => {
    const x = setup(shape);
    V.variant_callback_in_irq(x.ctrl);
    const a = start(x);
    expect(drv(x, (l) => E.elab_wait(l))).toBeGreaterThan(0);
    caught('DMAENGINE_CALLBACK_HARDIRQ', /^dmalab: dmalab-dmac [\w@.-]+: dma0chan0: the callback of cookie 2 was called in hard-IRQ context\ndmalab: complete with vchan_cookie_complete\(\)/,
      [['Called back at', '', VARIANTS], ['Submitted at', 'elab_submit_checked']]);
    a.unmap();

    const y = setup(shape);
    const b = start(y);
    expect(drv(y, (l) => E.elab_wait(l))).toBeGreaterThan(0);
    b.unmap();
    unbind_platform(y.pdev);
    clean();
  });

  for (const [name, variant, why] of [
    ['from vchan_find_desc() only (0 for the running one)', V.variant_residue_queued_only, /can have moved at most \d+ of them/],
    ['of the current LLI only', V.variant_residue_current_seg_only, /can have moved at most \d+ of them/],
  ] as const) {
    test(`a residue ${name}: WRONG_RESIDUE; the bundled provider's, at the same points, clean`, () => {
      const x = setup(shape);
      variant(x.ctrl);
      const a = start(x);
      residues(x, a.cookie, [3000, 20000, 40000]);
      const d = caught('DMAENGINE_WRONG_RESIDUE', /^dmalab: dmalab-dmac [\w@.-]+: dma0chan0: tx_status gives a residue of \d+ bytes for cookie 2 \(65536 bytes\), but /,
        [['Status asked at', 'elab_status'], ['Submitted at', 'elab_submit_checked']]);
      expect(d.lines[0]).toMatch(why);
      run_for_ms(1);
      a.unmap();

      const y = setup(shape);
      const b = start(y), c = start(y);
      const seen = residues(y, b.cookie, [3000, 20000, 40000, 60000]);
      expect(seen.length).toBeGreaterThan(2);
      expect(seen[0]).toBeGreaterThan(seen[seen.length - 1]!);
      // The second, queued behind the first, is whole.
      expect(residues(y, c.cookie, [0])).toEqual([LEN]);
      run_for_ms(1);
      b.unmap(); c.unmap();
      unbind_platform(y.pdev);
      clean();
    });
  }

  test('the bundled provider\'s residue at segment and descriptor granularity, over two chained copies: clean', () => {
    for (const residue of ['segment', 'descriptor'] as const) {
      const y = setup(shape, {}, { residue });
      const b = start(y), c = start(y);
      residues(y, b.cookie, [1000, 17000, 33000, 50000, 64000]);
      residues(y, c.cookie, [10000, 40000, 60000]);
      run_for_ms(1);
      b.unmap(); c.unmap();
      unbind_platform(y.pdev);
      clean();
    }
  });

  test('terminate_all that leaves the channel running: HW_RUNNING_AFTER_TERMINATE at the controller\'s next access; the bundled one stops, clean', () => {
    const x = setup(shape);
    V.variant_terminate_lists_only(x.ctrl);
    const a = start(x);
    M.clock.advance_to(M.clock.now + 5000);
    drv(x, (l) => E.elab_terminate_sync(l.chan!));
    a.unmap();
    run_for_ms(1);
    caught('DMAENGINE_HW_RUNNING_AFTER_TERMINATE', /^dmalab: dmalab-dmac [\w@.-]+: the controller (wrote|read) bus address 0x[0-9a-f]{16} \[size=\d+ bytes\] of dma0chan0 cookie 2 after the channel was terminated and synchronized\ndmalab: device_terminate_all must stop the channel/,
      [['Terminated at', 'elab_terminate_sync']]);
    expect(has('DEVICE_ACCESS_FREED') || has('IOMMU_FAULT')).toBe(true);

    const y = setup(shape);
    const b = start(y);
    M.clock.advance_to(M.clock.now + 5000);
    drv(y, (l) => E.elab_terminate_sync(l.chan!));
    b.unmap();
    run_for_ms(1);
    // The channel is usable again, on the same buffers' addresses.
    const c = start(y);
    expect(drv(y, (l) => E.elab_wait(l))).toBeGreaterThan(0);
    c.unmap();
    unbind_platform(y.pdev);
    clean();
  });

  test('terminate_all that drops the active descriptor: DESC_LEAK after the synchronize; vchan_terminate_vdesc(), clean', () => {
    const x = setup(shape);
    V.variant_no_terminate_vdesc(x.ctrl);
    const a = start(x);
    M.clock.advance_to(M.clock.now + 5000);
    drv(x, (l) => E.elab_terminate_sync(l.chan!));
    caught('DMAENGINE_DESC_LEAK', /^dmalab: dmalab-dmac [\w@.-]+: dma0chan0: the descriptor of cookie 2 \(65536 bytes\) was never freed, and is on none of the channel's lists\ndmalab: device_terminate_all hands the active descriptor to vchan_terminate_vdesc\(\)/,
      [['Prepared at', 'elab_prep_memcpy'], ['Terminated at', 'elab_terminate_sync']]);
    expect(with_code('DMAENGINE_DESC_LEAK')).toHaveLength(1);
    a.unmap();

    const y = setup(shape);
    const b = start(y);
    M.clock.advance_to(M.clock.now + 5000);
    drv(y, (l) => E.elab_terminate_sync(l.chan!));
    b.unmap();
    unbind_platform(y.pdev);
    unbind_platform(y.ctrl);
    clean();
  });
});
