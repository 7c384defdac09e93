// The playground run of exercise 03 (npm run try -- 03 [--shape arm64]): bind (probe allocates
// the coherent buffer), print its two addresses, send a message through it to edu and read
// edu's buffer back, then start a transfer and unbind while it runs (remove must wait).
import type { Playground } from '../try.ts';
import type * as Solution from '../../solutions/03-coherent-dma/driver.ts';
import { is_vmalloc_addr } from '#linux/mm';
import { dev_info } from '#linux/device';

export default function workload(t: Playground, drv: typeof Solution): void {
  const { pdev, edu: dev } = t.plug_edu();
  if (t.bind(drv.edu_driver, pdev) !== 0) return;
  const edu = pdev.dev.driver_data as Solution.edu_dev;
  dev_info(pdev.dev, 'coherent buffer: CPU address %px (%s), DMA address %pad\n', edu.buf,
    is_vmalloc_addr(edu.buf) ? 'vmalloc area' : 'linear map', edu.buf_dma);
  const msg = new TextEncoder().encode('hello from the CPU');
  t.log(`edu_write(edu, '${new TextDecoder().decode(msg)}') = ${t.call(pdev, () => drv.edu_write(edu, msg))}`);
  t.log(`edu's buffer now starts with '${new TextDecoder().decode(dev.dma_buf.subarray(0, msg.length))}'`);
  dev.dma_buf.set(new TextEncoder().encode('hello from edu....'), 0);
  const got = t.call(pdev, () => drv.edu_read(edu, msg.length));
  t.log(`edu_read(edu, ${msg.length}) = ${typeof got === 'number' ? got : `'${new TextDecoder().decode(got)}'`}`);
  t.log(`edu_start_read(edu, 4096) = ${t.call(pdev, () => drv.edu_start_read(edu, 4096))}; unbinding while it runs`);
  t.unbind(pdev);
  t.log(`after remove: a transfer is ${dev.busy() ? 'STILL RUNNING' : 'not running'}`);
}
