// DMAENGINE_WRONG_DEVICE: a client maps the buffers it gives the engine with its own device
// instead of chan->device->dev. The controller's access is reported as an unmapped device
// access (and faults behind an IOMMU) on every shape, and the engine rule names the likely
// cause with the prep's and the map's lines; the same client mapping with the channel's device
// is clean.
import { describe, expect, test } from 'vitest';
import { all_shapes, has, fill, read, pattern, compare, unbind_platform } from '../../../testing/index.ts';
import { DMA_TO_DEVICE, DMA_FROM_DEVICE } from '../../../include/linux/dma-direction.ts';
import { setup, drv, caught, clean } from './lab.ts';
import * as E from '../../drivers/engine_lab.ts';

const TEXT = /^dmalab: dmalab-dmac [\w@.-]+: the controller (read|wrote) bus address 0x[0-9a-f]{16} \[size=\d+ bytes\] for dma0chan0 cookie 2, a buffer mapped for engine-lab engine-lab, not for the controller\ndmalab: the DMA controller does the accesses: map buffers for the engine with chan->device->dev/;

/** One memcpy of 4 KiB with both buffers mapped for `dev_of(l)`. */
function copy(x: ReturnType<typeof setup>, own_device: boolean): { ok: boolean } {
  const src = drv(x, () => E.elab_alloc(4096)), dst = drv(x, () => E.elab_alloc(4096));
  fill(src, pattern(4096, 9));
  fill(dst, new Uint8Array(4096));
  const ok = drv(x, (l) => {
    const dev = own_device ? l.dev : l.chan!.device.dev!;
    const s = E.elab_map(dev, src, 4096, DMA_TO_DEVICE), d = E.elab_map(dev, dst, 4096, DMA_FROM_DEVICE);
    const tx = E.elab_prep_memcpy(l, d, s, 4096)!;
    E.elab_set_callback(l, tx);
    E.elab_submit_checked(l, tx);
    E.elab_issue(l.chan!);
    const left = E.elab_wait(l);
    E.elab_unmap(dev, d, 4096, DMA_FROM_DEVICE);
    E.elab_unmap(dev, s, 4096, DMA_TO_DEVICE);
    return left > 0;
  });
  const same = compare(read(dst, 4096), pattern(4096, 9)) === null;
  drv(x, () => { E.elab_kfree(src); E.elab_kfree(dst); });
  return { ok: ok && same };
}

describe.each(all_shapes())('%s', (shape) => {
  test('buffers mapped with the client\'s device: unmapped access, the engine code with the prep and the map; with chan->device->dev clean', () => {
    const x = setup(shape);
    copy(x, true);
    caught('DMAENGINE_WRONG_DEVICE', TEXT, [['Prepared at', 'elab_prep_memcpy'], ['Mapped at', 'elab_map']]);
    expect(has('DEVICE_ACCESS_UNMAPPED')).toBe(true);
    if (shape === 'x86-iommu' || shape === 'arm64-smmu') expect(has('IOMMU_FAULT')).toBe(true);
    unbind_platform(x.pdev);

    const y = setup(shape);
    expect(copy(y, false).ok).toBe(true);
    unbind_platform(y.pdev);
    clean();
  });
});
