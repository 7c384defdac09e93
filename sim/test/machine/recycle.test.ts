// A retired machine's buffers go to the next machine (sim/lib/recycle.ts): the next one must be
// exactly what a fresh one would be (the same addresses, the same junk in RAM, the same
// verdicts), and the retired one must not come back.
import { describe, expect, test } from 'vitest';
import { machine, all_shapes, read, fill, pattern, plug_edu, bind, dmesg, codes, type Machine } from '../../testing/index.ts';
import { kmalloc, kfree } from '../../mm/slab_api.ts';
import { dma_alloc_coherent } from '../../dma/alloc.ts';
import { dma_map_single } from '../../dma/mapping.ts';
import { DMA_TO_DEVICE, DMA_FROM_DEVICE } from '../../dma/types.ts';
import { GFP_KERNEL, GFP_DMA } from '../../include/linux/gfp.ts';
import { take_buffer, give_buffers } from '../../lib/recycle.ts';
import type { pci_driver } from '../../pci/pci.ts';

/** What a machine's first few allocations, mappings and untouched RAM look like. */
function fingerprint(m: Machine): unknown[] {
  const { pdev } = plug_edu();
  const out: unknown[] = [m.shape.name];
  const bufs = [kmalloc(3000, GFP_KERNEL), kmalloc(64, GFP_KERNEL), kmalloc(20000, GFP_DMA)];
  out.push(...bufs, [...read(bufs[0]!, 32)]);
  const h = { value: 0 };
  out.push(dma_alloc_coherent(pdev.dev, 8192, h, GFP_KERNEL), h.value);
  // A 28-bit mask bounces through swiotlb where RAM lies above it; elsewhere a direct mapping.
  out.push(dma_map_single(pdev.dev, bufs[2]!, 20000, DMA_TO_DEVICE), dma_map_single(pdev.dev, bufs[0]!, 3000, DMA_FROM_DEVICE));
  out.push(m.pages.free_pages, m.swiotlb?.used ?? -1, codes());
  return out;
}

/** Dirty everything a recycled buffer could carry over: pages, slab, swiotlb slots, the cache. */
function dirty(m: Machine): void {
  const { pdev } = plug_edu();
  for (let i = 0; i < 200; i++) {
    const p = kmalloc(1500 + i, GFP_KERNEL);
    fill(p, pattern(1500 + i, i));
    dma_map_single(pdev.dev, p, 1500 + i, i % 2 ? DMA_TO_DEVICE : DMA_FROM_DEVICE);
    if (i % 3 === 0) kfree(kmalloc(9000, GFP_DMA));
  }
  const h = { value: 0 };
  dma_alloc_coherent(pdev.dev, 65536, h, GFP_KERNEL);
  void m;
}

describe('retired machines', () => {
  for (const shape of all_shapes()) {
    test(`a machine built from a retired one's buffers is the machine a fresh one would be (${shape})`, () => {
      const fresh = fingerprint(machine({ shape, seed: 0x1234 }));
      // A machine that used a lot of memory and left it all mapped, retired.
      const old = machine({ shape, seed: 0x999 });
      dirty(old);
      old.retire();
      const again = fingerprint(machine({ shape, seed: 0x1234 }));
      expect(again).toEqual(fresh);
    });
  }

  test('a retired machine cannot be made current again; its log stays readable', () => {
    const m = machine({ shape: 'x86', seed: 7 });
    const drv: pci_driver = { name: 'nop', id_table: [{ vendor: 0x1234, device: 0x11e8 }], probe: () => 0, remove: () => {} };
    bind(drv, plug_edu().pdev);
    m.retire();
    expect(() => m.activate()).toThrow(/was retired/);
    expect(dmesg().length).toBeGreaterThan(0);
  });

  test('a given-back buffer comes back zeroed, or as it was when the caller overwrites it all', () => {
    const mine: ArrayBuffer[] = [];
    const a = take_buffer(mine, 4096);
    new Uint8Array(a).fill(0xab);
    give_buffers(mine);
    expect(mine).toEqual([]);
    const next: ArrayBuffer[] = [];
    const b = take_buffer(next, 4096);
    expect(b).toBe(a);
    expect(new Uint8Array(b).every((x) => x === 0)).toBe(true);
    new Uint8Array(b).fill(0xcd);
    give_buffers(next);
    const c = take_buffer([], 4096, false);
    expect(c).toBe(a);
    expect(new Uint8Array(c)[0]).toBe(0xcd);
  });
});
