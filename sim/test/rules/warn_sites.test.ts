// WARNING lines name the arch's own code: the x86 rig kernel's func+off/len on x86, an arm64
// build's (sim/dma/kernel-6.1-arm64-bug-sites.json) on arm64, the same file:line on both.
import { describe, expect, test } from 'vitest';
import { dmesg } from '../../testing/index.ts';
import { setup, drv } from './lab.ts';
import * as L from '../drivers/lab.ts';
import { arch_site } from '../../kernel/diag.ts';

const warning = () => dmesg().filter((l) => l.startsWith('WARNING: CPU: '));

describe('WARNING sites per architecture', () => {
  test.each([
    ['x86', 'kernel/dma/debug.c:984 check_unmap+0x1f4/0x69b'],
    ['arm64', 'kernel/dma/debug.c:984 check_unmap+0x424/0x754'],
  ] as const)('%s: an unmap of the wrong size warns at its own check_unmap offset', (shape, at) => {
    const x = setup(shape);
    const buf = drv(x, () => L.lab_alloc(4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_TO_DEVICE));
    drv(x, (l) => L.lab_unmap(l, h, 2048, L.DMA_TO_DEVICE));
    expect(warning()).toEqual([expect.stringMatching(new RegExp(`^WARNING: CPU: 0 PID: \\d+ at ${at.replace(/[.+/]/g, '\\$&')}$`))]);
  });

  test('arm64 offsets are whole 4-byte instructions; a site with no arm64 entry, or inlined in a module, is left as it is', () => {
    setup('arm64');
    for (const w of ['kernel/dma/debug.c:1125 check_sync+0x23f/0x4bd', 'drivers/pci/pci.c:2347 pci_disable_device+0x5d/0x7f', 'fs/proc/generic.c:740 remove_proc_entry+0xd5/0xe8']) {
      const a = arch_site(w);
      expect(a.split(' ')[0]).toBe(w.split(' ')[0]);
      expect(Number(/\+(0x[0-9a-f]+)\//.exec(a)![1]) % 4).toBe(0);
    }
    expect(arch_site('include/linux/dma-mapping.h:332 dma_map_single_attrs.constprop.0+0x59/0x103')).toBe('include/linux/dma-mapping.h:332 dma_map_single_attrs.constprop.0+0x59/0x103');
    expect(arch_site('kernel/sched/core.c:9998 __might_resched+0x1/0x2')).toBe('kernel/sched/core.c:9998 __might_resched+0x1/0x2');
    setup('x86');
    expect(arch_site('kernel/dma/debug.c:1125 check_sync+0x23f/0x4bd')).toBe('kernel/dma/debug.c:1125 check_sync+0x23f/0x4bd');
  });
});
