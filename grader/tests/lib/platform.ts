// The harness's Run (grader/tests/lib/harness.ts) for platform drivers (exercises 11-13): load a
// driver, unbind, call into it, with a crash stopping the test as it does for PCI drivers; and
// the leak checks every engine client test ends with.
import * as sim from '#sim/testing';
import type { platform_device, platform_driver } from '#sim/testing';
import { Stop, errno_str, type Run } from './harness.ts';

function crashes(r: Run): number {
  return r.m.diag.list.filter((d) => d.code === 'OOPS' || d.code === 'SOFT_LOCKUP' || d.code === 'HUNG_TASK').length;
}

/** Register a platform driver (module load: devices already plugged are probed). */
export function load(r: Run, drv: platform_driver): void {
  const before = crashes(r);
  sim.load_platform(drv);
  if (crashes(r) > before || r.m.panicked) throw new Stop(`${drv.driver.name}: probe crashed`);
}

/** Plug a device (drivers already loaded probe it at once). */
export function plug<T>(r: Run, what: string, fn: () => T): T {
  const before = crashes(r);
  const v = fn();
  if (crashes(r) > before || r.m.panicked) throw new Stop(`${what}: probe crashed`);
  return v;
}

/** The device must be bound to `drv`; else a PROBE_FAILED finding (with the errno probe gave,
 *  from the driver core's "probe ... failed with error" line) stops the test. */
export function expect_bound(r: Run, pdev: platform_device, drv: platform_driver): void {
  if (pdev.dev.driver?.name === drv.driver.name) return;
  const line = sim.dmesg().filter((l) => l.includes(pdev.dev.init_name) && /failed with error|deferred/.test(l)).pop();
  r.finding('PROBE_FAILED', `${drv.driver.name} did not bind to ${pdev.dev.init_name}${line ? `: "${line}"` : ''}; it should on this machine`);
  throw new Stop('probe failed');
}

export function unbind(r: Run, pdev: platform_device): void {
  const before = crashes(r);
  sim.unbind_platform(pdev);
  if (crashes(r) > before || r.m.panicked) throw new Stop('remove crashed');
}

/** Call a driver function as a task on behalf of pdev's driver. */
export function call<T>(r: Run, pdev: platform_device, what: string, fn: () => T): T {
  return r.call(pdev as never, what, fn);
}

export { errno_str };
