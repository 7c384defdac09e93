// The playground run of exercise 06 (npm run try -- 06 [--shape arm64]): bind, exchange two
// commands with the device (a stand-in firmware answers each one), ping it, unbind.
import type { Playground } from '../try.ts';
import type * as Solution from '../../solutions/06-what-you-can-map/driver.ts';
import { attach_firmware, edu_reply_for } from '../tests/lib/edu-firmware.ts';

function hex(b: Uint8Array, n = 8): string {
  return [...b.subarray(0, n)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}

export default function workload(t: Playground, drv: typeof Solution): void {
  const { pdev, edu: dev } = t.plug_edu();
  attach_firmware(dev);
  if (t.bind(drv.edu_driver, pdev) !== 0) return;
  const edu = pdev.dev.driver_data as Solution.edu_dev;
  const cmds = [new TextEncoder().encode('GET STATUS'), new TextEncoder().encode('RESET')];
  cmds.forEach((cmd, i) => {
    const got = t.call(pdev, () => drv.edu_exchange(edu, cmd));
    const want = edu_reply_for(cmd, i + 1);
    t.log(`edu_exchange(edu, '${new TextDecoder().decode(cmd)}') = ${typeof got === 'number' ? got : `[${hex(got)} ...]`} (the device replied [${hex(want)} ...])`);
  });
  const ping = t.call(pdev, () => drv.edu_ping(edu));
  t.log(`edu_ping(edu) = ${typeof ping === 'number' ? ping : `[${hex(ping)} ...]`}`);
  t.unbind(pdev);
}
