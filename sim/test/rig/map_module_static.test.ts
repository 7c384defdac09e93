// Rig case map-module-static (C-M1): dma_map_single of a driver's static buffer. On the rig the
// driver was a loadable module, its statics in module space (0xffffffffa0...): C-M1, then an
// oops on the bogus struct page. The sim's drivers keep their statics in the kernel image, as
// a built-in driver does, so on x86-64 the kernel's checks see what map-rodata's case A saw.
import { describe, expect, test } from 'vitest';
import { codes } from '../../testing/index.ts';
import { measured, run_rig, kernel_codes } from './rig.ts';
import { edu_modstatic_driver } from '../drivers/rig/map_module_static.ts';

describe('rig map-module-static', () => {
  test('the kernel: C-M1 "maps memory from invalid area", no Mapped at, then the oops', () => {
    const k = measured('map-module-static/map-module-static.txt');
    expect(k.lines.filter((l) => l.startsWith('DMA-API: '))).toEqual([
      'DMA-API: edu_modstatic 0000:00:03.0: device driver maps memory from invalid area [addr=(____ptrval____)] [len=256]',
    ]);
  });

  test('x86 (built-in static): dma-debug is silent as for any kernel-image address; dmalab names the static buffer', () => {
    const r = run_rig(edu_modstatic_driver, 'x86');
    expect(r.ret).toBe(0);
    expect(kernel_codes()).toEqual([]);
    expect(codes()).toEqual(['DMA_MAP_STATIC']);
    expect(r.all.some((l) => l.includes('virt_addr_valid=1'))).toBe(true);
  });

  test('arm64: the kernel image sits at the start of the vmalloc range, so dma_map_single() refuses it outright', () => {
    const r = run_rig(edu_modstatic_driver, 'arm64');
    expect(r.lines.filter((l) => /rejecting|dma-mapping\.h/.test(l))).toEqual([
      'edu_modstatic 0000:00:03.0: rejecting DMA map of vmalloc memory',
      expect.stringMatching(/^WARNING: CPU: 0 PID: \d+ at include\/linux\/dma-mapping.h:332 dma_map_single_attrs.constprop.0\+0x59\/0x103 \[edu_modstatic\]$/),
    ]);
    expect(kernel_codes()).toEqual(['DMA_MAP_VMALLOC_REJECTED']);
    expect(r.all.some((l) => l.includes('CASE A: -> 0xffffffffffffffff error=-12'))).toBe(true);
  });
});
