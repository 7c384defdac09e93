// Hidden tests of exercise 02 (dma-addresses): the DMA mask edu needs, the address the device
// must be given (the bus address of the coherent buffer, not a CPU or physical address), the
// three addresses of one buffer, and probe's error paths. Each scenario runs on the machine
// shapes where getting it wrong shows: a host-bridge offset (arm64), an IOMMU (x86-iommu,
// arm64-smmu), memory above what edu's 28 address bits reach (placement 'high').
import { describe, test } from 'vitest';
import { load_driver } from '../lib/target.ts';
import { run, probe_fault_sweep, errno_str, ptr, addr, type Run } from './lib/harness.ts';
import { M, fill, read, pattern, type pci_dev, type Edu, type ShapeName } from '#sim/testing';
import { dma_get_mask } from '#sim';
import type * as Solution from '../../solutions/02-dma-addresses/driver.ts';

const drv = await load_driver<typeof Solution>('02-dma-addresses');
const L = 'lessons/02-dma-addresses.md';
const EDU_DMA_SIZE = 4096;
const MASK28 = (1n << 28n) - 1n;
const hex = (n: number | bigint) => '0x' + (typeof n === 'bigint' ? n : BigInt.asUintN(64, BigInt(n))).toString(16);
const EIO = 5, EINVAL = 22;

/** Bind edu and return the driver's private struct (null, with a finding, if there is none). */
function bind_edu(r: Run): { pdev: pci_dev; dev: Edu; edu: Solution.edu_dev } | null {
  const { pdev, edu: dev } = r.plug_edu();
  r.bind_ok(drv.edu_driver, pdev);
  const edu = pdev.dev.driver_data as Solution.edu_dev | null;
  if (!edu || typeof edu.buf !== 'number' || !edu.buf) {
    r.finding('WRONG_RESULT', 'after probe, pci_get_drvdata() gives no edu_dev with its coherent buffer (edu.buf): keep the pci_set_drvdata() call at the end of probe');
    return null;
  }
  return { pdev, dev, edu };
}

/** The device's buffer -> edu.buf at [0, len), checked byte for byte. */
function from_device(r: Run, pdev: pci_dev, dev: Edu, edu: Solution.edu_dev, off: number, len: number, seed: number): boolean {
  const want = pattern(len, seed);
  dev.dma_buf.set(want, off);
  fill(edu.buf, new Uint8Array(len).fill(0x5a));
  const ret = r.call(pdev, `edu_copy_from_device(edu, ${off}, ${len})`, () => drv.edu_copy_from_device(edu, off, len));
  if (!r.expect_result(`edu_copy_from_device(edu, ${off}, ${len})`, ret, 0)) return false;
  return r.expect_bytes(`edu.buf after edu_copy_from_device(edu, ${off}, ${len}) (the device wrote them at the address you programmed into EDU_REG_DMA_DST)`,
    read(edu.buf, len), want);
}

/** edu.buf at [0, len) -> the device's buffer at off, checked byte for byte. */
function to_device(r: Run, pdev: pci_dev, dev: Edu, edu: Solution.edu_dev, off: number, len: number, seed: number): boolean {
  const want = pattern(len, seed);
  fill(edu.buf, want);
  dev.dma_buf.fill(0xa5, off, off + len);
  const ret = r.call(pdev, `edu_copy_to_device(edu, ${off}, ${len})`, () => drv.edu_copy_to_device(edu, off, len));
  if (!r.expect_result(`edu_copy_to_device(edu, ${off}, ${len})`, ret, 0)) return false;
  return r.expect_bytes(`edu's buffer at ${off} after edu_copy_to_device(edu, ${off}, ${len}) (the device read them from the address you programmed into EDU_REG_DMA_SRC)`,
    dev.dma_buf.slice(off, off + len), want);
}

describe('copying through the device with the buffer\'s DMA address', () => {
  const SHAPES: ShapeName[] = ['x86', 'arm64', 'x86-iommu', 'arm64-smmu', 'x86-swiotlb'];
  for (const shape of SHAPES) {
    test(`edu -> RAM and RAM -> edu land in edu.buf and the device's buffer (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#three-address-spaces` }, (r) => {
        const b = bind_edu(r);
        if (!b) return;
        const { pdev, dev, edu } = b;
        if (from_device(r, pdev, dev, edu, 0, EDU_DMA_SIZE, 1)
          && to_device(r, pdev, dev, edu, 0, EDU_DMA_SIZE, 2)
          && from_device(r, pdev, dev, edu, 1000, 300, 3))
          to_device(r, pdev, dev, edu, 3996, 100, 4);
        r.unbind(pdev);
      });
    });
  }

  test('a range outside the device\'s 4 KiB buffer is refused with -EINVAL, before the device is touched (x86)', (ctx) => {
    run(ctx, { shape: 'x86', lesson: `${L}#the-exercise` }, (r) => {
      const b = bind_edu(r);
      if (!b) return;
      const { pdev, dev, edu } = b;
      for (const [off, len] of [[4000, 200], [0, EDU_DMA_SIZE + 1], [0, 0], [-64, 64]] as const) {
        const before = dev.transfers;
        const from = r.call(pdev, 'edu_copy_from_device()', () => drv.edu_copy_from_device(edu, off, len));
        const to = r.call(pdev, 'edu_copy_to_device()', () => drv.edu_copy_to_device(edu, off, len));
        const a = r.expect_result(`edu_copy_from_device(edu, ${off}, ${len})`, from, -EINVAL);
        const b = r.expect_result(`edu_copy_to_device(edu, ${off}, ${len})`, to, -EINVAL);
        if (dev.transfers !== before) {
          r.finding('WRONG_RESULT', `edu_copy_*(edu, ${off}, ${len}) started a transfer: check off and len against the 4 KiB buffers (EDU_DMA_SIZE) before programming the device`);
        }
        if (!a || !b) break;
      }
      r.unbind(pdev);
    });
  });
});

describe('the DMA mask: edu drives 28 address bits', () => {
  for (const shape of ['x86', 'arm64', 'x86-iommu'] as ShapeName[]) {
    test(`probe sets the streaming and the coherent mask to DMA_BIT_MASK(28) (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#dma-masks` }, (r) => {
        const b = bind_edu(r);
        if (!b) return;
        const { pdev } = b;
        const mask = dma_get_mask(pdev.dev), cmask = pdev.dev.coherent_dma_mask;
        if (mask !== MASK28 || cmask !== MASK28) {
          r.finding('WRONG_RESULT', `after probe the DMA mask is ${hex(mask)} and the coherent mask ${hex(cmask)}; edu drives 28 address bits, so both must be DMA_BIT_MASK(28) = ${hex(MASK28)} (dma_set_mask_and_coherent(), before the buffer is allocated)`);
        }
        r.unbind(pdev);
      });
    });
  }

  // Under memory pressure the allocator hands out memory above 256 MiB: only a driver that told
  // the DMA API about its 28 bits gets a buffer the device can reach.
  for (const shape of ['x86', 'arm64', 'x86-iommu'] as ShapeName[]) {
    test(`the device reaches its buffer when memory above 256 MiB is all that is free (${shape}, placement high)`, (ctx) => {
      run(ctx, { shape, placement: 'high', lesson: `${L}#dma-masks` }, (r) => {
        const b = bind_edu(r);
        if (!b) return;
        const { pdev, dev, edu } = b;
        if (edu.buf_dma > Number(MASK28)) {
          r.finding('WRONG_RESULT', `the buffer's DMA address ${addr(edu.buf_dma)} is beyond edu's 28 bits (${hex(MASK28)}): the DMA API did not know the device's limit when the buffer was allocated`);
        }
        if (to_device(r, pdev, dev, edu, 0, EDU_DMA_SIZE, 5))
          from_device(r, pdev, dev, edu, 0, EDU_DMA_SIZE, 6);
        r.unbind(pdev);
      });
    });
  }

  for (const shape of ['x86', 'arm64'] as ShapeName[]) {
    test(`when the platform refuses the mask, probe fails with its error and leaves nothing behind (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#when-the-mask-is-refused` }, (r) => {
        r.m.faults.always.add('dma_set_mask');
        const { pdev } = r.plug_edu();
        const ret = r.bind(drv.edu_driver, pdev);
        if (ret === 0) {
          r.finding('WRONG_RESULT', 'probe succeeded although dma_set_mask_and_coherent() failed: the device must not do DMA then; return its error (after undoing what probe did before)');
          r.unbind(pdev);
        } else if (ret !== -EIO) {
          r.finding('WRONG_RESULT', `probe returned ${errno_str(ret)} when dma_set_mask_and_coherent() failed with ${errno_str(-EIO)}: return the error the call gave you`);
        }
      });
    });
  }
});

describe('the three addresses of one buffer', () => {
  for (const shape of ['x86', 'arm64', 'x86-iommu', 'arm64-smmu'] as ShapeName[]) {
    test(`edu_addresses() gives edu.buf's CPU virtual, physical and bus addresses (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#three-address-spaces` }, (r) => {
        const b = bind_edu(r);
        if (!b) return;
        const { pdev, edu } = b;
        const a = r.call(pdev, 'edu_addresses(edu)', () => drv.edu_addresses(edu));
        const phys = M.mmu.translate(edu.buf);
        const iommu = r.m.iommu !== null;
        const bus_to_phys = iommu ? (M.iommu!.lookup(pdev.dev, edu.buf_dma)?.phys ?? -1) : edu.buf_dma - M.shape.bus_offset;
        if (!a || typeof a !== 'object') {
          r.finding('WRONG_RESULT', `edu_addresses(edu) returned ${String(a)}, expected { virt, phys, bus }`);
        } else {
          if (a.virt !== edu.buf) {
            r.finding('WRONG_RESULT', `edu_addresses(edu).virt is ${ptr(a.virt)}, expected edu.buf = ${ptr(edu.buf)} (the CPU's address of the buffer)`);
          }
          if (a.phys !== phys) {
            const lm = M.mmu.is_linear(edu.buf);
            r.finding('WRONG_RESULT', `edu_addresses(edu).phys is ${addr(a.phys)}, but the buffer's page is at physical address ${addr(phys)}` +
              (lm ? '' : `; on ${shape} dma_alloc_coherent() gave a CPU address outside the linear map (a remapping in the vmalloc area), where virt_to_phys() cannot compute it: walk the mapping (vmalloc_to_page())`) +
              (a.phys === edu.buf_dma && phys !== edu.buf_dma ? '; that is the bus address: on this machine the two differ' : ''));
          }
          if (a.bus !== edu.buf_dma || bus_to_phys !== phys) {
            r.finding('WRONG_RESULT', `edu_addresses(edu).bus is ${addr(a.bus)}, expected the DMA address dma_alloc_coherent() gave for edu.buf: ${addr(edu.buf_dma)}` +
              (iommu ? ' (an IOVA: the IOMMU translates it to the physical address)' : M.shape.bus_offset ? ` (physical ${M.shape.bus_offset < 0 ? '-' : '+'} ${hex(Math.abs(M.shape.bus_offset))}, the host bridge's offset)` : ''));
          }
        }
        r.unbind(pdev);
      });
    });
  }
});

describe('error paths', () => {
  for (const shape of ['x86', 'arm64'] as ShapeName[]) {
    test(`every failure in probe is unwound: nothing left behind (${shape})`, (ctx) => {
      probe_fault_sweep(ctx, drv.edu_driver, { shape, lesson: `${L}#when-the-mask-is-refused` });
    });
  }
});
