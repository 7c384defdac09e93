// The playground run of exercise 04 (npm run try -- 04 [--shape x86-iommu]): bind, send a
// kmalloc'ed buffer to the device and read it back into another, unbind. The trace shows each
// map, the device's accesses and each unmap.
import type { Playground } from '../try.ts';
import type * as Solution from '../../solutions/04-streaming-dma/driver.ts';
import { kmalloc, kfree, GFP_KERNEL } from '#linux/slab';
import { copy_to_mem, copy_from_mem } from '#dmalab/mem';

export default function workload(t: Playground, drv: typeof Solution): void {
  const { pdev } = t.plug_edu();
  if (t.bind(drv.edu_driver, pdev) !== 0) return;
  const edu = pdev.dev.driver_data as Solution.edu_dev;
  // The caller's buffers: kernel memory the driver is handed, as a read()/write() path would.
  const out = kmalloc(4096, GFP_KERNEL), back = kmalloc(4096, GFP_KERNEL);
  const msg = new TextEncoder().encode('streaming DMA, both ways');
  copy_to_mem(out, msg);
  t.log(`edu_dma(edu, out, ${msg.length}, true) = ${t.call(pdev, () => drv.edu_dma(edu, out, msg.length, true))}`);
  t.log(`edu_dma(edu, back, ${msg.length}, false) = ${t.call(pdev, () => drv.edu_dma(edu, back, msg.length, false))}`);
  t.log(`back = '${new TextDecoder().decode(copy_from_mem(back, msg.length))}'`);
  kfree(out);
  kfree(back);
  t.unbind(pdev);
}
