// Fault injection (DESIGN.md §9), like the kernel's fail-nth: count the injection points a probe
// passes, fail each in turn, and prove every error path unwinds without leaks; a driver with a
// broken error path is caught at the point that exposes it.
import { describe, expect, test } from 'vitest';
import { probe_sweep, fail_nth_sweep, machine, plug_edu, bind, unbind, all_shapes } from '../../testing/index.ts';
import { lab_driver } from '../drivers/lab.ts';

// The 'full' probe: enable, regions, iomap (pci_iomap, then the ioremap inside it), mask,
// coherent ring, kmalloc, map, request_irq.
const KINDS = ['pci_enable_device', 'pci_request_regions', 'pci_iomap', 'ioremap', 'dma_set_mask', 'dma_alloc', 'kmalloc', 'dma_map', 'request_irq'];

describe.each(all_shapes())('%s', (shape) => {
  test('a probe that unwinds correctly: every injected failure fails the probe and leaves nothing behind', () => {
    const s = probe_sweep(() => lab_driver({ full: 'ok' }), { shape, seed: 2 });
    expect(s.ret0).toBe(0);
    expect(s.points.map((p) => p.kind)).toEqual(KINDS);
    expect(s.runs.map((r) => r.kind)).toEqual(KINDS);
    for (const r of s.runs) {
      expect(r.ret, `point ${r.n} (${r.kind})`).toBeLessThan(0);
      expect(r.codes, `point ${r.n} (${r.kind} at ${r.where})`).toEqual([]);
      expect(r.where).toMatch(/^sim\/test\/drivers\/lab\.ts:\d+:\d+$/);
    }
  });

  test('a probe that leaks its DMA when request_irq fails is caught at that point only', () => {
    const s = probe_sweep(() => lab_driver({ full: 'broken' }), { shape, seed: 2 });
    const bad = s.runs.filter((r) => r.codes.length);
    expect(bad.map((r) => [r.kind, r.codes])).toEqual([['request_irq', ['DMA_LEAK_AT_PROBE_FAILURE', 'LEAK_MEMORY']]]);
  });

  test('a probe that keeps its regions when pci_iomap fails is caught at that point only', () => {
    const s = probe_sweep(() => lab_driver({ full: 'broken-iomap' }), { shape, seed: 2 });
    const bad = s.runs.filter((r) => r.codes.length);
    expect(bad.map((r) => [r.kind, r.codes])).toEqual([['pci_iomap', ['LEAK_RESOURCES']], ['ioremap', ['LEAK_RESOURCES']]]);
    const d = bad[0]!.machine.diag.list[0]!;
    expect(d.lines.join('\n')).toMatch(/failed probe left 2 resources behind:\n.*pci_enable_device\(\).*\n.*pci_request_regions\(\)/);
  });
});

test('only: sweep the DMA calls alone', () => {
  const s = probe_sweep(() => lab_driver({ full: 'ok' }), { shape: 'x86-iommu' }, { only: ['dma_map', 'dma_alloc'] });
  expect(s.points.map((p) => p.kind)).toEqual(['dma_alloc', 'dma_map']);
  expect(s.runs.every((r) => r.ret < 0 && r.codes.length === 0)).toBe(true);
});

test('the older fail_nth_sweep still works with a scenario that sets the point itself', () => {
  const s = fail_nth_sweep((n) => {
    const m = machine({ shape: 'x86' });
    m.faults.fail_nth = n;
    const { pdev } = plug_edu();
    if (bind(lab_driver({ full: 'ok' }), pdev) === 0) unbind(pdev);
    return m;
  });
  expect(s.points).toBe(KINDS.length);
  expect(s.runs.map((r) => r.kind)).toEqual(KINDS);
  expect(s.runs.every((r) => r.machine.diag.list.length === 0)).toBe(true);
});
