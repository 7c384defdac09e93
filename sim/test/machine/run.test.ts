// The machine as a whole: determinism by seed (DESIGN.md §4), the watchdog and oops handling that
// keep a broken driver from taking the harness down (§11), and the event trace (§10).
import { describe, expect, test } from 'vitest';
import { machine, plug_edu, bind, unbind, call, report, codes, dmesg, pattern, all_shapes, run_for_ms, type ShapeName } from '../../testing/index.ts';
import { setup, drv, caught } from '../rules/lab.ts';
import * as L from '../drivers/lab.ts';

/** A little of everything: an interrupt-driven receive, a bug, vmalloc, a big CPU fill that
 *  goes through the cache, unbind. Returns the whole report and where the buffer landed. */
function scenario(shape: ShapeName, seed: number) {
  const x = setup(shape, { irq: true }, { seed });
  x.edu.dma_buf.set(pattern(4096, seed));
  const buf = drv(x, () => L.lab_alloc(4096));
  const big = drv(x, () => L.lab_alloc(256 * 1024));
  drv(x, () => L.lab_fill(big, 0x5a, 256 * 1024));
  const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_FROM_DEVICE));
  drv(x, (l) => L.lab_start(l, h, 4096, true, true));
  drv(x, (l) => L.lab_wait_irq(l));
  const seen = drv(x, () => L.lab_read(buf, 64));
  drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_FROM_DEVICE));
  drv(x, () => { L.lab_free(buf); L.lab_free(big); });
  unbind(x.pdev);
  const r = report([], undefined, 10000, 10000);
  return { r, buf, h, seen: Array.from(seen), cache: x.m.cache ? { ...x.m.cache.stats } : null };
}

describe('determinism', () => {
  test.each(all_shapes())('%s: the same seed gives the same dmesg, trace, diagnostics and data', (shape) => {
    const a = scenario(shape, 7), b = scenario(shape, 7);
    expect(a.r.diagnostics.map((d) => d.code)).toEqual(['CPU_ACCESS_DEVICE_OWNED']);
    expect(b.r.dmesg).toEqual(a.r.dmesg);
    expect(b.r.trace).toEqual(a.r.trace);
    expect(b.r.diagnostics).toEqual(a.r.diagnostics);
    expect(b.seen).toEqual(a.seen);
    expect(b.cache).toEqual(a.cache);
    expect(a.r.trace.length).toBeGreaterThanOrEqual(10);
  });

  test.each(all_shapes())('%s: another seed places buffers elsewhere', (shape) => {
    const a = scenario(shape, 7), c = scenario(shape, 8);
    expect(c.buf).not.toBe(a.buf);
    expect(c.r.seed).toBe(8);
    expect(c.r.dmesg[0]).toContain("seed 0x8");
  });

  test('arm64: the cache\'s seeded replacement gives the same evictions for a seed, different ones for another', () => {
    const a = scenario('arm64', 7), b = scenario('arm64', 7), c = scenario('arm64', 8);
    expect(a.cache!.evictions).toBeGreaterThan(0);
    expect(b.cache).toEqual(a.cache);
    expect(c.cache).not.toEqual(a.cache);
  });
});

describe('watchdog', () => {
  test('a driver spinning on a register that never changes: SOFT_LOCKUP within its wall budget, and the run goes on', () => {
    const x = setup('x86', {}, { wall_budget_ms: 300 });
    const t0 = performance.now();
    const o = call(x.pdev, () => L.lab_spin_forever(x.l));
    const wall = performance.now() - t0;
    expect(o.ok).toBe(false);
    if (!o.ok) expect(o.halt).toBe('soft-lockup');
    expect(wall).toBeLessThan(3000);
    const d = caught('SOFT_LOCKUP', /^watchdog: BUG: soft lockup - CPU#0 stuck for \d+s! \[test:42\]\ndmalab: the driver ran for 300 ms of real time without finishing \(an endless loop\?\)$/, ['Stuck at']);
    expect(d.sites[0]!.site.fn).toBe('lab_spin_forever');
    // The machine is still usable: the same driver, the same device.
    expect(drv(x, (l) => L.lab_read_id(l))).toBe(0x010000ed);
    unbind(x.pdev);
    expect(codes()).toEqual(['SOFT_LOCKUP']);
  });

  test('an interrupt handler that never returns, while the harness runs the clock: SOFT_LOCKUP within the wall budget', () => {
    const x = setup('x86', { irq: true, handler: 'spins' }, { wall_budget_ms: 300 });
    const buf = drv(x, () => L.lab_alloc(4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_FROM_DEVICE));
    drv(x, (l) => L.lab_start(l, h, 4096, true, true));
    const t0 = performance.now();
    run_for_ms(200);
    expect(performance.now() - t0).toBeLessThan(3000);
    caught('SOFT_LOCKUP', /^watchdog: BUG: soft lockup - CPU#0 stuck for \d+s! \[swapper\/0:0\]\ndmalab: the driver ran for 300 ms of real time/);
    expect(dmesg().some((l) => l.includes("handler 'edu_lab' on irq") && l.includes('disabled so the run can go on'))).toBe(true);
    // The machine goes on: the device still answers.
    expect(drv(x, (l) => L.lab_read_id(l))).toBe(0x010000ed);
  });

  test('busy-waiting on completion_done() lets the interrupt come; on one that never completes, SOFT_LOCKUP', () => {
    const x = setup('x86', { irq: true }, { wall_budget_ms: 300 });
    const buf = drv(x, () => L.lab_alloc(4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_FROM_DEVICE));
    drv(x, (l) => L.lab_start(l, h, 4096, true, true));
    const t0 = x.m.clock.now;
    expect(drv(x, (l) => L.lab_poll_done(l))).toBeGreaterThan(0);
    expect(x.m.clock.now - t0).toBeGreaterThanOrEqual(100e6); // edu's DMA takes 100 ms
    drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_FROM_DEVICE));
    drv(x, () => L.lab_free(buf));
    expect(codes()).toEqual([]);
    // Nothing started this time: the loop never ends, and the watchdog says so.
    x.l.done.done = 0; // as reinit_completion() would
    const o = call(x.pdev, () => L.lab_poll_done(x.l));
    expect(o.ok).toBe(false);
    caught('SOFT_LOCKUP', /^watchdog: BUG: soft lockup - CPU#0 stuck for \d+s! \[test:42\]/);
  });

  test('a deadline loop on jiffies ends when the deadline passes', () => {
    const x = setup('arm64');
    const t0 = x.m.clock.now;
    expect(drv(x, () => L.lab_poll_jiffies(50))).toBeGreaterThan(0);
    const ms = (x.m.clock.now - t0) / 1e6;
    expect(ms).toBeGreaterThanOrEqual(46);
    expect(ms).toBeLessThan(60);
    expect(codes()).toEqual([]);
  });

  test('wait_for_completion() with nobody to complete it: HUNG_TASK after 120 virtual seconds, with the line that waited', () => {
    const x = setup('x86');
    const t0 = x.m.clock.now;
    const o = call(x.pdev, () => L.lab_wait_forever(x.l));
    expect(o.ok).toBe(false);
    expect((x.m.clock.now - t0) / 1e9).toBeCloseTo(120, 0);
    caught('HUNG_TASK', /^INFO: task test:42 blocked for more than 120 seconds\.\n {6}Not tainted 6\.1\.0-dmalab #1\ndmalab: wait_for_completion\(\) without a timeout never returned: nothing called complete\(\)$/, ['Waiting at']);
    expect(codes()).toEqual(['HUNG_TASK']);
  });

  test('a spinlock taken twice: the soft lockup it becomes, and dmalab naming the lock (not an Oops); once: clean', () => {
    const x = setup('arm64');
    expect(call(x.pdev, () => L.lab_lock_nested(false)).ok).toBe(false);
    caught('SOFT_LOCKUP', /^watchdog: BUG: soft lockup - CPU#0 stuck for 22s! \[test:42\]\ndmalab: spin_lock\(\) of 'lab_lock', which this CPU already holds/, ['Locked at']);
    expect(codes()).toEqual(['SOFT_LOCKUP']);
    const y = setup('arm64');
    expect(call(y.pdev, () => L.lab_lock_nested(true)).ok).toBe(true);
    expect(codes()).toEqual([]);
  });

  test('a mutex locked twice by its owner: HUNG_TASK after 120 virtual seconds (the kernel says no more); once: clean', () => {
    const x = setup('x86');
    const t0 = x.m.clock.now;
    expect(call(x.pdev, () => L.lab_mutex_nested(false)).ok).toBe(false);
    expect((x.m.clock.now - t0) / 1e9).toBeCloseTo(120, 0);
    caught('HUNG_TASK', /^INFO: task test:42 blocked for more than 120 seconds\.\n {6}Not tainted 6\.1\.0-dmalab #1\ndmalab: mutex_lock\(\) of 'lab_mutex', which this task already holds/, ['Locked at']);
    expect(codes()).toEqual(['HUNG_TASK']);
    const y = setup('x86');
    expect(call(y.pdev, () => L.lab_mutex_nested(true)).ok).toBe(true);
    expect(codes()).toEqual([]);
  });

  test('the default wall budget is a few seconds', () => {
    expect(machine().sched.wall_budget_ms).toBeGreaterThan(0);
    expect(machine().sched.wall_budget_ms).toBeLessThanOrEqual(5000);
  });

  test('a loop that sleeps 1 ms per turn trips the virtual-time watchdog after 20 s of virtual time', () => {
    const x = setup('arm64');
    const t0 = x.m.clock.now;
    const o = call(x.pdev, () => L.lab_spin_udelay(x.l));
    expect(o.ok).toBe(false);
    const stuck = (x.m.clock.now - t0) / 1e9;
    expect(stuck).toBeGreaterThan(20);
    expect(stuck).toBeLessThan(22);
    caught('SOFT_LOCKUP', /^watchdog: BUG: soft lockup - CPU#0 stuck for 2[01]s! \[test:42\]$/);
  });
});

describe('oops', () => {
  test('an exception in probe becomes an OOPS with the driver\'s frames and a dmalab line; the kernel panics and runs no more driver code', () => {
    machine({ shape: 'x86' });
    const { pdev } = plug_edu();
    const { pdev: other } = plug_edu(4);
    expect(bind(L.lab_driver({ probe_throws: true }), pdev)).toBeLessThan(0);
    const d = caught('OOPS', /^dmalab: lab_probe\(\) read \.0 of undefined: in C, a NULL pointer dereference\ndmalab: \(a JavaScript TypeError in your driver; .*\nOops: 0000 \[#1\]\nCPU: 0 PID: 30 Comm: insmod /);
    expect(d.sites[0]!.label).toBe('thrown at');
    expect(d.sites[0]!.site.file).toBe('sim/test/drivers/lab.ts');
    expect(d.sites[0]!.site.fn).toBe('lab_probe');
    expect(d.lines.some((l) => /^ sim\/test\/drivers\/lab\.ts:\d+:\d+ \(lab_probe\)$/.test(l))).toBe(true);
    expect(d.lines).toContain('RIP: 0010:lab_probe [edu_lab]');
    expect(d.lines.slice(-2)).toEqual(['Kernel panic - not syncing: Fatal exception', 'Kernel Offset: disabled']);
    // No leak report after a crash (the oops is the news), and nothing runs after the panic.
    expect(bind(L.lab_driver(), other)).toBeLessThan(0);
    unbind(other);
    expect(codes()).toEqual(['OOPS']);
    // A new machine is a new boot.
    machine({ shape: 'x86' });
    const { pdev: fresh } = plug_edu();
    expect(bind(L.lab_driver(), fresh)).toBe(0);
  });

  test('an exception in the interrupt handler: OOPS, "Fatal exception in interrupt", and the task it interrupted stops', () => {
    const x = setup('arm64', { irq: true, handler: 'throws' });
    const o = call(x.pdev, () => L.lab_raise(x.l, 1));
    expect(o.ok).toBe(false);
    const d = caught('OOPS', /^dmalab: lab_irq\(\) read \.count of null: in C, a NULL pointer dereference\n.*\nInternal error: Oops: 0000000000000000 \[#1\] SMP\n.*\nCPU: 0 PID: 42 Comm: test /);
    expect(d.sites[0]!.site.fn).toBe('lab_irq');
    expect(dmesg()).toContain('Kernel panic - not syncing: Oops: Fatal exception in interrupt');
    expect(codes()).toEqual(['OOPS']);
    expect(call(x.pdev, () => L.lab_read_id(x.l)).ok).toBe(false);
  });

  test('an exception in a driver function the test calls: an oops outcome, not a thrown error', () => {
    const x = setup('x86-iommu');
    const o = call(x.pdev, () => L.lab_crash(x.l));
    expect(o.ok).toBe(false);
    if (!o.ok) expect(o.halt).toBe('oops');
    // (V8 names it 'Module.lab_crash', called through a namespace import; the learner wrote lab_crash.)
    expect(caught('OOPS', /TypeError/).sites[0]!.site.fn).toBe('lab_crash');
  });
});

describe('kernel API arguments', () => {
  test.each(all_shapes())('%s: writeq(len, edu + REG) with edu an object: an oops naming the argument, with the driver\'s frames; through the BAR it is clean', (shape) => {
    const x = setup(shape);
    const o = call(x.pdev, () => L.lab_set_count(x.l, 4096, true));
    expect(o.ok).toBe(false);
    const d = caught('OOPS', /^dmalab: writeq\(\): addr is an object \(made a string by \+: "\[object Object\]144"\), not an `__iomem` address\n/);
    const trace = d.lines.filter((l) => /^ sim\//.test(l));
    expect(trace[0]).toMatch(/^ sim\/test\/drivers\/lab\.ts:\d+:\d+ \(lab_set_count\)$/);
    expect(d.sites[0]!.site.fn).toBe('lab_set_count');
    expect(d.lines.at(-1)).toMatch(/Fatal exception$|Kernel Offset: disabled$/);

    const y = setup(shape);
    drv(y, (l) => L.lab_set_count(l, 4096));
    expect(codes()).toEqual([]);
  });
});

/** Trace lines as [seconds, text]. */
function events(lines: string[]): [number, string][] {
  return lines.map((l) => {
    const m = /^\s*(\d+)\.(\d{6}): (.*)$/.exec(l)!;
    return [Number(m[1]) + Number(m[2]) / 1e6, m[3]!];
  });
}

describe('trace', () => {
  test.each(all_shapes())('%s: map, device access, interrupt, sync and unmap appear in order with virtual timestamps', (shape) => {
    const x = setup(shape, { irq: true });
    const buf = drv(x, () => L.lab_alloc(4096));
    const c = drv(x, (l) => L.lab_alloc_coherent(l, 4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_FROM_DEVICE));
    drv(x, (l) => L.lab_start(l, h, 4096, true, true));
    expect(drv(x, (l) => L.lab_wait_irq(l))).toBe(0);
    drv(x, (l) => L.lab_sync_cpu(l, h, 4096, L.DMA_FROM_DEVICE));
    drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_FROM_DEVICE));
    drv(x, (l) => L.lab_free_coherent(l, 4096, c));
    const ev = events(x.m.trace.tail(200)).filter(([, s]) => !s.startsWith('mmio_read'));
    const hex = h.toString(16);
    const find = (re: RegExp) => {
      const i = ev.findIndex(([, s]) => re.test(s));
      expect(i, `${re} in\n${ev.map((e) => e.join(' ')).join('\n')}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    const i_alloc = find(/^dma_alloc: 0000:00:03\.0 dir=BIDIRECTIONAL dma_addr=[0-9a-f]+ size=4096 /);
    const i_map = find(new RegExp(`^dma_map_phys: 0000:00:03\\.0 dir=FROM_DEVICE dma_addr=${hex} size=4096 phys_addr=`));
    const i_go = find(/^mmio_write: 0000:00:03\.0 bar0 \+0x98 width=64 val=0x7$/);
    const i_dev = find(new RegExp(`^device_dma_write: 0000:00:03\\.0 bus_addr=${hex} size=4096`));
    const i_irq = find(/^irq_handler_entry: irq=\d+ name=edu_lab$/);
    const i_ret = find(/^irq_handler_exit: irq=\d+ ret=handled$/);
    const i_sync = find(new RegExp(`^dma_sync_single_for_cpu: 0000:00:03\\.0 dir=FROM_DEVICE dma_addr=${hex} size=4096$`));
    const i_unmap = find(new RegExp(`^dma_unmap_phys: 0000:00:03\\.0 dir=FROM_DEVICE dma_addr=${hex} size=4096$`));
    const i_free = find(/^dma_free: 0000:00:03\.0/);
    const order = [i_alloc, i_map, i_go, i_dev, i_irq, i_ret, i_sync, i_unmap, i_free];
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // Time only moves forward, and edu's DMA takes 100 ms of virtual time.
    for (let i = 1; i < ev.length; i++) expect(ev[i]![0]).toBeGreaterThanOrEqual(ev[i - 1]![0]);
    expect(ev[i_dev]![0] - ev[i_go]![0]).toBeCloseTo(0.1, 5);
    if (x.m.iommu) find(new RegExp(`^iommu_map: 0000:00:03\\.0 iova=0x${hex} `));
    if (x.m.swiotlb?.force) find(new RegExp(`^swiotlb_bounced: dev_name: 0000:00:03\\.0 dev_addr=${hex} size=4096 FORCE$`));
  });

  test('x86-iommu: an IOMMU fault is an event too; sg mappings have theirs', () => {
    const x = setup('x86-iommu');
    const pages = drv(x, () => [L.lab_alloc(4096), L.lab_alloc(4096)]);
    const { sgl } = drv(x, (l) => L.lab_map_sg(l, pages, 4096, L.DMA_TO_DEVICE));
    drv(x, (l) => L.lab_xfer(l, 0xffff000 - 0x10000, 64, false));
    drv(x, (l) => L.lab_unmap_sg(l, sgl, 2, L.DMA_TO_DEVICE));
    const t = x.m.trace.tail(100).join('\n');
    expect(t).toMatch(/dma_map_sg: 0000:00:03\.0 dir=TO_DEVICE nents=2 ents=1 dma_addr=fffe000/);
    expect(t).toMatch(/iommu_fault: 0000:00:03\.0 iova=0xffef000 read/);
    expect(t).toMatch(/dma_unmap_sg: 0000:00:03\.0 dir=TO_DEVICE nents=2/);
  });
});
