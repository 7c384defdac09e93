// The playground run of exercise 11 (npm run try -- 11 [--shape arm64-smmu]): the bundled DMA
// controller and its provider, then dmacopy bound to its node (probe borrows a DMA_MEMCPY
// channel), a few copies checked byte for byte, a short self-test (its summary line in dmesg),
// and unbind (the channel goes back).
import type { Playground } from '../try.ts';
import type * as Solution from '../../solutions/11-dmaengine-memcpy/driver.ts';
import { kmalloc, kfree, GFP_KERNEL } from '#sim';
import { fill, read, pattern, compare, plug_node, plug_dmac, load_platform, unbind_platform, call } from '#sim/testing';
import { dmac_driver } from '../../sim/drivers/dma/dmac.ts';

export default function workload(t: Playground, drv: typeof Solution): void {
  load_platform(dmac_driver);
  const ctrl = plug_dmac();
  load_platform(drv.dmacopy_driver);
  const pdev = plug_node('dmacopy', ['dmalab,dmacopy']);
  if (!pdev.dev.driver) {
    t.log('dmacopy did not bind (see its probe in dmesg)');
    return;
  }
  const cp = pdev.dev.driver_data as Solution.dmacopy;
  for (const len of [64, 4096, 100000]) {
    const src = kmalloc(len, GFP_KERNEL), dst = kmalloc(len, GFP_KERNEL);
    fill(src, pattern(len, len));
    fill(dst, new Uint8Array(len));
    const o = call(pdev, () => drv.dmacopy_copy(cp, dst, src, len));
    const ret = o.ok ? o.value : `crashed (${o.halt})`;
    t.log(`dmacopy_copy(cp, dst, src, ${len}) = ${ret}${ret === 0 ? `: ${compare(read(dst, len), pattern(len, len)) ?? 'every byte right'}` : ''}`);
    kfree(src);
    kfree(dst);
  }
  const o = call(pdev, () => drv.dmacopy_selftest(cp, 8, 4096, t.machine.seed));
  t.log(`dmacopy_selftest(cp, 8, 4096, seed) = ${o.ok ? o.value : `crashed (${o.halt})`}`);
  unbind_platform(pdev);
  t.log(`after unbind: the channel is ${cp.chan.client_count ? 'STILL HELD' : 'back with its controller'}`);
  unbind_platform(ctrl.pdev);
}
