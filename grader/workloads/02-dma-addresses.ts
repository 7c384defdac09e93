// The playground run of exercise 02 (npm run try -- 02 [--shape arm64] [--placement high]):
// bind (probe prints the buffer's three addresses), print them again from edu_addresses(),
// copy a few bytes to the device and back, unbind.
import type { Playground } from '../try.ts';
import type * as Solution from '../../solutions/02-dma-addresses/driver.ts';

import { px } from '../../sim/lib/vsprintf.ts';

const hex = (n: number) => '0x' + (n < 0 ? BigInt.asUintN(64, BigInt(n)) : n).toString(16);

export default function workload(t: Playground, drv: typeof Solution): void {
  const { pdev, edu: dev } = t.plug_edu();
  if (t.bind(drv.edu_driver, pdev) !== 0) return;
  const edu = pdev.dev.driver_data as Solution.edu_dev;
  const a = t.call(pdev, () => drv.edu_addresses(edu));
  t.log(`edu_addresses(edu) = { virt: 0x${px(a.virt)}, phys: ${hex(a.phys)}, bus: ${hex(a.bus)} }`);
  t.log(`bus - phys = ${a.bus - a.phys < 0 ? '-' : ''}${hex(Math.abs(a.bus - a.phys))}`);
  dev.dma_buf.set(new TextEncoder().encode('hello from edu'), 0);
  t.log(`edu_copy_from_device(edu, 0, 14) = ${t.call(pdev, () => drv.edu_copy_from_device(edu, 0, 14))}`);
  t.log(`edu_copy_to_device(edu, 64, 14) = ${t.call(pdev, () => drv.edu_copy_to_device(edu, 64, 14))}`);
  t.log(`edu's buffer at 64: '${new TextDecoder().decode(dev.dma_buf.subarray(64, 78))}'`);
  t.unbind(pdev);
}
