// The kernel's own complaints outside dma-debug's tables (a WARN, a BUG line, a dev_err), and
// dmalab's report of dma_map_resource() on RAM: each caught, and the same step done right clean.
import { describe, expect, test } from 'vitest';
import { unbind, codes, dmesg } from '../../testing/index.ts';
import { setup, drv, caught, clean } from './lab.ts';
import * as L from '../drivers/lab.ts';

const ALL = ['x86', 'x86-iommu', 'x86-swiotlb', 'arm64', 'arm64-smmu'] as const;

describe('DMA_SYNC_OUT_OF_RANGE', () => {
  // debug.c has the check (check_sync, C-S2), but 6.1 looks the sync up with a containing
  // match first, so a sync running past the end never reaches it: it is reported as a sync of
  // memory never mapped (measured, docs/kernel-6.1-measured.md). The sim does the same.
  test.each(ALL)('%s: a sync longer than the mapping is "has not allocated", as on 6.1; a sync of the mapped length is clean', (shape) => {
    const x = setup(shape);
    const buf = drv(x, () => L.lab_alloc(8192));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_FROM_DEVICE));
    drv(x, (l) => L.lab_sync_cpu(l, h, 8192, L.DMA_FROM_DEVICE));
    caught('DMA_SYNC_NOT_MAPPED', /^DMA-API: edu_lab 0000:00:03\.0: device driver tries to sync DMA memory it has not allocated \[device address=0x[0-9a-f]{16}\] \[size=8192 bytes\]$/, ['Synced at']);
    expect(codes()).not.toContain('DMA_SYNC_OUT_OF_RANGE');
    // The sync still did its work on the mapping it covers: the CPU owns the buffer now.
    drv(x, () => L.lab_get8(buf + 4000));
    expect(codes()).not.toContain('CPU_ACCESS_DEVICE_OWNED');
    // Bouncing, swiotlb copies no further than the slot and WARNs once, at the learner's sync.
    if (shape === 'x86-swiotlb') {
      const b = caught('SWIOTLB_BOUNCE_OVERFLOW', /Buffer overflow detected\. Allocation size: 4096\. Mapping size: 8192\.$/, ['Synced at']);
      expect(b.sites[0]!.site.fn).toBe('lab_sync_cpu');
    } else {
      expect(codes()).not.toContain('SWIOTLB_BOUNCE_OVERFLOW');
    }
    drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_FROM_DEVICE));

    const y = setup(shape);
    const b2 = drv(y, () => L.lab_alloc(8192));
    const h2 = drv(y, (l) => L.lab_map(l, b2, 4096, L.DMA_FROM_DEVICE));
    drv(y, (l) => L.lab_sync_cpu(l, h2, 4096, L.DMA_FROM_DEVICE));
    drv(y, (l) => L.lab_unmap(l, h2, 4096, L.DMA_FROM_DEVICE));
    drv(y, () => L.lab_free(b2));
    unbind(y.pdev);
    clean();
  });
});

describe('DMA_NO_MASK', () => {
  test('a device without a DMA mask: the map fails with a WARNING; with a mask it works', () => {
    const x = setup('x86');
    const buf = drv(x, () => L.lab_alloc(4096));
    const mask = x.pdev.dev.dma_mask;
    x.pdev.dev.dma_mask = null; // as a platform device nobody gave a mask
    expect(drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_TO_DEVICE))).toBe(0);
    caught('DMA_NO_MASK', /^dmalab: edu_lab 0000:00:03\.0: a DMA mapping on a device without a DMA mask \(dev->dma_mask is NULL\): it fails$/, ['Called at']);
    expect(dmesg().some((l) => /WARNING: CPU: 0 PID: \d+ at kernel\/dma\/mapping\.c:\d+ dma_map_page_attrs/.test(l))).toBe(true);
    x.pdev.dev.dma_mask = mask;
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_TO_DEVICE));
    expect(h).not.toBe(0);
    drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_TO_DEVICE));
    drv(x, () => L.lab_free(buf));
    unbind(x.pdev);
    expect(codes()).toEqual(['DMA_NO_MASK']);
  });
});

describe('DMA_FREE_IRQS_DISABLED', () => {
  test.each(['x86', 'arm64'] as const)('%s: dma_free_coherent() under spin_lock_irqsave() is caught; outside the lock it is clean', (shape) => {
    const x = setup(shape);
    const c = drv(x, (l) => L.lab_alloc_coherent(l, 4096));
    drv(x, (l) => L.lab_free_coherent_locked(l, 4096, c));
    caught('DMA_FREE_IRQS_DISABLED', /^dmalab: edu_lab 0000:00:03\.0: dma_free_coherent\(\) with interrupts disabled/, ['Freed at']);
    expect(dmesg().some((l) => /WARNING: CPU: 0 PID: \d+ at kernel\/dma\/mapping\.c:\d+ dma_free_attrs/.test(l))).toBe(true);

    const y = setup(shape);
    const d = drv(y, (l) => L.lab_alloc_coherent(l, 4096));
    drv(y, (l) => L.lab_free_coherent(l, 4096, d));
    unbind(y.pdev);
    clean();
  });
});

describe('DMAM_FREE_NOT_MANAGED', () => {
  test('dmam_free_coherent() of an unmanaged buffer is caught (and the buffer still freed)', () => {
    const x = setup('x86');
    const c = drv(x, (l) => L.lab_alloc_coherent(l, 4096));
    drv(x, (l) => L.lab_dmam_free(l, 4096, c));
    caught('DMAM_FREE_NOT_MANAGED', /^dmalab: edu_lab 0000:00:03\.0: dmam_free_coherent\(\) of [0-9a-f]+, which dmam_alloc_coherent\(\) did not allocate/, ['Freed at']);
    expect(dmesg().some((l) => /WARNING: CPU: 0 PID: \d+ at kernel\/dma\/mapping\.c:\d+ dmam_free_coherent/.test(l))).toBe(true);
    unbind(x.pdev);
    // Freed anyway: nothing is left behind at unbind.
    expect(codes()).toEqual(['DMAM_FREE_NOT_MANAGED']);
  });
});

describe('IOMMU_UNMAP_NOT_MAPPED', () => {
  test.each(['x86-iommu', 'arm64-smmu'] as const)('%s: unmapping an IOVA twice: the IOMMU layer WARNs, then dma-debug reports it', (shape) => {
    const x = setup(shape);
    const buf = drv(x, () => L.lab_alloc(4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_TO_DEVICE));
    drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_TO_DEVICE));
    expect(codes()).toEqual([]);
    drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_TO_DEVICE));
    const d = caught('IOMMU_UNMAP_NOT_MAPPED', /^dmalab: edu_lab 0000:00:03\.0: the IOMMU maps nothing at IOVA 0x[0-9a-f]+: unmapped twice, or never mapped$/, ['Unmapped at']);
    expect(dmesg().some((l) => /WARNING: CPU: 0 PID: \d+ at drivers\/iommu\/dma-iommu\.c:\d+ iommu_dma_unmap_page/.test(l))).toBe(true);
    expect(d.origin).toBe('kernel');
    expect(codes()).toEqual(['IOMMU_UNMAP_NOT_MAPPED', 'DMA_UNMAP_NOT_MAPPED']);
  });
});

describe('SLEEP_IN_ATOMIC', () => {
  test.each(['x86', 'arm64'] as const)('%s: kmalloc(GFP_KERNEL) under a spinlock is caught; outside it is clean', (shape) => {
    const x = setup(shape);
    const p = drv(x, () => L.lab_alloc_locked(64));
    caught('SLEEP_IN_ATOMIC', /^BUG: sleeping function called from invalid context at include\/linux\/sched\/mm\.h:274\nin_atomic\(\): 1, irqs_disabled\(\): 0, non_block: 0, pid: \d+, name: test\npreempt_count: 1, expected: 0/, ['Called at']);
    drv(x, () => L.lab_free(p));

    const y = setup(shape);
    const q = drv(y, () => L.lab_alloc(64));
    drv(y, () => L.lab_free(q));
    unbind(y.pdev);
    clean();
  });
});

describe('PCI_REGION_BUSY', () => {
  test('requesting a BAR already claimed fails with -EBUSY and the kernel\'s message', () => {
    const x = setup('x86');
    expect(drv(x, (l) => L.lab_request_regions_again(l))).toBe(-16);
    caught('PCI_REGION_BUSY', /^edu_lab 0000:00:03\.0: BAR 0: can't reserve \[mem 0xfea00000-0xfeafffff\]$/, ['Requested at']);
    unbind(x.pdev);
    expect(codes()).toEqual(['PCI_REGION_BUSY']);
  });
});

describe('PCI_DISABLE_UNBALANCED', () => {
  test('one pci_disable_device() too many: the kernel\'s dev_WARN_ONCE at the remove that did it; balanced is clean', () => {
    const x = setup('x86');
    drv(x, (l) => L.lab_disable(l));
    expect(codes()).toEqual([]);
    unbind(x.pdev); // remove disables again
    caught('PCI_DISABLE_UNBALANCED', /^edu_lab 0000:00:03\.0: disabling already-disabled device\ndmalab: pci_disable_device\(\) without a matching pci_enable_device\(\)/, ['Disabled at']);
    expect(dmesg().some((l) => l.includes('WARNING: CPU: 0 PID: 31 at drivers/pci/pci.c:2347 pci_disable_device+0x5d/0x7f'))).toBe(true);

    const y = setup('x86');
    unbind(y.pdev);
    clean();
  });
});

describe('DEVICE_GUEST_ERROR', () => {
  test('a 16-bit access to a 32-bit edu register is ignored, as QEMU logs it; the 32-bit access works', () => {
    const x = setup('x86');
    drv(x, (l) => L.lab_writew_liveness(l, 0x1234));
    const d = caught('DEVICE_GUEST_ERROR', /^EDU: 2-byte write to 0x04 ignored: offsets below 0x80 take 4-byte accesses only/);
    expect(d.origin).toBe('kernel');
    expect(drv(x, (l) => L.lab_read_id(l))).toBe(0x010000ed);
    unbind(x.pdev);
    expect(codes()).toEqual(['DEVICE_GUEST_ERROR']);
  });
});

describe('DMA_MAP_RESOURCE_RAM', () => {
  test.each(['x86', 'x86-iommu', 'arm64'] as const)('%s: dma_map_resource() of a kmalloc buffer\'s RAM is caught; of another device\'s BAR it is clean', (shape) => {
    const x = setup(shape);
    const buf = drv(x, () => L.lab_alloc(4096));
    const phys = drv(x, () => L.lab_phys(buf));
    const h = drv(x, (l) => L.lab_map_resource(l, phys, 4096, L.DMA_TO_DEVICE));
    caught('DMA_MAP_RESOURCE_RAM', /^dmalab: edu_lab 0000:00:03\.0: dma_map_resource called for RAM address 0x[0-9a-f]{16} \[len=4096\]\ndmalab: dma_map_resource\(\) is for another device's registers or FIFO/, ['Mapped at']);
    drv(x, (l) => L.lab_unmap_resource(l, h, 4096, L.DMA_TO_DEVICE));
    drv(x, () => L.lab_free(buf));

    // Another device's registers (here edu's own BAR, below 4 GiB: a 32-bit mask reaches it).
    const y = setup(shape, { mask_bits: 32 });
    const bar = y.pdev.resource[0]!.start;
    const r = drv(y, (l) => L.lab_map_resource(l, bar, 4096, L.DMA_TO_DEVICE));
    expect(r).not.toBe(0);
    drv(y, (l) => L.lab_unmap_resource(l, r, 4096, L.DMA_TO_DEVICE));
    unbind(y.pdev);
    clean();
    expect(dmesg().some((l) => l.includes('dma_map_resource called for RAM'))).toBe(false);
  });
});
