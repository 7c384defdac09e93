// The playground run of exercise 05 (npm run try -- 05 [--shape arm64]): bind (probe maps the
// RX and TX buffers for good), send two messages and receive them back, unbind. On arm64 and
// x86-swiotlb a missing sync shows as stale bytes in the second round.
import type { Playground } from '../try.ts';
import type * as Solution from '../../solutions/05-sync-and-ownership/driver.ts';

export default function workload(t: Playground, drv: typeof Solution): void {
  const { pdev } = t.plug_edu();
  if (t.bind(drv.edu_driver, pdev) !== 0) return;
  const edu = pdev.dev.driver_data as Solution.edu_dev;
  const enc = new TextEncoder(), dec = new TextDecoder();
  for (const text of ['first message', 'second, longer message']) {
    const msg = enc.encode(text);
    t.log(`edu_send(edu, '${text}') = ${t.call(pdev, () => drv.edu_send(edu, msg))}`);
    const got = t.call(pdev, () => drv.edu_receive(edu, msg.length));
    t.log(`edu_receive(edu, ${msg.length}) = ${typeof got === 'number' ? got : `'${dec.decode(got)}'`}`);
  }
  t.unbind(pdev);
}
