// The one DMA address space (hw/bus.ts, DESIGN.md §15): any bus master, not only a PCI function,
// reads and writes bus addresses through its IOMMU or the bridge offset, to RAM or to a decoded
// MMIO region (a platform peripheral's FIFO); the checks hang on it as hooks sim/dma registers, and they
// keep their own tables (dma-debug is a leaf: turning it off leaves dmalab's rules on).
import { describe, expect, test } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { machine, run, pattern, compare, codes, diagnostics, all_shapes, M, type Machine } from '../../testing/index.ts';
import { new_device, type device } from '../../base/device.ts';
import { dma_rw, dma_read, dma_write, dma_transfer_begin, dma_transfer_end, type BusMaster } from '../../hw/bus.ts';
import { platform_hw_add } from '../../hw/platform.ts';
import { dma_map_single, dma_unmap_single, dma_map_resource, dma_unmap_resource, dma_mapping_error } from '../../dma/mapping.ts';
import { dma_set_mask_and_coherent } from '../../dma/mask.ts';
import { DMA_BIT_MASK, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../../dma/types.ts';
import { kmalloc, kfree } from '../../mm/slab_api.ts';
import { GFP_KERNEL } from '../../include/linux/gfp.ts';
import { copy_to_mem, copy_from_mem } from '../../mm/string.ts';

/** A platform DMA controller as a later device model has it: its own struct device, always
 *  allowed to master the bus. */
function platform_master(m: Machine, coherent = m.shape.coherent): BusMaster & { dev: device } {
  const dev = new_device('fe000000.dma', { name: 'platform' }, coherent);
  dev.dma_mask = 0xffffffffn; dev.coherent_dma_mask = 0xffffffffn;
  dev._dma_limit = 0xffffffff; dev._coherent_limit = 0xffffffff;
  dev._iommu = m.iommu !== null;
  return { dev, master_enabled: () => true, master_disabled() {}, dma_site: 0, bdf: 'fe000000.dma', devfn: 0x20 };
}

/** A peripheral on the platform bus with a TX FIFO: a 4-byte data register at offset 0 that
 *  keeps what is written. Returns the FIFO's physical address and what it received. */
function fifo(): { phys: number; got: number[] } {
  const got: number[] = [];
  const regs = { size: 0x1000, read: () => 0x5a5a5a5a, write: (off: number, size: number, v: number) => { if (off === 0 || off === 4) got.push(size, v); } };
  const node = platform_hw_add({ name: 'serial', compatible: ['test,fifo'], regions: [regs], irqs: 0, attach() {} });
  return { phys: node.base[0]!, got };
}

describe.each(all_shapes())('%s', (shape) => {
  test('a platform master reads mapped RAM and writes it into a peripheral FIFO (MMIO) mapped with dma_map_resource', () => {
    const m = machine({ shape, seed: 1 });
    const ctl = platform_master(m);
    const { phys: FIFO_PHYS, got } = fifo();
    run(null, () => {
      expect(dma_set_mask_and_coherent(ctl.dev, DMA_BIT_MASK(32))).toBe(0);
      const buf = kmalloc(8, GFP_KERNEL);
      copy_to_mem(buf, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
      const src = dma_map_single(ctl.dev, buf, 8, DMA_TO_DEVICE);
      const dst = dma_map_resource(ctl.dev, FIFO_PHYS, 4, DMA_BIDIRECTIONAL, 0);
      expect(dma_mapping_error(ctl.dev, src)).toBe(0);
      expect(dma_mapping_error(ctl.dev, dst)).toBe(0);
      if (m.iommu) expect(dst).not.toBe(FIFO_PHYS);
      const t = dma_transfer_begin(ctl, src, 8, false, 'memcpy to the FIFO');
      const word = new Uint8Array(8);
      expect(dma_read(ctl, src, word, 0, 8)).toBe(true);
      expect(dma_write(ctl, dst, word, 0, 4)).toBe(true);
      expect(dma_write(ctl, dst, word, 4, 4)).toBe(true);
      dma_transfer_end(t);
      // A read of the FIFO comes from its register, not from RAM.
      const back = new Uint8Array(4);
      expect(dma_rw(ctl, dst, back, 0, 4, false)).toBe(true);
      expect([...back]).toEqual([0x5a, 0x5a, 0x5a, 0x5a]);
      dma_unmap_resource(ctl.dev, dst, 4, DMA_BIDIRECTIONAL, 0);
      dma_unmap_single(ctl.dev, src, 8, DMA_TO_DEVICE);
      kfree(buf);
    });
    expect(got).toEqual([4, 0x04030201, 4, 0x08070605]);
    expect(codes(), JSON.stringify(diagnostics())).toEqual([]);
    expect(m.trace.tail(50).some((l) => /device_dma_write: fe000000\.dma bus_addr=/.test(l))).toBe(true);
  });

  test('a platform master\'s access to what was never mapped for it is reported (and faults behind an IOMMU)', () => {
    const m = machine({ shape, seed: 1 });
    const ctl = platform_master(m);
    run(null, () => {
      dma_set_mask_and_coherent(ctl.dev, DMA_BIT_MASK(32));
      const buf = kmalloc(64, GFP_KERNEL);
      const phys = m.mmu.lm_to_phys(buf);
      const b = new Uint8Array(64);
      dma_read(ctl, phys + m.shape.bus_offset, b, 0, 64);
      kfree(buf);
    });
    expect(codes()).toContain('DEVICE_ACCESS_UNMAPPED');
    expect(diagnostics().find((d) => d.code === 'DEVICE_ACCESS_UNMAPPED')!.lines[0]).toMatch(/^dmalab: platform fe000000\.dma: device read memory that is not mapped for it/);
    if (m.iommu) expect(codes()).toContain('IOMMU_FAULT');
  });

  test('with dma-debug off (dma_debug=off), dmalab\'s own rules still see every mapping', () => {
    const m = machine({ shape, seed: 1 });
    m.dbg.disabled = true;
    const ctl = platform_master(m);
    run(null, () => {
      dma_set_mask_and_coherent(ctl.dev, DMA_BIT_MASK(32));
      const buf = kmalloc(4096, GFP_KERNEL);
      const h = dma_map_single(ctl.dev, buf, 4096, DMA_FROM_DEVICE);
      expect(dma_write(ctl, h, pattern(4096, 3), 0, 4096)).toBe(true);
      // The device still owns it: the CPU's read is caught without dma-debug.
      copy_from_mem(buf, 16);
      dma_unmap_single(ctl.dev, h, 4096, DMA_FROM_DEVICE);
      expect(compare(copy_from_mem(buf, 4096), pattern(4096, 3))).toBeNull();
      // Unmapped: the device may no longer write there.
      dma_write(ctl, h, pattern(16, 4), 0, 16);
      kfree(buf);
    });
    expect(codes()).toEqual(expect.arrayContaining(['CPU_ACCESS_DEVICE_OWNED', 'DEVICE_ACCESS_FREED']));
    void M;
  });
});

test('hw/ never imports dma/: the checks reach the accessor only as hooks', () => {
  const dir = new URL('../../hw/', import.meta.url);
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
    const src = readFileSync(new URL(f, dir), 'utf8');
    expect(src, f).not.toMatch(/from '\.\.\/dma\//);
  }
});

test('dma-debug is a leaf: debug.ts imports nothing of dmalab\'s rules, mapping.ts reads none of its tables', () => {
  const dma = new URL('../../dma/', import.meta.url);
  expect(readFileSync(new URL('debug.ts', dma), 'utf8')).not.toMatch(/ownership|M\.own\b/);
  for (const f of ['mapping.ts', 'alloc.ts', 'ownership.ts']) expect(readFileSync(new URL(f, dma), 'utf8'), f).not.toMatch(/M\.dbg\.e_|dbg\.e_/);
});
