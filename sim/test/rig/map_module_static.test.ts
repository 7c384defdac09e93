// Rig case map-module-static (C-M1): dma_map_single of a loadable module's static buffer. On
// the rig (x86-64): C-M1, then an oops on the struct page virt_to_page() made up, then the panic.
// The sim places a module's statics in module space on every shape, as a course driver's are.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { codes, diagnostics, all_shapes } from '../../testing/index.ts';
import { measured, run_rig, kernel_codes, normalise } from './rig.ts';
import { edu_modstatic_driver } from '../drivers/rig/map_module_static.ts';

/** The lines an oops is compared on, besides rig_lines(): its header, RIP and the panic. */
const OOPS = /^(BUG: unable to handle|#PF: |Oops: |RIP: 0010:|Kernel panic - not syncing|Kernel Offset)/;
function oops_lines(lines: string[]): string[] {
  // The rig's extract keeps an oops's first RIP line, not the summary one after the trace.
  const kept = lines.filter((l) => OOPS.test(l)).filter((l, i, a) => !l.startsWith('RIP: ') || !a.slice(0, i).some((x) => x.startsWith('RIP: ')));
  return normalise(kept, { dma: 'mask' }).map((l) => l.replace(/address: 0000000000[0-9a-f]{6}/, 'address: PAGE'));
}

describe('rig map-module-static', () => {
  test.each([['x86', 'map-module-static/map-module-static.txt'], ['x86-iommu', 'map-module-static/map-module-static-iommu.txt']] as const)(
    '%s: C-M1 "maps memory from invalid area", then the oops in the DMA API and the panic, as measured', (shape, file) => {
      const k = measured(file);
      const text = (f: string) => k.lines.filter((l) => l.startsWith(f));
      const r = run_rig(edu_modstatic_driver, shape);
      // dma-debug's line (the pointer hashed), then the oops: page fault, RIP, panic.
      expect(normalise(r.lines.filter((l) => l.startsWith('DMA-API: ')), { dma: 'mask' }))
        .toEqual(normalise(text('DMA-API: '), { dma: 'mask' }));
      const rig_oops = oops_lines(fs_lines(file));
      expect(oops_lines(r.all)).toEqual(rig_oops);
      expect(kernel_codes()).toEqual(['DMA_MAP_INVALID_AREA', 'OOPS']);
      expect(codes()).toEqual(['DMA_MAP_INVALID_AREA', 'DMA_MAP_STATIC', 'OOPS']);
      // The oops's trace names the driver's line; nothing ran after the panic (no "CASE A: ->").
      const oops = diagnostics().find((d) => d.code === 'OOPS')!;
      expect(oops.lines.some((l) => /^ sim\/test\/drivers\/rig\/map_module_static\.ts:\d+:\d+ \(probe\)$/.test(l))).toBe(true);
      expect(r.all.some((l) => l.includes('CASE A: ->'))).toBe(false);
    });

  test.each(['arm64', 'arm64-smmu'] as const)('%s: C-M1, virt_to_page()\'s DEBUG_VIRTUAL warning, then the oops in the cache clean and the panic', (shape) => {
    const r = run_rig(edu_modstatic_driver, shape);
    expect(r.all.some((l) => l.includes('is_vmalloc_addr=0 virt_addr_valid=0'))).toBe(true);
    expect(codes()).toEqual(['DMA_MAP_INVALID_AREA', 'VIRT_TO_PHYS_NONLINEAR', 'DMA_MAP_STATIC', 'OOPS']);
    expect(kernel_codes()).toEqual(['DMA_MAP_INVALID_AREA', 'VIRT_TO_PHYS_NONLINEAR', 'OOPS']);
    const oops = diagnostics().find((d) => d.code === 'OOPS')!;
    expect(oops.lines[0]).toMatch(/^Unable to handle kernel paging request at virtual address fffffffff[0-9a-f]{7}$/);
    expect(oops.lines).toContain('pc : dcache_clean_poc');
    expect(oops.lines.at(-1)).toBe('Kernel panic - not syncing: Oops: Fatal exception');
  });

  test.each(all_shapes())('%s: a built-in driver\'s static buffer stays in the kernel image', (shape) => {
    run_rig(edu_modstatic_driver, shape);
    expect(codes()).not.toContain('DMA_MAP_VMALLOC_REJECTED');
  });
});

function fs_lines(file: string): string[] {
  return fs.readFileSync(path.resolve(import.meta.dirname, '../../../tools/kernel-rig-cases', file), 'utf8').split('\n');
}
