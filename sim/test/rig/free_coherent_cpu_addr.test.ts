// Rig case free-coherent-cpu-addr (C-U5, C-U3): tools/kernel-rig-cases/free-coherent-cpu-addr.
import { describe, expect, test } from 'vitest';
import { M } from '../../testing/index.ts';
import { expect_kernel_lines, kernel_codes } from './rig.ts';
import { edu_cpuaddr_driver } from '../drivers/rig/free_coherent_cpu_addr.ts';

describe('rig free-coherent-cpu-addr: dma_free_coherent with another CPU address or size', () => {
  test('x86: C-U5 prints the physical addresses (0x%016llx), then C-U3 for the coherent size', () => {
    const r = expect_kernel_lines('free-coherent-cpu-addr/free-coherent-cpu-addr.txt', edu_cpuaddr_driver, 'x86');
    expect(kernel_codes()).toEqual(['DMA_FREE_WRONG_CPU_ADDR', 'DMA_UNMAP_WRONG_SIZE']);
    const l = r.lines.find((x) => x.includes('different CPU address'))!;
    const [alloc, free] = [...l.matchAll(/cpu (?:alloc|free) address=0x([0-9a-f]{16})/g)].map((m) => parseInt(m[1]!, 16));
    expect(free! - alloc!).toBe(64);
  });

  test('x86-iommu: the buffer is a vmalloc remap, so dma-iommu also says "Trying to vfree() bad address"', () => {
    // The module's own virt_to_phys(c) of the remap is garbage on the rig's kernel, which says
    // nothing about it; the sim's kernel lines say nothing either, and dmalab says it.
    const r = expect_kernel_lines('free-coherent-cpu-addr/free-coherent-cpu-addr-iommu.txt', edu_cpuaddr_driver, 'x86-iommu',
      {}, { dma: 'keep' });
    expect(kernel_codes()).toEqual(['DMA_FREE_WRONG_CPU_ADDR', 'VFREE_INVALID', 'DMA_UNMAP_WRONG_SIZE']);
    expect(M.diag.list.find((d) => d.code === 'VIRT_TO_PHYS_NONLINEAR')?.origin).toBe('dmalab');
    // dma-debug still names the physical page behind the remap.
    const step1 = r.all.find((l) => l.includes('CASE step 1'))!;
    const cpu = /alloc cpu=([0-9a-f]{16})/.exec(step1)![1]!;
    expect(BigInt('0x' + cpu) >= 0xffffc90000000000n && BigInt('0x' + cpu) < 0xffffe90000000000n).toBe(true);
    expect(M.dmesg.texts().some((l) => l.startsWith('Trying to vfree() bad address ('))).toBe(true);
  });
});
