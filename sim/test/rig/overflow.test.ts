// Rig cases direct-overflow (DIRECT_OVERFLOW), swiotlb-full (SWIOTLB_FULL), and the
// swiotlb=force run of the ground truth's edu_leak (SWIOTLB_OVERFLOW): mappings the device
// cannot reach, and a bounce pool that runs out.
import { describe, expect, test } from 'vitest';
import { machine, plug_edu, bind, unbind, dmesg, diagnostics, type Machine } from '../../testing/index.ts';
import { SHAPE } from '../../kernel/shapes.ts';
import { expect_kernel_lines, kernel_codes, normalise, rig_lines } from './rig.ts';
import { edu_overflow_driver } from '../drivers/rig/direct_overflow.ts';
import { edu_tlbfull_driver } from '../drivers/rig/swiotlb_full.ts';
import { edu_leak_driver } from '../drivers/edu_leak.ts';
import { Ratelimit } from '../../lib/ratelimit.ts';

describe('rig direct-overflow: dma-direct, a page above the 28-bit mask, no swiotlb', () => {
  test('x86: the dev_WARN_ONCE, DMA_MAPPING_ERROR and -ENOMEM; the second map fails silently', () => {
    // How many 2 MiB blocks it takes to get above 256 MiB depends on the allocator.
    const r = expect_kernel_lines('direct-overflow/direct-overflow.txt', edu_overflow_driver, 'x86', {}, { dma: 'mask' },
      { map: (l) => l.replace(/CASE: \d+ blocks allocated/, 'CASE: N blocks allocated') });
    expect(kernel_codes()).toEqual(['DMA_ADDR_OVERFLOW']);
    expect(r.m.diag.dma_error_count).toBe(0);
    const high = /high page phys=0x([0-9a-f]{16})/.exec(r.all.find((l) => l.includes('high page phys'))!)![1]!;
    expect(r.all).toContain(`edu_overflow 0000:00:03.0: DMA addr 0x${high}+4096 overflow (mask fffffff, bus limit 0).`);
  });

  test('x86: once per boot, not once per device', () => {
    machine({ shape: 'x86', seed: 1 });
    const a = plug_edu(3).pdev, b = plug_edu(4).pdev;
    expect(bind(edu_overflow_driver, a)).toBe(0);
    unbind(a);
    expect(bind(edu_overflow_driver, b)).toBe(0);
    unbind(b);
    expect(dmesg().filter((l) => l.includes('overflow (mask'))).toHaveLength(1);
    expect(dmesg().filter((l) => l.includes('CASE A: -> 0xffffffffffffffff, dma_mapping_error=-12'))).toHaveLength(2);
  });
});

describe('rig swiotlb-full: a 128-slot bounce pool (256 MiB, swiotlb=128,force)', () => {
  test('x86-swiotlb: 64 maps of 4 KiB fill it; the 65th and a 512 KiB map get the plain ratelimited dev_warn', () => {
    const r = expect_kernel_lines('swiotlb-full/swiotlb-full-m256-swiotlb_128_force.txt', edu_tlbfull_driver, 'x86-swiotlb',
      { ram_size: 256 << 20, swiotlb_slots: 128 });
    expect(kernel_codes()).toEqual(['SWIOTLB_FULL']);
    expect(r.m.diag.dma_error_count).toBe(0);
    // No WARN: nothing but the message line.
    expect(r.lines.some((l) => l.startsWith('WARNING: '))).toBe(false);
    expect(diagnostics().filter((d) => d.code === 'SWIOTLB_FULL').map((d) => d.sites[0]!.site.fn)).toEqual(['probe', 'probe']);
  });

  test('the rate limit: 10 messages per 5 s, then a count of the ones held back', () => {
    const m = machine({ shape: 'x86', seed: 1 });
    const rs = new Ratelimit('swiotlb_tbl_map_single');
    const passed = Array.from({ length: 15 }, () => rs.ok()).filter(Boolean).length;
    expect(passed).toBe(10);
    m.clock.advance_to(m.clock.now + 5.1e9);
    expect(rs.ok()).toBe(true);
    expect(dmesg()).toContain('swiotlb_tbl_map_single: 5 callbacks suppressed');
  });
});

describe('ground truth, swiotlb=force with 512 MiB: the bounce pool lies above the 28-bit mask', () => {
  test('x86-swiotlb with the pool at 0x1b600000: swiotlb\'s overflow WARN_ONCE, then C-U1 for the unchecked handle', () => {
    const KERNEL = [
      'edu_leak 0000:00:03.0: swiotlb addr 0x000000001b600000+4096 overflow (mask fffffff, bus limit 0).',
      'WARNING: CPU: 0 PID: 30 at kernel/dma/swiotlb.c:949 swiotlb_map+0x115/0x127',
      'DMA-API: edu_leak 0000:00:03.0: device driver tries to free an invalid DMA memory address',
      'WARNING: CPU: 0 PID: 30 at kernel/dma/debug.c:970 check_unmap+0xc8/0x69b',
    ];
    const base = SHAPE['x86-swiotlb'];
    const m: Machine = machine({ shape: { ...base, swiotlb: { ...base.swiotlb!, base: 0x1b600000 } }, seed: 1 });
    const { pdev } = plug_edu();
    const from = dmesg().length;
    // The second, checked, map fails too: probe returns -EIO.
    expect(bind(edu_leak_driver, pdev)).toBe(-5);
    const lines = rig_lines(dmesg().slice(from)).filter((l) => /overflow|DMA-API|WARNING/.test(l));
    expect(normalise(lines, { dma: 'keep' })).toEqual(normalise(KERNEL, { dma: 'keep' }));
    expect(m.diag.dma_error_count).toBe(1);
    expect(kernel_codes()).toEqual(['SWIOTLB_OVERFLOW', 'DMA_UNMAP_INVALID']);
  });
});
