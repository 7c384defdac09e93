// dmalab's rules about the driver's life cycle and the memory it hands out: DMA after a failed
// dma_set_mask, a failed probe that leaves mappings behind, kfree of mapped memory, mapping the
// driver image, MMIO before pci_enable_device, resources and memory left at unbind, and
// virt_to_phys of a non-linear address. Caught with code, text and call sites; clean when fixed.
import { describe, expect, test } from 'vitest';
import { bind, unbind, all_shapes, dmesg, codes, plug_irqgen, type Machine } from '../../testing/index.ts';
import { setup, drv, caught, clean, with_code } from './lab.ts';
import * as L from '../drivers/lab.ts';

const ALL = all_shapes();

function fail_first(kind: 'dma_set_mask' | 'request_irq') {
  return (m: Machine) => {
    m.faults.only = new Set([kind]);
    m.faults.fail_nth = 1;
  };
}

describe('DMA_MASK_ERROR_IGNORED', () => {
  test.each(ALL)('%s: DMA after an (injected) dma_set_mask_and_coherent() failure is caught; checking it fails the probe cleanly', (shape) => {
    const x = setup(shape, { ignore_mask_error: true }, {}, fail_first('dma_set_mask'));
    expect(x.ret).toBe(0);
    expect(x.m.faults.injected?.kind).toBe('dma_set_mask');
    const buf = drv(x, () => L.lab_alloc(4096));
    drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_TO_DEVICE));
    caught('DMA_MASK_ERROR_IGNORED', /^dmalab: edu_lab 0000:00:03\.0: dma_map after dma_set_mask\*\(\) failed with -5\ndmalab: "You must not use DMA on this device unless the dma_set_mask family of functions has returned success"$/, ['Called at']);

    const y = setup(shape, {}, {}, fail_first('dma_set_mask'));
    expect(y.ret).toBe(-L.EIO);
    expect(dmesg()).toContain('edu_lab: probe of 0000:00:03.0 failed with error -5');
    clean();
  });

  test.each(['x86', 'x86-swiotlb', 'arm64'] as const)('%s: a 20-bit mask the platform cannot give, ignored, is caught', (shape) => {
    const x = setup(shape, { mask_bits: 20, ignore_mask_error: true });
    expect(x.ret).toBe(0);
    const buf = drv(x, () => L.lab_alloc(4096));
    drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_TO_DEVICE));
    caught('DMA_MASK_ERROR_IGNORED', /failed with -5/, ['Called at']);
  });

  test.each(['x86-iommu', 'arm64-smmu'] as const)('%s: the IOMMU can give a 20-bit mask, so there is nothing to ignore', (shape) => {
    const x = setup(shape, { mask_bits: 20, ignore_mask_error: true });
    const buf = drv(x, () => L.lab_alloc(4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_TO_DEVICE));
    expect(h).toBe(0xff000);
    drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_TO_DEVICE));
    clean();
  });
});

describe('DMA_LEAK_AT_PROBE_FAILURE', () => {
  test.each(ALL)('%s: a probe failing at request_irq without unwinding its DMA is caught (kernel: silent); the unwinding probe is clean', (shape) => {
    const x = setup(shape, { full: 'broken' }, {}, fail_first('request_irq'));
    expect(x.ret).toBe(-L.ENOMEM);
    const d = caught('DMA_LEAK_AT_PROBE_FAILURE', /^dmalab: edu_lab 0000:00:03\.0: probe failed but left 2 DMA mappings\/allocations behind \(dma-debug only looks at unbind, which never comes\):\n/, ['Mapped at']);
    const listed = d.lines.slice(1).map((l) => l.replace(/0x[0-9a-f]{16}/, 'ADDR')).sort();
    expect(listed).toEqual([
      'dmalab:   [device address=ADDR] [size=4096 bytes] [mapped with DMA_BIDIRECTIONAL] [mapped as coherent]',
      'dmalab:   [device address=ADDR] [size=4096 bytes] [mapped with DMA_FROM_DEVICE] [mapped as single]',
    ]);
    expect(d.sites.map((s) => s.site.fn)).toEqual(['lab_probe_dma', 'lab_probe_dma']);
    caught('LEAK_MEMORY', /failed probe left 1 allocation behind .*\n.*kmalloc 4096 bytes at [0-9a-f]{16} allocated at sim\/test\/drivers\/lab\.ts:\d+:\d+ \(lab_probe_dma\)/, ['kmalloc allocated at']);
    expect(with_code('LEAK_RESOURCES')).toEqual([]);

    const y = setup(shape, { full: 'ok' }, {}, fail_first('request_irq'));
    expect(y.ret).toBe(-L.ENOMEM);
    clean();
  });
});

describe('KFREE_MAPPED', () => {
  test.each(ALL)('%s: kfree() of a buffer still mapped is caught; unmap first is clean', (shape) => {
    const x = setup(shape);
    const buf = drv(x, () => L.lab_alloc(4096));
    drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_TO_DEVICE));
    drv(x, () => L.lab_free(buf));
    const d = caught('KFREE_MAPPED', /^dmalab: edu_lab 0000:00:03\.0: memory freed while still mapped for DMA \[device address=0x[0-9a-f]{16}\] \[size=4096 bytes\] \[mapped with DMA_TO_DEVICE\]\ndmalab: unmap first/, ['Freed at', 'Mapped at']);
    expect(d.sites.map((s) => s.site.fn)).toEqual(['lab_free', 'lab_map']);

    const y = setup(shape);
    const b2 = drv(y, () => L.lab_alloc(4096));
    const h = drv(y, (l) => L.lab_map(l, b2, 4096, L.DMA_TO_DEVICE));
    drv(y, (l) => L.lab_unmap(l, h, 4096, L.DMA_TO_DEVICE));
    drv(y, () => L.lab_free(b2));
    unbind(y.pdev);
    clean();
  });
});

describe('DMA_MAP_STATIC', () => {
  test.each(['x86', 'x86-iommu', 'x86-swiotlb'] as const)('%s: mapping static data of the driver image is caught (dma-debug cannot see it on x86-64); kmalloc is clean', (shape) => {
    const x = setup(shape);
    const h = drv(x, (l) => L.lab_map(l, L.lab_static_addr(), 256, L.DMA_TO_DEVICE));
    caught('DMA_MAP_STATIC', /^dmalab: edu_lab 0000:00:03\.0: maps static data \(\.data\/\.bss\) of the driver image \[addr=[0-9a-f]{16}\] \[len=256\]/, ['Mapped at']);
    if (h) drv(x, (l) => L.lab_unmap(l, h, 256, L.DMA_TO_DEVICE));

    const y = setup(shape);
    const b = drv(y, () => L.lab_alloc(256));
    const h2 = drv(y, (l) => L.lab_map(l, b, 256, L.DMA_TO_DEVICE));
    drv(y, (l) => L.lab_unmap(l, h2, 256, L.DMA_TO_DEVICE));
    drv(y, () => L.lab_free(b));
    unbind(y.pdev);
    clean();
  });

  test.each(['arm64', 'arm64-smmu'] as const)('%s: the image lies in the vmalloc area, so the kernel itself rejects the mapping', (shape) => {
    const x = setup(shape);
    expect(drv(x, (l) => L.lab_map(l, L.lab_static_addr(), 256, L.DMA_TO_DEVICE))).toBe(0);
    caught('DMA_MAP_VMALLOC_REJECTED', /rejecting DMA map of vmalloc memory\ndmalab: [0-9a-f]{16} is the driver image's static data/, ['Mapped at']);
  });
});

describe('DMA_POOL_BAD_FREE', () => {
  test.each(ALL)('%s: freeing a pool block twice, or by a pointer into it, is caught (6.1 is silent without DMAPOOL_DEBUG); alloc/free/destroy is clean', (shape) => {
    const x = setup(shape);
    const pool = drv(x, (l) => L.lab_pool_create(l, 64))!;
    const a = drv(x, () => L.lab_pool_alloc(pool));
    const b = drv(x, () => L.lab_pool_alloc(pool));
    expect(b.dma - a.dma).toBe(64);
    drv(x, () => L.lab_pool_free(pool, b.cpu + 8, b.dma + 8));
    const bad = with_code('DMA_POOL_BAD_FREE');
    expect(bad.map((d) => d.lines[0]!.replace(/[0-9a-f]{16}/g, 'X'))).toEqual(['dmalab: edu_lab 0000:00:03.0: dma_pool_free edu_lab_desc, X/0xX: not the address of a block dma_pool_alloc handed out']);
    expect(bad[0]!.sites.map((s) => [s.label, s.site.fn])).toEqual([['Freed at', 'lab_pool_free'], ['Pool created at', 'lab_pool_create']]);

    // The same lines now free a block twice: a different complaint, so a second record.
    drv(x, () => L.lab_pool_free(pool, a.cpu, a.dma));
    drv(x, () => L.lab_pool_free(pool, a.cpu, a.dma));
    expect(with_code('DMA_POOL_BAD_FREE').map((d) => d.lines[0]!.includes('already free'))).toEqual([false, true]);

    const x2 = setup(shape);
    const pool2 = drv(x2, (l) => L.lab_pool_create(l, 64))!;
    const a2 = drv(x2, () => L.lab_pool_alloc(pool2));
    drv(x2, () => L.lab_pool_free(pool2, a2.cpu, a2.dma));
    drv(x2, () => L.lab_pool_free(pool2, a2.cpu, a2.dma));
    caught('DMA_POOL_BAD_FREE', /^dmalab: edu_lab 0000:00:03\.0: dma_pool_free edu_lab_desc, [0-9a-f]{16}\/0x[0-9a-f]{16}: this block is already free\ndmalab: Linux 6\.1 without pool debugging says nothing/, ['Freed at', 'Pool created at']);

    const y = setup(shape);
    const p2 = drv(y, (l) => L.lab_pool_create(l, 64))!;
    const c = drv(y, () => L.lab_pool_alloc(p2));
    drv(y, () => L.lab_pool_free(p2, c.cpu, c.dma));
    drv(y, () => L.lab_pool_destroy(p2));
    unbind(y.pdev);
    clean();
  });
});

describe('MMIO_DEVICE_DISABLED', () => {
  test.each(ALL)('%s: reading a register without pci_enable_device() gives all ones and is caught; enabled is clean', (shape) => {
    const x = setup(shape, { enable: false });
    expect(drv(x, (l) => L.lab_read_id(l))).toBe(0xffffffff);
    caught('MMIO_DEVICE_DISABLED', /^dmalab: edu_lab 0000:00:03\.0: MMIO access while the device's memory decoding is off: reads return all ones, writes are dropped\ndmalab: call pci_enable_device\(\) in probe/, ['Accessed at']);

    const y = setup(shape);
    expect(drv(y, (l) => L.lab_read_id(l))).toBe(0x010000ed);
    unbind(y.pdev);
    clean();
  });
});

describe('LEAK_RESOURCES', () => {
  test.each(ALL)('%s: a remove() that keeps the regions, the iomap and the enable is caught at unbind, each with its site', (shape) => {
    const x = setup(shape, { remove_forgets: 'regions' });
    unbind(x.pdev);
    const d = caught('LEAK_RESOURCES', /^dmalab: edu_lab 0000:00:03\.0: driver left 3 resources behind at unbind:/);
    expect(d.lines.join('\n')).toMatch(/pci_enable_device\(\).*taken at sim\/test\/drivers\/lab\.ts:\d+:\d+ \(lab_probe\)/);
    expect(d.lines.join('\n')).toMatch(/pci_request_regions\(\).*taken at sim\/test\/drivers\/lab\.ts/);
    expect(d.lines.join('\n')).toMatch(/pci_iomap\(\).*taken at sim\/test\/drivers\/lab\.ts/);
    expect(d.sites.every((s) => s.site.file === 'sim/test/drivers/lab.ts' && s.site.fn === 'lab_probe')).toBe(true);

    const y = setup(shape);
    unbind(y.pdev);
    clean();
  });
});

describe('IRQ_LEAK_AT_UNBIND', () => {
  const X86 = ALL.filter((s) => s.startsWith('x86'));
  const ARM = ALL.filter((s) => s.startsWith('arm64'));

  test.each(X86)('%s: a remove() without free_irq(): its pci_disable_device() frees the INTx descriptor, the kernel\'s warning there, not listed again among the leaks', (shape) => {
    const x = setup(shape, { irq: true, remove_forgets: 'irq' });
    unbind(x.pdev);
    const d = caught('IRQ_LEAK_AT_UNBIND', /^remove_proc_entry: removing non-empty directory 'irq\/\d+', leaking at least 'edu_lab'\ndmalab: pci_disable_device\(\) tore down irq \d+ while 'edu_lab' still had a handler on it: free_irq\(\) it first$/,
      ['request_irq() at', 'pci_disable_device() at']);
    expect(d.origin).toBe('kernel');
    expect(d.sites.map((s) => s.site.fn)).toEqual(['lab_probe', 'lab_remove']);
    expect(codes()).toEqual(['IRQ_LEAK_AT_UNBIND']);
    // The WARN fires inside remove's pci_disable_device(): remove is the frame, not probe.
    const log = dmesg().join('\n');
    const trace = log.slice(log.search(/Call Trace:/), log.indexOf('---[ end trace'));
    expect(trace).toMatch(/^ lab_remove \(sim\/test\/drivers\/lab\.ts:\d+:\d+\)$/m);
    expect(trace).not.toContain('lab_probe');

    // The next bind maps the line again: its handler is installed and called.
    expect(bind(L.lab_driver({ irq: true }), x.pdev)).toBe(0);
    const l = L.lab_of(x.pdev);
    drv({ ...x, l }, (y) => L.lab_raise(y, 1));
    expect(l.irqs).toBe(1);
    unbind(x.pdev);
    expect(codes()).toEqual(['IRQ_LEAK_AT_UNBIND']);

    const y = setup(shape, { irq: true });
    unbind(y.pdev);
    clean();
  });

  test.each(ARM)('%s: a remove() without free_irq(): Linux says nothing (the INTx mapping stays), dmalab lists the handler with the leftovers', (shape) => {
    const x = setup(shape, { irq: true, remove_forgets: 'irq' });
    unbind(x.pdev);
    expect(with_code('IRQ_LEAK_AT_UNBIND')).toEqual([]);
    caught('LEAK_RESOURCES', /^dmalab: edu_lab 0000:00:03\.0: driver left 1 resource behind at unbind:\ndmalab: {3}request_irq\(\) irq \d+ \(edu_lab\) taken at sim\/test\/drivers\/lab\.ts:\d+:\d+ \(lab_probe\)$/, ['request_irq() taken at']);
    expect(dmesg().join('\n')).not.toContain('remove_proc_entry');

    const y = setup(shape, { irq: true });
    unbind(y.pdev);
    clean();
  });

  test('x86: disabling the device before free_irq(): the warning at the disable, and free_irq() then finds nothing and says nothing', () => {
    const x = setup('x86', { irq: true });
    drv(x, (l) => L.lab_disable(l));
    const d = caught('IRQ_LEAK_AT_UNBIND', /leaking at least 'edu_lab'/, ['request_irq() at', 'pci_disable_device() at']);
    expect(d.sites.map((s) => s.site.fn)).toEqual(['lab_probe', 'lab_disable']);
    // remove: free_irq() of a freed descriptor returns quietly; its own disable is one too many.
    unbind(x.pdev);
    expect(codes()).toEqual(['IRQ_LEAK_AT_UNBIND', 'PCI_DISABLE_UNBALANCED']);
  });

  test('x86: a line shared with a device still enabled stays mapped: no warning, dmalab lists the handler', () => {
    const x = setup('x86', { irq: true, remove_forgets: 'irq' });
    const { pdev: gp } = plug_irqgen();
    expect(bind(L.gen_driver(), gp)).toBe(0);
    expect(gp.irq).toBe(x.pdev.irq);
    unbind(x.pdev);
    expect(with_code('IRQ_LEAK_AT_UNBIND')).toEqual([]);
    caught('LEAK_RESOURCES', /request_irq\(\) irq \d+ \(edu_lab\) taken at/, ['request_irq() taken at']);
    unbind(gp);
    expect(codes()).toEqual(['LEAK_RESOURCES']);
  });
});

describe('LEAK_MEMORY', () => {
  test.each(ALL)('%s: a kmalloc of probe never freed is listed at unbind, as kmemleak would', (shape) => {
    const x = setup(shape, { scratch: true, remove_forgets: 'memory' });
    unbind(x.pdev);
    caught('LEAK_MEMORY', /^dmalab: edu_lab 0000:00:03\.0: driver left 1 allocation behind \(as kmemleak would report\):\ndmalab: {3}kmalloc 256 bytes at [0-9a-f]{16} allocated at sim\/test\/drivers\/lab\.ts:\d+:\d+ \(lab_probe\)$/, ['kmalloc allocated at']);

    const y = setup(shape, { scratch: true });
    unbind(y.pdev);
    clean();
  });
});

describe('VIRT_TO_PHYS_NONLINEAR', () => {
  test.each(ALL)('%s: virt_to_phys() of vmalloc memory is caught on every machine (arm64: its CONFIG_DEBUG_VIRTUAL WARN; x86, silent there: dmalab); of kmalloc memory it is clean', (shape) => {
    const x = setup(shape);
    const v = drv(x, () => L.lab_vmalloc(8192));
    drv(x, () => L.lab_phys(v));
    if (x.m.shape.arch === 'arm64') {
      // %pK hashes the pointer, %pS of an address no symbol names prints it as 0x...
      const d = caught('VIRT_TO_PHYS_NONLINEAR', /^virt_to_phys used for non-linear address: 00000000[0-9a-f]{8} \(0x[0-9a-f]{16}\)\ndmalab: virt_to_phys\(\) only works on the linear map; this is a vmalloc-area address/, ['Called at']);
      expect(d.origin).toBe('kernel');
      expect(dmesg().join('\n')).toContain('WARNING: CPU: 0 PID: 42 at arch/arm64/mm/physaddr.c:12 __virt_to_phys+0x54/0x68');
    } else {
      const d = caught('VIRT_TO_PHYS_NONLINEAR', /^dmalab: virt_to_phys\(\) of a non-linear address: [0-9a-f]{16}: x86 returns garbage here without a word \(a CONFIG_DEBUG_VIRTUAL kernel would BUG\)\ndmalab: virt_to_phys\(\) only works on the linear map/, ['Called at']);
      expect(d.origin).toBe('dmalab');
      expect(dmesg().join('\n')).not.toContain('WARNING:');
    }
    drv(x, () => L.lab_vfree(v));

    const y = setup(shape);
    const b = drv(y, () => L.lab_alloc(64));
    expect(drv(y, () => L.lab_phys(b))).toBe(y.m.mmu.lm_to_phys(b));
    drv(y, () => L.lab_free(b));
    unbind(y.pdev);
    clean();
  });
});
