// The playground run of exercise 01 (npm run try -- 01): bind, use the registers and the
// factorial engine, unbind.
import type { Playground } from '../try.ts';
import type * as Solution from '../../solutions/01-mmio-and-probe/driver.ts';

export default function workload(t: Playground, drv: typeof Solution): void {
  const { pdev } = t.plug_edu();
  if (t.bind(drv.edu_driver, pdev) !== 0) return;
  const edu = pdev.dev.driver_data as Solution.edu_dev;
  t.log(`edu_liveness(edu, 0x12345678) = 0x${(t.call(pdev, () => drv.edu_liveness(edu, 0x12345678)) >>> 0).toString(16)}`);
  for (const n of [5, 10]) t.log(`edu_factorial(edu, ${n}) = ${t.call(pdev, () => drv.edu_factorial(edu, n))}`);
  t.unbind(pdev);
}
