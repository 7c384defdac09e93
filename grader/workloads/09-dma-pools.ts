// The playground run of exercise 09 (npm run try -- 09 [--shape arm64]): bind (probe creates the
// pools), run a batch of commands with chains of descriptors, print where the blocks came from
// and how many coherent allocations the driver holds, then queue a batch and unbind while it
// runs (remove must stop the queue and give every block back before destroying the pools).
import type { Playground } from '../try.ts';
import type * as Solution from '../../solutions/09-dma-pools/driver.ts';
import { kmalloc, kfree, GFP_KERNEL } from '#sim';
import { coherent_allocations, fill, pattern } from '#sim/testing';
import { dev_info } from '#linux/device';

const CHECKSUM = 1, FILL = 2;

export default function workload(t: Playground, drv: typeof Solution): void {
  const { pdev, cmdq } = t.plug_cmdq();
  if (t.bind(drv.cmdq_driver, pdev) !== 0) return;
  const cq = pdev.dev.driver_data as Solution.cmdq_dev;
  const jobs = [100, 4096, 10000, 16384, 1].map((len, i) => {
    const buf = kmalloc(len, GFP_KERNEL);
    fill(buf, pattern(len, i + 1));
    return { op: i % 2 ? FILL : CHECKSUM, buf, len, seed: 1000 + i };
  });
  const got = t.call(pdev, () => drv.cmdq_run(cq, jobs));
  t.log(`cmdq_run(cq, <${jobs.length} jobs of ${jobs.map((j) => j.len).join(', ')} bytes>) = ${typeof got === 'number' ? got : `[${got.map((r) => '0x' + (r >>> 0).toString(16)).join(', ')}]`}`);
  const slots = jobs.map((j) => t.call(pdev, () => drv.cmdq_queue(cq, j)));
  const first = cq.slots[slots[0]!]?.descs[0];
  if (first) dev_info(pdev.dev, 'first descriptor block at %px; %d commands queued\n', first, slots.filter((s) => s >= 0).length);
  const sizes = coherent_allocations(pdev);
  t.log(`coherent allocations held now: ${sizes.length} (${sizes.join(', ')} bytes)`);
  t.log(`device: ${cmdq.completed} commands completed; unbinding with ${slots.length} queued`);
  t.unbind(pdev);
  t.log(`after remove: the device is ${cmdq.busy() ? 'STILL RUNNING' : 'idle'}`);
  for (const j of jobs) kfree(j.buf);
}
