// The playground run of exercise 08 (npm run try -- 08 [--shape arm64 --placement high |
// --shape x86-swiotlb | --shape x86-iommu]): bind (probe maps the status buffer), send a batch of
// three buffers and show where each landed in edu, read a status back, change the first buffer
// and resend it, unbind. The trace shows each bounce (swiotlb_bounced) or IOMMU mapping.
import type { Playground } from '../try.ts';
import type * as Solution from '../../solutions/08-bounce-and-iommu/driver.ts';
import { kmalloc, kfree, GFP_KERNEL } from '#linux/slab';
import { copy_to_mem } from '#dmalab/mem';

export default function workload(t: Playground, drv: typeof Solution): void {
  const { pdev, edu: dev } = t.plug_edu();
  if (t.bind(drv.edu_driver, pdev) !== 0) return;
  const edu = pdev.dev.driver_data as Solution.edu_dev;
  const enc = new TextEncoder(), dec = new TextDecoder();
  const words = ['first buffer', 'second buffr', 'third buffer'];
  const bufs = t.call(pdev, () => words.map((w) => { const b = kmalloc(16, GFP_KERNEL); copy_to_mem(b, enc.encode(w)); return b; }));
  t.log(`edu_send_batch(edu, <3 buffers>, 12) = ${t.call(pdev, () => drv.edu_send_batch(edu, bufs, 12))}`);
  t.log(`edu's buffer now starts with '${dec.decode(dev.dma_buf.subarray(0, 36))}'`);
  dev.dma_buf.set(enc.encode('status: all good'), 0);
  const st = t.call(pdev, () => drv.edu_read_status(edu, 16));
  t.log(`edu_read_status(edu, 16) = ${typeof st === 'number' ? st : `'${dec.decode(st)}'`}`);
  t.call(pdev, () => copy_to_mem(bufs[0]!, enc.encode('FIRST AGAIN!')));
  t.log(`edu_resend(edu) = ${t.call(pdev, () => drv.edu_resend(edu))}; edu's buffer starts with '${dec.decode(dev.dma_buf.subarray(0, 12))}'`);
  t.call(pdev, () => bufs.forEach((b) => kfree(b)));
  t.unbind(pdev);
}
