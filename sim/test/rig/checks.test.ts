// Caught and clean: for every check the sim makes as the kernel does (dma-debug's C-* checks,
// and the kernel's own outside kernel/dma/debug.c), the mistake is reported with its code and
// the kernel's text, and the same code written correctly reports nothing at all, on every
// machine shape where the mistake exists (and it is not reported where it cannot happen).
// The scenarios are in sim/test/drivers/rig/checks.ts.
import { describe, expect, test } from 'vitest';
import { machine, plug_edu, bind, unbind, diagnostics, explain, type Code, type ShapeName, type MachineOptions } from '../../testing/index.ts';
import { SHAPE } from '../../kernel/shapes.ts';
import { checks_driver } from '../drivers/rig/checks.ts';

const ALL: ShapeName[] = ['x86', 'x86-iommu', 'x86-swiotlb', 'arm64', 'arm64-smmu'];
const DEV = 'edu_check 0000:00:03\\.0: ';
const API = `DMA-API: ${DEV}`;
const A = '0x[0-9a-f]{16}';

interface Pair {
  /** Scenario name (SCENARIOS in the driver) and what it checks. */
  name: string;
  code: Code;
  /** The kernel's line(s), matched against the report's text. */
  text: RegExp;
  shapes: ShapeName[];
  /** Shapes where the mistake cannot show: the bug variant does not report `code` there. */
  not?: ShapeName[];
  opts?: MachineOptions;
}

/** The swiotlb=force shape with its pool above edu's 28-bit reach (a 512 MiB PC). */
const HIGH_POOL = { ...SHAPE['x86-swiotlb'], swiotlb: { ...SHAPE['x86-swiotlb'].swiotlb!, base: 0x1b600000 } };

const PAIRS: Pair[] = [
  { name: 'C-M1', code: 'DMA_MAP_INVALID_AREA', text: new RegExp(`^${API}device driver maps memory from invalid area \\[addr=[0-9a-f]{16}\\] \\[len=64\\]$`, 'm'), shapes: ALL },
  { name: 'C-M4', code: 'DMA_MAP_STACK', text: new RegExp(`^${API}device driver maps memory from stack \\[probable addr=[0-9a-f]{16}\\]$`, 'm'), shapes: ALL },
  { name: 'VMALLOC_REJECT', code: 'DMA_MAP_VMALLOC_REJECTED', text: new RegExp(`^${DEV}rejecting DMA map of vmalloc memory$`, 'm'), shapes: ALL },
  { name: 'C-M6', code: 'DMA_SG_SEGMENT_TOO_LONG', text: new RegExp(`^${API}mapping sg segment longer than device claims to support \\[len=131072\\] \\[max=65536\\]$`, 'm'), shapes: ALL },
  // Behind an IOMMU the entry gets a size-aligned IOVA that does not cross (measured); with
  // swiotlb=force it depends on which slots it bounces through.
  { name: 'C-M7', code: 'DMA_SG_SEGMENT_BOUNDARY', text: new RegExp(`^${API}mapping sg segment across boundary \\[start=${A}\\] \\[end=${A}\\] \\[boundary=0x000000000000ffff\\]$`, 'm'), shapes: ['x86', 'arm64'], not: ['x86-iommu', 'arm64-smmu'] },
  { name: 'C-M8', code: 'DMA_CACHELINE_OVERLAP', text: new RegExp(`^${API}cacheline tracking EEXIST, overlapping mappings aren't supported$`, 'm'), shapes: ALL },
  { name: 'C-U1', code: 'DMA_UNMAP_INVALID', text: new RegExp(`^${API}device driver tries to free an invalid DMA memory address$`, 'm'), shapes: ALL },
  { name: 'C-U2', code: 'DMA_UNMAP_NOT_MAPPED', text: new RegExp(`^${API}device driver tries to free DMA memory it has not allocated \\[device address=${A}\\] \\[size=4096 bytes\\]$`, 'm'), shapes: ALL },
  { name: 'C-U3', code: 'DMA_UNMAP_WRONG_SIZE', text: new RegExp(`^${API}device driver frees DMA memory with different size \\[device address=${A}\\] \\[map size=4096 bytes\\] \\[unmap size=2048 bytes\\]$`, 'm'), shapes: ALL },
  { name: 'C-U4', code: 'DMA_UNMAP_WRONG_FUNCTION', text: new RegExp(`^${API}device driver frees DMA memory with wrong function \\[device address=${A}\\] \\[size=4096 bytes\\] \\[mapped as coherent\\] \\[unmapped as single\\]$`, 'm'), shapes: ALL },
  { name: 'C-U5', code: 'DMA_FREE_WRONG_CPU_ADDR', text: new RegExp(`^${API}device driver frees DMA memory with different CPU address \\[device address=${A}\\] \\[size=4096 bytes\\] \\[cpu alloc address=${A}\\] \\[cpu free address=${A}\\]$`, 'm'), shapes: ALL },
  { name: 'C-U6', code: 'DMA_UNMAP_SG_WRONG_COUNT', text: new RegExp(`^${API}device driver frees DMA sg list with different entry count \\[map count=4\\] \\[unmap count=2\\]$`, 'm'), shapes: ALL },
  { name: 'C-U7', code: 'DMA_UNMAP_WRONG_DIRECTION', text: new RegExp(`^${API}device driver frees DMA memory with different direction \\[device address=${A}\\] \\[size=4096 bytes\\] \\[mapped with DMA_FROM_DEVICE\\] \\[unmapped with DMA_TO_DEVICE\\]$`, 'm'), shapes: ALL },
  { name: 'C-U8', code: 'DMA_MAP_ERROR_NOT_CHECKED', text: new RegExp(`^${API}device driver failed to check map error\\[device address=${A}\\] \\[size=4096 bytes\\] \\[mapped as single\\]$`, 'm'), shapes: ALL },
  { name: 'C-S1', code: 'DMA_SYNC_NOT_MAPPED', text: new RegExp(`^${API}device driver tries to sync DMA memory it has not allocated \\[device address=${A}\\] \\[size=4096 bytes\\]$`, 'm'), shapes: ALL },
  { name: 'C-S4', code: 'DMA_SYNC_READONLY_FOR_CPU', text: new RegExp(`^${API}device driver syncs device read-only DMA memory for cpu \\[device address=${A}\\] \\[size=4096 bytes\\] \\[mapped with DMA_TO_DEVICE\\] \\[synced with DMA_FROM_DEVICE\\]$`, 'm'), shapes: ALL },
  { name: 'C-S5', code: 'DMA_SYNC_WRITEONLY_TO_DEVICE', text: new RegExp(`^${API}device driver syncs device write-only DMA memory to device \\[device address=${A}\\] \\[size=4096 bytes\\] \\[mapped with DMA_FROM_DEVICE\\] \\[synced with DMA_TO_DEVICE\\]$`, 'm'), shapes: ALL },
  { name: 'C-S6', code: 'DMA_SYNC_SG_WRONG_COUNT', text: new RegExp(`^${API}device driver syncs DMA sg list with different entry count \\[map count=4\\] \\[sync count=2\\]$`, 'm'), shapes: ALL },
  { name: 'C-L1', code: 'DMA_LEAK_AT_UNBIND', text: new RegExp(`^DMA-API: pci 0000:00:03\\.0: device driver has pending DMA allocations while released from device \\[count=1\\]\\nOne of leaked entries details: \\[device address=${A}\\] \\[size=4096 bytes\\] \\[mapped with DMA_FROM_DEVICE\\] \\[mapped as single\\]$`, 'm'), shapes: ALL },
  // Only where there is neither an IOMMU nor swiotlb to fall back on.
  { name: 'DIRECT_OVERFLOW', code: 'DMA_ADDR_OVERFLOW', text: new RegExp(`^${DEV}DMA addr ${A}\\+4096 overflow \\(mask fffffff, bus limit 0\\)\\.$`, 'm'), shapes: ['x86'], not: ['x86-iommu', 'x86-swiotlb', 'arm64', 'arm64-smmu'] },
  { name: 'SWIOTLB_FULL', code: 'SWIOTLB_FULL', text: new RegExp(`^${DEV}swiotlb buffer is full \\(sz: 4096 bytes\\), total 128 \\(slots\\), used 128 \\(slots\\)$`, 'm'), shapes: ['x86-swiotlb', 'arm64'], opts: { swiotlb_slots: 128, swiotlb_force: true } },
  { name: 'POOL_BUSY', code: 'DMA_POOL_BUSY', text: new RegExp(`^${DEV}dma_pool_destroy chk_pool, [0-9a-f]{16} busy$`, 'm'), shapes: ALL },
  { name: 'POOL_BAD_DMA', code: 'DMA_POOL_BAD_DMA', text: new RegExp(`^${DEV}dma_pool_free chk_pool, [0-9a-f]{16}/${A} \\(bad dma\\)$`, 'm'), shapes: ALL },
  { name: 'VFREE_INVALID', code: 'VFREE_INVALID', text: /^Trying to vfree\(\) bad address \([0-9a-f]{16}\)$/m, shapes: ALL },
  { name: 'IRQ_ALREADY_FREE', code: 'IRQ_ALREADY_FREE', text: /^Trying to free already-free IRQ \d+$/m, shapes: ALL },
];

function run(name: string, which: 'bug' | 'fix', shape: ShapeName | typeof HIGH_POOL, opts: MachineOptions = {}): number {
  machine({ shape, seed: 1, ...opts });
  const { pdev } = plug_edu();
  const ret = bind(checks_driver(name, which), pdev);
  if (ret === 0) unbind(pdev);
  return ret;
}

function expect_caught(code: Code, text: RegExp): void {
  const d = diagnostics().filter((x) => x.code === code);
  expect(d.length, `expected ${code}; got:\n${explain()}`).toBeGreaterThan(0);
  expect(d[0]!.lines.join('\n')).toMatch(text);
  // Reported where the driver made the call (a transfer: where the helper started it).
  expect(d[0]!.sites[0]?.site.file).toMatch(/^sim\/test\/drivers\/(rig\/checks|edu_rig)\.ts$/);
}

function expect_clean(): void {
  expect(diagnostics().map((d) => d.code), explain()).toEqual([]);
}

describe.each(PAIRS)('$name ($code)', (p) => {
  test.each(p.shapes)('%s: caught with the kernel\'s text; the corrected driver reports nothing', (shape) => {
    expect(run(p.name, 'bug', shape, p.opts)).toBe(0);
    expect_caught(p.code, p.text);
    expect(run(p.name, 'fix', shape, p.opts)).toBe(0);
    expect_clean();
  });
  if (p.not?.length) {
    test.each(p.not)('%s: the mistake cannot show here and is not reported', (shape) => {
      run(p.name, 'bug', shape, p.opts);
      expect(diagnostics().map((d) => d.code)).not.toContain(p.code);
    });
  }
});

describe('one call, several segments', () => {
  test.each(ALL)('%s: two sg entries too long in one dma_map_sg(): two C-M6 lines, as the kernel prints them', (shape) => {
    expect(run('C-M6x2', 'bug', shape)).toBe(0);
    const d = diagnostics().filter((x) => x.code === 'DMA_SG_SEGMENT_TOO_LONG');
    expect(d.map((x) => x.lines[0])).toEqual([
      'DMA-API: edu_check 0000:00:03.0: mapping sg segment longer than device claims to support [len=131072] [max=65536]',
      'DMA-API: edu_check 0000:00:03.0: mapping sg segment longer than device claims to support [len=131072] [max=65536]',
    ]);
    expect(run('C-M6x2', 'fix', shape)).toBe(0);
    expect_clean();
  });
});

describe('the kernel checks that need a particular machine', () => {
  test('SWIOTLB_OVERFLOW (swiotlb=force, pool above the mask): the WARN_ONCE; a coherent buffer is the way out', () => {
    expect(run('SWIOTLB_OVERFLOW', 'bug', HIGH_POOL)).toBe(0);
    expect_caught('SWIOTLB_OVERFLOW', new RegExp(`^${DEV}swiotlb addr 0x000000001b600000\\+4096 overflow \\(mask fffffff, bus limit 0\\)\\.$`, 'm'));
    expect(diagnostics().find((d) => d.code === 'SWIOTLB_OVERFLOW')!.lines.length).toBe(1);
    expect(run('SWIOTLB_OVERFLOW', 'fix', HIGH_POOL)).toBe(0);
    expect_clean();
  });

  test.each(['x86-iommu', 'arm64-smmu'] as ShapeName[])('IOMMU_FAULT on %s: DMA through an IOVA after its unmap faults; before it, nothing', (shape) => {
    expect(run('IOMMU_FAULT', 'bug', shape)).toBe(0);
    expect_caught('IOMMU_FAULT', shape === 'x86-iommu'
      ? /^DMAR: DRHD: handling fault status reg 2\nDMAR: \[DMA Read NO_PASID\] Request device \[00:03\.0\] fault addr 0x[0-9a-f]+000 \[fault reason 0x06\] PTE Read access is not set$/
      : /^arm-smmu 9000000\.iommu: Unhandled context fault: fsr=0x402, iova=0x[0-9a-f]{8}, fsynr=0x0, cbfrsynra=0x18, cb=0$/);
    expect(run('IOMMU_FAULT', 'fix', shape)).toBe(0);
    expect_clean();
  });

  test.each(['x86', 'x86-swiotlb', 'arm64'] as ShapeName[])('IOMMU_FAULT cannot happen on %s (no IOMMU)', (shape) => {
    run('IOMMU_FAULT', 'bug', shape);
    expect(diagnostics().map((d) => d.code)).not.toContain('IOMMU_FAULT');
  });

  test.each(ALL)('DMA_INVALID_DIRECTION on %s: a kernel BUG: an oops, then the panic (oops=panic)', (shape) => {
    const ret = run('DMA_INVALID_DIRECTION', 'bug', shape);
    expect(ret).not.toBe(0);
    expect_caught('DMA_INVALID_DIRECTION', /^kernel BUG at kernel\/dma\/mapping\.c:150!$/m);
    const d = diagnostics().find((x) => x.code === 'DMA_INVALID_DIRECTION')!;
    expect(d.lines).toContain(shape.startsWith('arm64') ? 'Internal error: Oops - BUG: 00000000f2000800 [#1] SMP' : 'invalid opcode: 0000 [#1]');
    expect(d.lines.at(shape.startsWith('arm64') ? -1 : -2)).toBe(`Kernel panic - not syncing: ${shape.startsWith('arm64') ? 'Oops - BUG: ' : ''}Fatal exception`);
    // oops=panic: the machine runs no more driver code; a new machine binds the fixed driver.
    const { pdev } = plug_edu(4);
    expect(bind(checks_driver('DMA_INVALID_DIRECTION', 'fix'), pdev)).not.toBe(0);
    expect(run('DMA_INVALID_DIRECTION', 'fix', shape)).toBe(0);
    expect_clean();
  });
});
