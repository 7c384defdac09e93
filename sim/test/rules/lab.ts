// Shared by the rule and machine tests: a machine with edu bound to the lab driver
// (sim/test/drivers/lab.ts), and checks on what a diagnostic says and where it points.
import { expect } from 'vitest';
import { machine, plug_edu, bind, run, diagnostics, explain, type Diagnostic, type Code, type MachineOptions,
  type ShapeName, type Machine, type pci_dev, type Edu } from '../../testing/index.ts';
import { lab_driver, lab_of, type lab, type LabCfg } from '../drivers/lab.ts';

export const DRIVER_FILE = 'sim/test/drivers/lab.ts';

export interface Lab { m: Machine; pdev: pci_dev; edu: Edu; l: lab; ret: number }

/** A machine of `shape` with edu plugged and the lab driver bound with `cfg`. */
export function setup(shape: ShapeName, cfg: Partial<LabCfg> = {}, opts: MachineOptions = {}, before?: (m: Machine) => void): Lab {
  const m = machine({ shape, seed: 1, ...opts });
  const { pdev, edu } = plug_edu();
  before?.(m);
  const ret = bind(lab_driver(cfg), pdev);
  return { m, pdev, edu, l: ret === 0 ? lab_of(pdev) : (null as unknown as lab), ret };
}

/** Run a driver operation on behalf of the bound driver (throws if the driver crashed). */
export function drv<R>(x: Lab, fn: (l: lab) => R): R {
  return run(x.pdev, () => fn(x.l));
}

/** The diagnostics with this code. */
export function with_code(code: Code): Diagnostic[] {
  return diagnostics().filter((d) => d.code === code);
}

/** Exactly one report of `code`, whose text matches `text` and whose call sites (with these
 *  labels, in the lab driver) are known; returns it. */
export function caught(code: Code, text: RegExp, labels: string[] = []): Diagnostic {
  const list = with_code(code);
  expect(list.length, `expected ${code}; got:\n${explain()}`).toBeGreaterThanOrEqual(1);
  const d = list[0]!;
  expect(d.lines.join('\n')).toMatch(text);
  for (const label of labels) {
    const s = d.sites.find((x) => x.label === label);
    expect(s, `${code}: no '${label}' site in ${JSON.stringify(d.sites)}`).toBeDefined();
    expect(s!.site.file).toBe(DRIVER_FILE);
    expect(s!.site.line).toBeGreaterThan(0);
    expect(s!.site.col).toBeGreaterThan(0);
    expect(s!.site.fn).toMatch(/^lab_/);
  }
  return d;
}

/** Nothing at all was reported (with the reports in the failure message). */
export function clean(): void {
  expect(diagnostics().map((d) => d.code), explain()).toEqual([]);
}

/** Physical RAM as the device sees it (bypassing the CPU cache and the checker). */
export function ram_bytes(m: Machine, phys: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  m.ram.read(phys, b, 0, len);
  return b;
}

export function count_equal(a: Uint8Array, byte: number): number {
  let n = 0;
  for (const x of a) if (x === byte) n++;
  return n;
}
