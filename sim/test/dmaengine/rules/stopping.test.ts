// Stopping before freeing (lesson 12 § Stopping before freeing, lesson 13 § Terminate async
// and synchronize): a buffer unmapped while its transfer may still run, with no terminate or
// after terminate_async alone (DMAENGINE_BUFFER_FREED_ACTIVE); the callback's state kfree'd
// in that window (DMAENGINE_CALLBACK_STATE_FREED); terminate_sync / synchronize in atomic
// context (DMAENGINE_SYNC_IN_ATOMIC) or in the channel's own callback
// (DMAENGINE_SYNC_IN_CALLBACK), each after the kernel's own BUG line; an issue_pending between
// terminate_async and synchronize (DMAENGINE_ISSUE_BEFORE_SYNC). Each on every shape, and the
// correct order clean.
import { describe, expect, test } from 'vitest';
import { all_shapes, has, dmesg, run_for_ms, unbind_platform } from '../../../testing/index.ts';
import { DMA_TO_DEVICE, DMA_FROM_DEVICE } from '../../../include/linux/dma-direction.ts';
import { setup, drv, caught, clean, with_code, type Lab } from './lab.ts';
import * as E from '../../drivers/engine_lab.ts';

const LEN = 65536;   // 64 us at the controller's memcpy speed: still running when the CPU goes on

interface Copy { s: number; d: number; src: number; dst: number; unmap: () => void; free: () => void }
function start(x: Lab, state = 0, inside?: () => void): Copy {
  const src = drv(x, () => E.elab_alloc(LEN)), dst = drv(x, () => E.elab_alloc(LEN));
  const c = drv(x, (l) => {
    const dev = l.chan!.device.dev!;
    const s = E.elab_map(dev, src, LEN, DMA_TO_DEVICE), d = E.elab_map(dev, dst, LEN, DMA_FROM_DEVICE);
    const tx = E.elab_prep_memcpy(l, d, s, LEN)!;
    E.elab_set_callback(l, tx, state, inside);
    E.elab_submit_checked(l, tx);
    E.elab_issue(l.chan!);
    return { s, d };
  });
  return { ...c, src, dst,
    unmap: () => drv(x, (l) => { E.elab_unmap(l.chan!.device.dev!, c.d, LEN, DMA_FROM_DEVICE); E.elab_unmap(l.chan!.device.dev!, c.s, LEN, DMA_TO_DEVICE); }),
    free: () => drv(x, () => { E.elab_kfree(src); E.elab_kfree(dst); }) };
}

const FREED = /^dmalab: engine-lab engine-lab: dma_unmap_single\(\) of a buffer that dma0chan0 may still be writing \(cookie 2: (.*)\) \[device address=0x[0-9a-f]{16}\] \[size=65536 bytes\]\ndmalab: stop the channel first/;

describe.each(all_shapes())('%s', (shape) => {
  test('unmapped while the copy runs, never terminated: caught with the submit; waited for, clean', () => {
    const x = setup(shape);
    const c = start(x);
    c.unmap();
    const d = caught('DMAENGINE_BUFFER_FREED_ACTIVE', FREED, [['dma_unmap_single() at', 'elab_unmap'], ['Submitted at', 'elab_submit_checked']]);
    expect(d.lines[0]).toContain('issued and not completed; the channel was never terminated');
    expect(has('DMA_UNMAP_IN_FLIGHT')).toBe(true);
    run_for_ms(1);
    c.free();

    const y = setup(shape);
    const e = start(y);
    expect(drv(y, (l) => E.elab_wait(l))).toBeGreaterThan(0);
    e.unmap();
    e.free();
    unbind_platform(y.pdev);
    clean();
  });

  test('terminate_async then unmap: caught with the terminate; terminate_async + synchronize, or terminate_sync, clean', () => {
    const x = setup(shape);
    const c = start(x);
    drv(x, (l) => E.elab_terminate_async(l.chan!));
    c.unmap();
    const d = caught('DMAENGINE_BUFFER_FREED_ACTIVE', FREED, [['dma_unmap_single() at', 'elab_unmap'], ['Terminated at', 'elab_terminate_async']]);
    expect(d.lines[0]).toContain('terminated with dmaengine_terminate_async() and not synchronized');
    c.free();

    const y = setup(shape);
    const e = start(y);
    drv(y, (l) => { E.elab_terminate_async(l.chan!); E.elab_synchronize(l.chan!); });
    e.unmap();
    const f = start(y);
    drv(y, (l) => E.elab_terminate_sync(l.chan!));
    f.unmap();
    e.free();
    f.free();
    unbind_platform(y.pdev);
    clean();
  });

  test('the callback\'s kmalloc\'ed state freed after terminate_async: caught; after terminate_sync, clean', () => {
    const x = setup(shape);
    const st = drv(x, () => E.elab_alloc(64));
    const c = start(x, st);
    drv(x, (l) => { E.elab_terminate_async(l.chan!); E.elab_kfree(st); });
    caught('DMAENGINE_CALLBACK_STATE_FREED', /^dmalab: engine-lab engine-lab: kfree\(\) of memory the callback of dma0chan0 cookie 2 uses \(its callback_param\), while that callback may still run \(terminated with dmaengine_terminate_async\(\) and not synchronized\)\ndmalab: dmaengine_terminate_sync\(\)/,
      [['Freed at', 'elab_kfree'], ['Terminated at', 'elab_terminate_async']]);
    drv(x, (l) => E.elab_synchronize(l.chan!));
    c.unmap();
    c.free();

    const y = setup(shape);
    const st2 = drv(y, () => E.elab_alloc(64));
    const e = start(y, st2);
    drv(y, (l) => { E.elab_terminate_sync(l.chan!); E.elab_kfree(st2); });
    // And freed once the callback has run.
    const st3 = drv(y, () => E.elab_alloc(64));
    const f = start(y, st3);
    expect(drv(y, (l) => E.elab_wait(l))).toBeGreaterThan(0);
    drv(y, () => E.elab_kfree(st3));
    e.unmap(); f.unmap(); e.free(); f.free();
    unbind_platform(y.pdev);
    clean();
  });

  test('terminate_sync with a spinlock held: the kernel\'s BUG, then the engine code; async in the lock and synchronize after it, clean', () => {
    const x = setup(shape);
    const c = start(x);
    drv(x, (l) => E.elab_locked(() => E.elab_terminate_sync(l.chan!)));
    expect(dmesg().join('\n')).toContain('BUG: sleeping function called from invalid context at include/linux/dmaengine.h:1157');
    const d = caught('DMAENGINE_SYNC_IN_ATOMIC', /^dmalab: engine-lab engine-lab: dmaengine_terminate_sync\(\) on dma0chan0 with interrupts disabled: it waits for the channel's transfers and callbacks, which only process context may do\ndmalab: stop with dmaengine_terminate_async\(\) here/,
      [['Called at', 'elab_terminate_sync']]);
    // The kernel's line comes first, then dmalab's.
    const lines = dmesg();
    expect(lines.findIndex((t) => t.startsWith('BUG: sleeping function'))).toBeLessThan(lines.indexOf(d.lines[0]!));
    c.unmap(); c.free();

    const y = setup(shape);
    const e = start(y);
    drv(y, (l) => { E.elab_locked(() => E.elab_terminate_async(l.chan!)); E.elab_synchronize(l.chan!); });
    e.unmap(); e.free();
    unbind_platform(y.pdev);
    clean();
  });

  test('terminate_sync in the channel\'s own callback: the BUG, and the engine code naming the callback\'s descriptor; terminate_async there, clean', () => {
    const x = setup(shape);
    const c = start(x, 0, () => E.elab_terminate_sync(x.l.chan!));
    run_for_ms(1);
    expect(has('SLEEP_IN_ATOMIC')).toBe(true);
    caught('DMAENGINE_SYNC_IN_CALLBACK', /^dmalab: engine-lab engine-lab: dmaengine_terminate_sync\(\) on dma0chan0 from the callback of its own descriptor \(cookie 2\): it waits for that callback to return, and the callback is the caller\ndmalab: in a callback use dmaengine_terminate_async\(\)/,
      [['Called at', 'elab_terminate_sync'], ['Callback of the descriptor submitted at', 'elab_submit_checked']]);
    expect(with_code('DMAENGINE_SYNC_IN_ATOMIC')).toEqual([]);
    c.unmap(); c.free();

    const y = setup(shape);
    const e = start(y, 0, () => E.elab_terminate_async(y.l.chan!));
    run_for_ms(1);
    drv(y, (l) => E.elab_synchronize(l.chan!));
    e.unmap(); e.free();
    unbind_platform(y.pdev);
    clean();
  });

  test('issue_pending between terminate_async and synchronize: caught with both lines; synchronized first, clean', () => {
    const x = setup(shape);
    const c = start(x);
    drv(x, (l) => E.elab_terminate_async(l.chan!));
    const e = start(x);
    caught('DMAENGINE_ISSUE_BEFORE_SYNC', /^dmalab: engine-lab engine-lab: dma_async_issue_pending\(\) on dma0chan0 after dmaengine_terminate_async\(\) and before dmaengine_synchronize\(\): the kernel leaves what happens undefined/,
      [['Issued at', 'elab_issue'], ['Terminated at', 'elab_terminate_async']]);
    drv(x, (l) => E.elab_terminate_sync(l.chan!));
    c.unmap(); e.unmap(); c.free(); e.free();

    const y = setup(shape);
    const f = start(y);
    drv(y, (l) => { E.elab_terminate_async(l.chan!); E.elab_synchronize(l.chan!); });
    const g = start(y);
    expect(drv(y, (l) => E.elab_wait(l))).toBeGreaterThan(0);
    f.unmap(); g.unmap(); f.free(); g.free();
    unbind_platform(y.pdev);
    clean();
  });
});
