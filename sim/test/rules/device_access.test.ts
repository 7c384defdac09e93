// dmalab's own rules about who may touch a DMA buffer when (DESIGN.md §8, reference/dma-mapping.md
// §4.10): the CPU touching a device-owned buffer, the device touching memory not mapped for it,
// already unmapped, mapped the other way, or owned by the CPU; addresses the device cannot drive;
// DMA with bus mastering off; unmapping while a transfer runs. Each rule: the buggy scenario is
// caught with its code, its message and the driver's call sites; the corrected one is clean, on
// every shape where the bug exists.
import { describe, expect, test } from 'vitest';
import { pattern, compare, unbind, all_shapes, run_for_ms, type ShapeName } from '../../testing/index.ts';
import { setup, drv, ram_bytes, count_equal, caught, clean, with_code } from './lab.ts';
import * as L from '../drivers/lab.ts';

const ALL = all_shapes();

describe('CPU_ACCESS_DEVICE_OWNED', () => {
  test.each(ALL)('%s: reading a FROM_DEVICE buffer before dma_sync_single_for_cpu() is caught; after it, clean', (shape) => {
    const x = setup(shape);
    x.edu.dma_buf.set(pattern(4096, 1));
    const buf = drv(x, () => L.lab_alloc(4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_FROM_DEVICE));
    expect(drv(x, (l) => L.lab_xfer(l, h, 4096, true))).toBe(0);
    drv(x, () => L.lab_get8(buf + 100));
    const d = caught('CPU_ACCESS_DEVICE_OWNED', /^dmalab: edu_lab 0000:00:03\.0: CPU read 1 byte at [0-9a-f]{16} of a buffer the device owns \[device address=0x[0-9a-f]{16}\] \[size=4096 bytes\] \[mapped with DMA_FROM_DEVICE\]\ndmalab: call dma_sync_single_for_cpu\(\) \(or unmap\) before the CPU reads what the device wrote$/, ['CPU read at', 'Mapped at']);
    expect(d.origin).toBe('dmalab');
    expect(d.sites[0]!.site.fn).toBe('lab_get8');
    expect(d.sites[1]!.site.fn).toBe('lab_map');
    // The same read from the same line, of 1 byte and then of 64: one record, counted (numbers and
    // the plural of 'byte' do not make it another complaint).
    drv(x, () => L.lab_read(buf, 1));
    drv(x, () => L.lab_read(buf, 64));
    const r = with_code('CPU_ACCESS_DEVICE_OWNED').filter((z) => z.sites[0]!.site.fn === 'lab_read');
    expect(r).toHaveLength(1);
    expect(r[0]!.count).toBe(2);

    const y = setup(shape);
    y.edu.dma_buf.set(pattern(4096, 1));
    const b2 = drv(y, () => L.lab_alloc(4096));
    const h2 = drv(y, (l) => L.lab_map(l, b2, 4096, L.DMA_FROM_DEVICE));
    expect(drv(y, (l) => L.lab_xfer(l, h2, 4096, true))).toBe(0);
    drv(y, (l) => L.lab_sync_cpu(l, h2, 4096, L.DMA_FROM_DEVICE));
    expect(drv(y, () => L.lab_get8(b2 + 100))).toBe(pattern(4096, 1)[100]);
    // Handed back to the device before it writes again (dmalab asks for this even for
    // FROM_DEVICE, see DEVICE_ACCESS_CPU_OWNED).
    drv(y, (l) => L.lab_sync_dev(l, h2, 4096, L.DMA_FROM_DEVICE));
    expect(drv(y, (l) => L.lab_xfer(l, h2, 4096, true))).toBe(0);
    drv(y, (l) => L.lab_unmap(l, h2, 4096, L.DMA_FROM_DEVICE));
    drv(y, () => L.lab_free(b2));
    unbind(y.pdev);
    clean();
  });

  test.each(ALL)('%s: writing a mapped TO_DEVICE buffer is caught; reading it is allowed', (shape) => {
    const x = setup(shape);
    const buf = drv(x, () => L.lab_alloc(4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_TO_DEVICE));
    drv(x, () => L.lab_get8(buf));
    expect(with_code('CPU_ACCESS_DEVICE_OWNED')).toEqual([]);
    drv(x, () => L.lab_fill(buf, 1, 16));
    caught('CPU_ACCESS_DEVICE_OWNED', /CPU wrote 16 bytes at .* \[mapped with DMA_TO_DEVICE\]\ndmalab: call dma_sync_single_for_cpu\(\) \(or unmap\) first, write, then dma_sync_single_for_device\(\)/, ['CPU wrote at', 'Mapped at']);
    drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_TO_DEVICE));
  });

  test.each(ALL)('%s: the partial ownership of a ranged sync: only the synced part is the CPU\'s', (shape) => {
    const x = setup(shape);
    const buf = drv(x, () => L.lab_alloc(4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_BIDIRECTIONAL));
    drv(x, (l) => L.lab_sync_cpu(l, h, 1024, L.DMA_BIDIRECTIONAL));
    drv(x, () => L.lab_fill(buf, 7, 1024));
    expect(with_code('CPU_ACCESS_DEVICE_OWNED')).toEqual([]);
    drv(x, () => L.lab_fill(buf + 1024, 7, 8));
    caught('CPU_ACCESS_DEVICE_OWNED', /CPU wrote 8 bytes/, ['CPU wrote at', 'Mapped at']);
  });
});

describe('CACHELINE_SHARED (see also machine/cache.test.ts for the corruption itself)', () => {
  test.each(['arm64', 'arm64-smmu'] as const)('%s: a TO_DEVICE buffer sharing a line is harmless (the line is only cleaned) and not reported', (shape) => {
    const x = setup(shape);
    const p = drv(x, () => L.lab_alloc(256));
    const want = pattern(32, 4);
    drv(x, () => L.lab_write(p, want));
    const h = drv(x, (l) => L.lab_map(l, p, 32, L.DMA_TO_DEVICE));
    drv(x, () => L.lab_put32(p + 32, 5));
    expect(drv(x, (l) => L.lab_xfer(l, h, 32, false))).toBe(0);
    expect(compare(x.edu.dma_buf.subarray(0, 32), want)).toBeNull();
    drv(x, (l) => L.lab_unmap(l, h, 32, L.DMA_TO_DEVICE));
    drv(x, () => L.lab_free(p));
    unbind(x.pdev);
    clean();
  });
});

describe('DEVICE_ACCESS_UNMAPPED', () => {
  test.each(ALL)('%s: giving the device virt_to_phys() of an unmapped buffer is caught; the DMA handle is clean', (shape) => {
    const x = setup(shape);
    const buf = drv(x, () => L.lab_alloc(4096));
    const phys = drv(x, () => L.lab_phys(buf));
    drv(x, (l) => L.lab_xfer(l, phys, 4096, false));
    caught('DEVICE_ACCESS_UNMAPPED', /device read memory that is not mapped for it \[bus address=0x[0-9a-f]{16}\] \[size=4096 bytes\]\ndmalab: give the device only addresses from dma_map_\*\(\) or dma_alloc_coherent\(\)/, ['Transfer started at']);
    if (x.m.iommu) caught('IOMMU_FAULT', /fault|Unhandled context fault/);

    const y = setup(shape);
    const b2 = drv(y, () => L.lab_alloc(4096));
    const want = pattern(4096, 2);
    drv(y, () => L.lab_write(b2, want));
    const h = drv(y, (l) => L.lab_map(l, b2, 4096, L.DMA_TO_DEVICE));
    expect(drv(y, (l) => L.lab_xfer(l, h, 4096, false))).toBe(0);
    expect(compare(y.edu.dma_buf, want)).toBeNull();
    drv(y, (l) => L.lab_unmap(l, h, 4096, L.DMA_TO_DEVICE));
    drv(y, () => L.lab_free(b2));
    unbind(y.pdev);
    clean();
  });

  test.each(ALL)('%s: a transfer longer than the mapping runs past its end', (shape) => {
    const x = setup(shape);
    const buf = drv(x, () => L.lab_alloc(4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 1024, L.DMA_FROM_DEVICE));
    drv(x, (l) => L.lab_xfer(l, h, 4096, true));
    caught('DEVICE_ACCESS_UNMAPPED', /device wrote past the end of a mapping .*\[size=4096 bytes\]\ndmalab: the mapping is \[device address=0x[0-9a-f]{16}\] \[size=1024 bytes\]/, ['Transfer started at', 'Mapped at']);
  });
});

describe('DEVICE_ACCESS_FREED', () => {
  test.each(ALL)('%s: reusing a handle after dma_unmap_single() is caught; mapping again is clean', (shape) => {
    const x = setup(shape);
    const buf = drv(x, () => L.lab_alloc(4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_TO_DEVICE));
    expect(drv(x, (l) => L.lab_xfer(l, h, 4096, false))).toBe(0);
    drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_TO_DEVICE));
    drv(x, (l) => L.lab_xfer(l, h, 4096, false));
    caught('DEVICE_ACCESS_FREED', /device read memory that was unmapped \[bus address=0x[0-9a-f]{16}\] \[size=4096 bytes\]/, ['Transfer started at', 'Unmapped at', 'Mapped at']);

    const y = setup(shape);
    const b2 = drv(y, () => L.lab_alloc(4096));
    for (let i = 0; i < 2; i++) {
      const h2 = drv(y, (l) => L.lab_map(l, b2, 4096, L.DMA_TO_DEVICE));
      expect(drv(y, (l) => L.lab_xfer(l, h2, 4096, false))).toBe(0);
      drv(y, (l) => L.lab_unmap(l, h2, 4096, L.DMA_TO_DEVICE));
    }
    drv(y, () => L.lab_free(b2));
    unbind(y.pdev);
    clean();
  });

  test.each(ALL)('%s: a device write into a freed coherent buffer is caught', (shape) => {
    const x = setup(shape);
    const c = drv(x, (l) => L.lab_alloc_coherent(l, 4096));
    drv(x, (l) => L.lab_free_coherent(l, 4096, c));
    drv(x, (l) => L.lab_xfer(l, c.dma, 4096, true));
    caught('DEVICE_ACCESS_FREED', /device wrote memory that was freed/, ['Transfer started at', 'Freed at']);
  });
});

describe('DEVICE_ACCESS_WRONG_DIRECTION', () => {
  test.each(ALL)('%s: the device writing a TO_DEVICE mapping is caught; FROM_DEVICE is clean', (shape) => {
    const x = setup(shape);
    const buf = drv(x, () => L.lab_alloc(4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_TO_DEVICE));
    drv(x, (l) => L.lab_xfer(l, h, 4096, true));
    caught('DEVICE_ACCESS_WRONG_DIRECTION', /^dmalab: edu_lab 0000:00:03\.0: device wrote a buffer mapped DMA_TO_DEVICE \[device address=0x[0-9a-f]{16}\] \[size=4096 bytes\] \[mapped with DMA_TO_DEVICE\]\ndmalab: a device that writes the buffer needs DMA_FROM_DEVICE \(or DMA_BIDIRECTIONAL\); an IOMMU maps it read-only$/, ['Transfer started at', 'Mapped at']);
    expect(with_code('IOMMU_FAULT').length).toBe(x.m.iommu ? 1 : 0);

    const y = setup(shape);
    const want = pattern(4096, 3);
    y.edu.dma_buf.set(want);
    const b2 = drv(y, () => L.lab_alloc(4096));
    expect(drv(y, (l) => L.lab_rx(l, b2, 4096))).toBe(0);
    expect(compare(drv(y, () => L.lab_read(b2, 4096)), want)).toBeNull();
    drv(y, () => L.lab_free(b2));
    unbind(y.pdev);
    clean();
  });
});

describe('DEVICE_ACCESS_CPU_OWNED', () => {
  test.each(ALL)('%s: handing a buffer back to the device without dma_sync_single_for_device() is caught', (shape) => {
    const x = setup(shape);
    const buf = drv(x, () => L.lab_alloc(4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_BIDIRECTIONAL));
    drv(x, (l) => L.lab_sync_cpu(l, h, 4096, L.DMA_BIDIRECTIONAL));
    drv(x, () => L.lab_fill(buf, 3, 64));
    drv(x, (l) => L.lab_xfer(l, h, 4096, false));
    caught('DEVICE_ACCESS_CPU_OWNED', /device read a buffer the CPU owns.* \[mapped with DMA_BIDIRECTIONAL\]\ndmalab: .*call dma_sync_single_for_device\(\)/, ['Transfer started at', 'Mapped at']);

    const y = setup(shape);
    const b2 = drv(y, () => L.lab_alloc(4096));
    const h2 = drv(y, (l) => L.lab_map(l, b2, 4096, L.DMA_BIDIRECTIONAL));
    drv(y, (l) => L.lab_sync_cpu(l, h2, 4096, L.DMA_BIDIRECTIONAL));
    drv(y, () => L.lab_fill(b2, 3, 64));
    drv(y, (l) => L.lab_sync_dev(l, h2, 4096, L.DMA_BIDIRECTIONAL));
    expect(drv(y, (l) => L.lab_xfer(l, h2, 4096, false))).toBe(0);
    expect(count_equal(y.edu.dma_buf.subarray(0, 64), 3)).toBe(64);
    drv(y, (l) => L.lab_unmap(l, h2, 4096, L.DMA_BIDIRECTIONAL));
    drv(y, () => L.lab_free(b2));
    unbind(y.pdev);
    clean();
  });
});

describe('DEVICE_ACCESS_CPU_OWNED with dma_alloc_noncoherent()', () => {
  test.each(ALL)('%s: the CPU fills the buffer and starts the device without dma_sync_single_for_device(): caught (and stale on arm64); with it, clean', (shape) => {
    const want = pattern(4096, 3);
    const x = setup(shape);
    const c = drv(x, (l) => L.lab_alloc_noncoherent(l, 4096, L.DMA_TO_DEVICE));
    drv(x, () => L.lab_write(c.cpu, want));
    expect(drv(x, (l) => L.lab_xfer(l, c.dma, 4096, false))).toBe(0);
    // The CPU's data is still in its cache on the non-coherent machines.
    expect(compare(x.edu.dma_buf, want) === null).toBe(!x.m.cache);
    caught('DEVICE_ACCESS_CPU_OWNED', /device read a buffer the CPU owns and has written since dma_alloc_noncoherent\(\) or dma_sync_\*_for_cpu\(\) .*\[mapped with DMA_TO_DEVICE\]/, ['Transfer started at', 'Mapped at']);

    const y = setup(shape);
    const c2 = drv(y, (l) => L.lab_alloc_noncoherent(l, 4096, L.DMA_TO_DEVICE));
    drv(y, () => L.lab_write(c2.cpu, want));
    drv(y, (l) => L.lab_sync_dev(l, c2.dma, 4096, L.DMA_TO_DEVICE));
    expect(drv(y, (l) => L.lab_xfer(l, c2.dma, 4096, false))).toBe(0);
    expect(compare(y.edu.dma_buf, want)).toBeNull();
    drv(y, (l) => L.lab_free_noncoherent(l, 4096, c2, L.DMA_TO_DEVICE));
    unbind(y.pdev);
    clean();
  });
});

describe('DEVICE_ADDRESS_CLAMPED', () => {
  // Where a 64-bit mask hands edu an address above its 28 bits: high memory on the direct
  // shapes, an IOVA just below 4 GiB with an IOMMU.
  const CLAMPS: [ShapeName, 'low' | 'high'][] = [['x86', 'high'], ['x86-iommu', 'low'], ['arm64', 'high'], ['arm64-smmu', 'low']];

  test.each(CLAMPS)('%s (%s memory): a 64-bit mask for a 28-bit device is caught; the 28-bit mask is clean', (shape, placement) => {
    const x = setup(shape, { mask_bits: 64 }, { placement });
    const buf = drv(x, () => L.lab_alloc(4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_TO_DEVICE));
    expect(h).toBeGreaterThan(0x0fffffff);
    drv(x, (l) => L.lab_xfer(l, h, 4096, false));
    const want = `0x${(h % 2 ** 28).toString(16).padStart(16, '0')}`;
    caught('DEVICE_ADDRESS_CLAMPED', new RegExp(`^EDU: clamping DMA 0x${h.toString(16).padStart(16, '0')} to ${want}!\\ndmalab: edu can only drive 28 address bits`), ['Transfer started at']);

    const y = setup(shape, { mask_bits: 28 }, { placement });
    const data = pattern(4096, 4);
    const b2 = drv(y, () => L.lab_alloc(4096, true));
    drv(y, () => L.lab_write(b2, data));
    const h2 = drv(y, (l) => L.lab_map(l, b2, 4096, L.DMA_TO_DEVICE));
    expect(h2).toBeLessThanOrEqual(0x0fffffff);
    expect(drv(y, (l) => L.lab_xfer(l, h2, 4096, false))).toBe(0);
    expect(compare(y.edu.dma_buf, data)).toBeNull();
    drv(y, (l) => L.lab_unmap(l, h2, 4096, L.DMA_TO_DEVICE));
    drv(y, () => L.lab_free(b2));
    unbind(y.pdev);
    clean();
  });

  test('x86-swiotlb: even a 64-bit mask cannot hurt: the bounce slots sit below 28 bits', () => {
    const x = setup('x86-swiotlb', { mask_bits: 64 }, { placement: 'high' });
    const buf = drv(x, () => L.lab_alloc(4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_TO_DEVICE));
    expect(h).toBeLessThanOrEqual(0x0fffffff);
    expect(drv(x, (l) => L.lab_xfer(l, h, 4096, false))).toBe(0);
    drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_TO_DEVICE));
    clean();
  });
});

describe('DMA_NO_BUS_MASTER', () => {
  test.each(ALL)('%s: without pci_set_master() the device cannot reach memory, and the driver is told why', (shape) => {
    const x = setup(shape, { master: false });
    x.edu.dma_buf.set(pattern(4096, 5));
    const buf = drv(x, () => L.lab_alloc(4096));
    drv(x, () => L.lab_fill(buf, 0x22, 4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_FROM_DEVICE));
    expect(drv(x, (l) => L.lab_xfer(l, h, 4096, true))).toBe(0);
    drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_FROM_DEVICE));
    expect(count_equal(drv(x, () => L.lab_read(buf, 4096)), 0x22)).toBe(4096);
    caught('DMA_NO_BUS_MASTER', /^dmalab: edu_lab 0000:00:03\.0: the device tried to write memory by DMA, but bus mastering is off\ndmalab: call pci_set_master\(\) in probe/, ['Transfer started at']);
    // And a read of memory gets all ones.
    drv(x, (l) => L.lab_xfer(l, h, 4096, false));
    expect(count_equal(x.edu.dma_buf, 0xff)).toBe(4096);
    expect(with_code('DMA_NO_BUS_MASTER').length).toBe(1);
    // With bus mastering (the default probe) the same transfer is clean: the other tests.
  });

  test('bus mastering turned off while a transfer is pending: the driver is told it turned it off too early', () => {
    const x = setup('x86');
    const buf = drv(x, () => L.lab_alloc(4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_FROM_DEVICE));
    drv(x, (l) => L.lab_start(l, h, 4096, true));
    drv(x, (l) => L.lab_clear_master(l));
    run_for_ms(200);
    caught('DMA_NO_BUS_MASTER', /^dmalab: edu_lab 0000:00:03\.0: the device tried to write memory by DMA, but bus mastering is off\ndmalab: bus mastering had been turned off again \(pci_clear_master\(\) or pci_disable_device\(\), in remove\?\) while the device still had a transfer to do/, ['Transfer started at']);
  });
});

describe('DMA_UNMAP_IN_FLIGHT', () => {
  test.each(ALL)('%s: unmapping while edu is still writing is caught (and the late write after it too); waiting first is clean', (shape) => {
    const x = setup(shape);
    const buf = drv(x, () => L.lab_alloc(4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_FROM_DEVICE));
    drv(x, (l) => L.lab_start(l, h, 4096, true));
    drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_FROM_DEVICE));
    caught('DMA_UNMAP_IN_FLIGHT', /^dmalab: edu_lab 0000:00:03\.0: dma_unmap_single\(\) while the device is still writing it \[device address=0x[0-9a-f]{16}\] \[size=4096 bytes\] \(edu DMA edu -> RAM of 4096 bytes\)\ndmalab: wait for the transfer to complete/, ['dma_unmap_single() at', 'Transfer started at']);
    drv(x, (l) => L.lab_wait(l));
    caught('DEVICE_ACCESS_FREED', /device wrote memory that was unmapped/, ['Transfer started at', 'Unmapped at']);

    const y = setup(shape);
    const b2 = drv(y, () => L.lab_alloc(4096));
    const h2 = drv(y, (l) => L.lab_map(l, b2, 4096, L.DMA_FROM_DEVICE));
    drv(y, (l) => L.lab_start(l, h2, 4096, true));
    expect(drv(y, (l) => L.lab_wait(l))).toBe(0);
    drv(y, (l) => L.lab_unmap(l, h2, 4096, L.DMA_FROM_DEVICE));
    drv(y, () => L.lab_free(b2));
    unbind(y.pdev);
    clean();
  });

  test.each(ALL)('%s: dma_free_coherent() while edu is reading the buffer is caught', (shape) => {
    const x = setup(shape);
    const c = drv(x, (l) => L.lab_alloc_coherent(l, 4096));
    drv(x, (l) => L.lab_start(l, c.dma, 4096, false));
    drv(x, (l) => L.lab_free_coherent(l, 4096, c));
    caught('DMA_UNMAP_IN_FLIGHT', /dma_free_coherent\(\) while the device is still reading it/, ['dma_free_coherent() at', 'Transfer started at']);
  });
});

// RAM untouched by a refused transfer (no bus master) is checked through the CPU above; this
// checks the same from the device's side of the cache.
test('DMA_NO_BUS_MASTER leaves RAM as it was (x86)', () => {
  const x = setup('x86', { master: false });
  const buf = drv(x, () => L.lab_alloc(4096));
  drv(x, () => L.lab_fill(buf, 0x33, 4096));
  const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_FROM_DEVICE));
  drv(x, (l) => L.lab_xfer(l, h, 4096, true));
  expect(count_equal(ram_bytes(x.m, x.m.mmu.lm_to_phys(buf), 4096), 0x33)).toBe(4096);
});
