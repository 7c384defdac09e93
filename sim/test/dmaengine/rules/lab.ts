// Shared by the engine rule tests: a machine with the bundled controller (sim/hw/dmac.ts and
// its provider) and the engine lab client (sim/test/drivers/engine_lab.ts) bound to a node of
// its own (memcpy) or to the UART (slave); checks on what a report says and where it points.
import { expect } from 'vitest';
import { machine, plug_dmac, plug_node, plug_uart, load_platform, run, diagnostics, explain, type Diagnostic, type Code,
  type ShapeName, type platform_device, type Dmac, type DmacOptions, type Uart } from '../../../testing/index.ts';
import { dmac_driver } from '../../../drivers/dma/dmac.ts';
import { elab_driver, type elab, type ElabCfg } from '../../drivers/engine_lab.ts';

export const DRIVER_FILE = 'sim/test/drivers/engine_lab.ts';

export interface Lab { ctrl: platform_device; hw: Dmac; pdev: platform_device; l: elab; uart: Uart | null }

/** The controller (probed), then the lab client bound to its node. */
export function setup(shape: ShapeName, cfg: Partial<ElabCfg> = {}, dmac: DmacOptions = {}): Lab {
  machine({ shape, seed: 3 });
  load_platform(dmac_driver);
  const { pdev: ctrl, hw } = plug_dmac(dmac);
  load_platform(elab_driver(cfg));
  let pdev: platform_device, uart: Uart | null = null;
  if (cfg.mode === 'slave') ({ pdev, uart } = plug_uart({ pdev: ctrl, hw }, { rx: 3, tx: 4 }));
  else pdev = plug_node('engine-lab', ['dmalab,engine-lab']);
  expect(pdev.dev.driver?.name, explain()).toBe('engine-lab');
  return { ctrl, hw, pdev, l: pdev.dev.driver_data as elab, uart };
}

/** Run lab driver code on behalf of the bound driver. */
export function drv<R>(x: Lab, fn: (l: elab) => R): R {
  return run(x.pdev, () => fn(x.l));
}

export function with_code(code: Code): Diagnostic[] {
  return diagnostics().filter((d) => d.code === code);
}

/** A report of `code` whose text matches and whose labelled sites are lines of the lab driver
 *  in these functions (in order); returns it. */
export function caught(code: Code, text: RegExp, sites: ([string, string] | [string, string, string])[] = []): Diagnostic {
  const list = with_code(code);
  expect(list.length, `expected ${code}; got:\n${explain()}`).toBeGreaterThanOrEqual(1);
  const d = list[0]!;
  expect(d.origin).toBe('dmalab');
  expect(d.lines.join('\n')).toMatch(text);
  for (const [label, fn, file] of sites) {
    const s = d.sites.find((x) => x.label === label);
    expect(s, `${code}: no '${label}' site in ${JSON.stringify(d.sites)}`).toBeDefined();
    expect(s!.site.file).toBe(file ?? DRIVER_FILE);
    expect(s!.site.line).toBeGreaterThan(0);
    if (fn) expect(s!.site.fn).toBe(fn);
  }
  return d;
}

/** No engine report at all, and nothing else either unless allowed. */
export function clean(allow: Code[] = []): void {
  expect(diagnostics().map((d) => d.code).filter((c) => !allow.includes(c)), explain()).toEqual([]);
}
