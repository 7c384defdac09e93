// The checker against the real kernel: the two buggy edu drivers whose dmesg a Linux 6.1 with
// dma-debug printed (reference/kernel-ground-truth.md), ported line for line to TypeScript,
// must print the same lines, addresses and PIDs aside.
import { describe, expect, test } from 'vitest';
import { machine, plug_edu, bind, unbind, ground_truth_lines, has } from '../testing/index.ts';
import { edu_leak_driver } from './drivers/edu_leak.ts';
import { edu_wrongdir_driver } from './drivers/edu_wrongdir.ts';

/** Blank out what differs from boot to boot: addresses and PIDs. */
function normalise(lines: string[]): string[] {
  return lines.map((l) => l
    .replace(/address=0x[0-9a-f]{16}/g, 'address=ADDR')
    .replace(/addr=(\(____ptrval____\)|[0-9a-f]{16})/g, 'addr=PTR')
    .replace(/PID: \d+/g, 'PID: N'));
}

// Verbatim from reference/kernel-ground-truth.md.
const LEAK = [
  'DMA-API: edu_leak 0000:00:03.0: device driver frees DMA memory with different size [device address=0x0000000002b0d000] [map size=4096 bytes] [unmap size=2048 bytes]',
  'WARNING: CPU: 0 PID: 30 at kernel/dma/debug.c:984 check_unmap+0x1f4/0x69b',
  'DMA-API: edu_leak 0000:00:03.0: device driver failed to check map error[device address=0x0000000002b0d000] [size=2048 bytes] [mapped as single]',
  'WARNING: CPU: 0 PID: 30 at kernel/dma/debug.c:1038 check_unmap+0x5c8/0x69b',
  'DMA-API: pci 0000:00:03.0: device driver has pending DMA allocations while released from device [count=1]',
  'One of leaked entries details: [device address=0x0000000002b16000] [size=4096 bytes] [mapped with DMA_FROM_DEVICE] [mapped as single]',
  'WARNING: CPU: 0 PID: 31 at kernel/dma/debug.c:859 dma_debug_device_change+0x11b/0x145',
];
const LEAK_IOMMU_ADDRS = ['0x000000000ffff000', '0x000000000ffff000', '0x000000000fffe000'];

const WRONGDIR = [
  'DMA-API: edu_wrongdir 0000:00:03.0: device driver syncs DMA memory with different direction [device address=0x0000000002b1a000] [size=4096 bytes] [mapped with DMA_FROM_DEVICE] [synced with DMA_TO_DEVICE]',
  'WARNING: CPU: 0 PID: 30 at kernel/dma/debug.c:1125 check_sync+0x23f/0x4bd',
  'DMA-API: edu_wrongdir 0000:00:03.0: device driver syncs device write-only DMA memory to device [device address=0x0000000002b1a000] [size=4096 bytes] [mapped with DMA_FROM_DEVICE] [synced with DMA_TO_DEVICE]',
  'WARNING: CPU: 0 PID: 30 at kernel/dma/debug.c:1146 check_sync+0x3d9/0x4bd',
  'edu_wrongdir 0000:00:03.0: rejecting DMA map of vmalloc memory',
  'WARNING: CPU: 0 PID: 30 at include/linux/dma-mapping.h:332 dma_map_single_attrs.constprop.0+0x59/0x103 [edu_wrongdir]',
  'DMA-API: edu_wrongdir 0000:00:03.0: device driver maps memory from stack [probable addr=(____ptrval____)]',
  'WARNING: CPU: 0 PID: 30 at kernel/dma/debug.c:1078 check_for_stack+0x162/0x19d',
];

function run(drv: typeof edu_leak_driver, shape: 'x86' | 'x86-iommu') {
  const m = machine({ shape, seed: 1 });
  const { pdev } = plug_edu();
  const ret = bind(drv, pdev);
  unbind(pdev);
  return { m, ret, lines: ground_truth_lines() };
}

describe('Linux 6.1 ground truth', () => {
  test('(a) leak-and-wrong-size, no IOMMU: the same lines as the kernel', () => {
    const { ret, lines, m } = run(edu_leak_driver, 'x86');
    expect(ret).toBe(0);
    expect(normalise(lines)).toEqual(normalise(LEAK));
    expect(m.diag.dma_error_count).toBe(3);
  });

  test('(a) with the IOMMU: the same lines, with the IOVAs a real VT-d gives', () => {
    const { lines } = run(edu_leak_driver, 'x86-iommu');
    expect(normalise(lines)).toEqual(normalise(LEAK));
    const addrs = lines.flatMap((l) => [...l.matchAll(/device address=(0x[0-9a-f]{16})/g)].map((x) => x[1]));
    expect(addrs).toEqual(LEAK_IOMMU_ADDRS);
  });

  test('(b) wrong-dir-sync: the same lines as the kernel, one wrong sync giving two errors', () => {
    const { ret, lines, m } = run(edu_wrongdir_driver, 'x86');
    expect(ret).toBe(0);
    expect(normalise(lines)).toEqual(normalise(WRONGDIR));
    // The vmalloc rejection is not a dma-debug error: error_count is 3, as measured.
    expect(m.diag.dma_error_count).toBe(3);
    expect(has('DMA_LEAK_AT_UNBIND')).toBe(false);
  });

  test('(b) with the IOMMU: same lines, IOVA 0xffff000', () => {
    const { lines } = run(edu_wrongdir_driver, 'x86-iommu');
    expect(normalise(lines)).toEqual(normalise(WRONGDIR));
    expect(lines[0]).toContain('device address=0x000000000ffff000');
  });

  test('the reports point at the driver lines that made the calls', () => {
    run(edu_leak_driver, 'x86');
    const m = run(edu_leak_driver, 'x86').m;
    const size = m.diag.list.find((d) => d.code === 'DMA_UNMAP_WRONG_SIZE')!;
    const mapped = size.sites.find((s) => s.label === 'Mapped at')!.site;
    const unmapped = size.sites.find((s) => s.label === 'Unmapped at')!.site;
    expect(mapped.file).toBe('sim/test/drivers/edu_leak.ts');
    expect(mapped.fn).toBe('edu_leak_probe');
    expect(unmapped.line).toBeGreaterThan(mapped.line);
  });
});
