// The trace's timeline events (sim/kernel/trace.ts: CPU accesses coalesced per call site,
// ownership changes, declared transfers) and the timeline built from them (grader/web/timeline.ts):
// lanes per mapping, ownership bands, ticks, and a diagnostic drawn on its buffer at its time.
import { describe, expect, test } from 'vitest';
import { machine, plug_edu, run, read, diagnostics, trace_events, M } from '#sim/testing';
import { dma_map_single, dma_unmap_single, dma_sync_single_for_cpu, dma_sync_single_for_device, pci_enable_device, pci_set_master,
  kmalloc, GFP_KERNEL, DMA_FROM_DEVICE, DMA_TO_DEVICE, dma_set_mask_and_coherent, DMA_BIT_MASK, dma_mapping_error } from '#sim';
import { dma_transfer_begin, dma_transfer_end } from '../../sim/hw/bus.ts';
import { set_capture } from '../../sim/kernel/site.ts';
import { build_timeline, owner_at } from '../web/timeline.ts';

function scenario(opts: { read_while_owned: boolean }) {
  const m = machine({ shape: 'x86', seed: 3 });
  const { pdev } = plug_edu();
  const dev = pdev.dev;
  const fn = pdev._fn;
  const out = run(pdev, () => {
    pci_enable_device(pdev);
    pci_set_master(pdev);
    dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
    const buf = kmalloc(256, GFP_KERNEL);
    const h = dma_map_single(dev, buf, 256, DMA_FROM_DEVICE);
    if (dma_mapping_error(dev, h)) throw new Error('map failed');
    const t = dma_transfer_begin(fn, h, 256, true, 'test write');
    fn.dma_write(h, new Uint8Array(256).fill(9), 0, 256);
    dma_transfer_end(t);
    set_capture(false); // one call site for the loop below: its reads are one event
    if (opts.read_while_owned) for (let i = 0; i < 16; i++) read(buf + i * 4, 4);
    dma_sync_single_for_cpu(dev, h, 256, DMA_FROM_DEVICE);
    for (let i = 0; i < 8; i++) read(buf + i * 4, 4);
    dma_sync_single_for_device(dev, h, 256, DMA_FROM_DEVICE);
    set_capture(true);
    dma_unmap_single(dev, h, 256, DMA_FROM_DEVICE);
    const tx = dma_map_single(dev, buf, 64, DMA_TO_DEVICE);
    if (dma_mapping_error(dev, tx)) throw new Error('map failed');
    dma_unmap_single(dev, tx, 64, DMA_TO_DEVICE);
    return { h };
  });
  return { m, h: out.h, dump: trace_events() };
}

describe('trace events for the timeline', () => {
  test('CPU accesses are one event per run from one call site; ownership changes and transfers are recorded; tail() prints only the kernel\'s events', () => {
    const { m, h, dump } = scenario({ read_while_owned: true });
    const K = (n: string) => dump.kinds.indexOf(n);
    const cpu = dump.events.filter((e) => e[1] === K('cpu_read'));
    // 16 reads while the device owned it, 8 after the sync: two events (the sync between them)
    expect(cpu.map((e) => [e[3] - h, e[4], e[5]])).toEqual([[0, 64, 16], [0, 32, 8]]);
    expect(cpu[0]![9]).toBeGreaterThan(cpu[0]![0]); // its end time: the last access
    const owner = dump.events.filter((e) => e[1] === K('owner')).map((e) => [e[4], e[5], e[6]]);
    expect(owner).toEqual([[0, 256, 256], [0, 0, 256]]); // CPU owns all of it, then the device again
    expect(dump.events.filter((e) => e[1] === K('xfer_begin') || e[1] === K('xfer_end')).map((e) => dump.kinds[e[1]])).toEqual(['xfer_begin', 'xfer_end']);
    expect(dump.devs[dump.events[0]![2]]).toBe('0000:00:03.0');
    expect(m.trace.tail(100).join('\n')).not.toMatch(/cpu_read|owner|xfer/);
    expect(m.trace.tail(100).some((l) => l.includes('dma_sync_single_for_cpu'))).toBe(true);
  });

  test('the timeline: a lane per mapping with its bands, ticks and marks; the CPU read the checker caught is the collision, at its time', () => {
    const { dump } = scenario({ read_while_owned: true });
    const diags = diagnostics();
    const d = diags.find((x) => x.code === 'CPU_ACCESS_DEVICE_OWNED')!;
    expect(d).toBeDefined();
    const tl = build_timeline(dump, diags.map((x) => ({ code: x.code, lines: x.lines, time_ns: x.time_ns, sites: x.sites.map((s) => ({ label: s.label, ...s.site })) })));
    const bufs = tl.lanes.filter((l) => l.kind === 'buffer');
    expect(bufs.map((l) => l.label.replace(/@0x[0-9a-f]+/, '@…'))).toEqual(['map FROM_DEVICE 256 B @…', 'map TO_DEVICE 64 B @…']);
    const rx = bufs[0]!;
    expect(rx.bands.map((b) => b.owner)).toEqual(['device', 'cpu', 'device']);
    expect(rx.marks.map((mk) => mk.kind)).toEqual(['map', 'sync_cpu', 'sync_dev', 'unmap']);
    expect(rx.flights).toHaveLength(1);
    expect(rx.ticks.map((t) => [t.kind, !!t.collision])).toEqual([['dev_write', false], ['cpu_read', true], ['cpu_read', false]]);
    expect(owner_at(rx, rx.ticks[1]!.t0)).toBe('device');
    expect(owner_at(rx, rx.ticks[2]!.t0)).toBe('cpu');
    const dm = tl.diags.find((x) => x.code === 'CPU_ACCESS_DEVICE_OWNED')!;
    expect(dm.t).toBe(d.time_ns);
    expect(dm.t).toBe(rx.ticks[1]!.t0);
    expect(dm.lane).toBe(rx.id);
    expect(tl.t0).toBeLessThanOrEqual(rx.t0);
  });

  test('a correct driver: no collision anywhere', () => {
    const { dump } = scenario({ read_while_owned: false });
    expect(diagnostics().map((d) => d.code)).toEqual([]);
    const tl = build_timeline(dump, []);
    expect(tl.lanes.flatMap((l) => l.ticks).filter((t) => t.collision)).toEqual([]);
    expect(tl.diags).toEqual([]);
  });

  test('a huge run: the dump is the last N events, and says how many came before', () => {
    machine({ shape: 'x86', seed: 1 });
    for (let i = 0; i < 5000; i++) M.trace.note(i, -1, `n${i}`);
    const d = trace_events(1000);
    expect(d.events).toHaveLength(1000);
    expect(d.dropped).toBe(4000);
    expect(d.events.at(-1)![7]).toBe('n4999');
  });
});
