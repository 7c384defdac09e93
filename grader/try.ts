// npm run try -- NN|NAME [--shape S] [--seed X] [--solution] [--trace N]
// The playground: run one exercise's driver once on a chosen machine, or one of the DMA
// engine's workloads by name (grader/workloads/engine.ts: dmatest, cyclic, defer, pio), print
// the kernel log as it happens, then what the checker said and the last trace events. The driver runs under
// tsx with call-site rewriting (sim/site/register.ts), so a debugger can step through it
// (see the README's launch configuration).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { existsSync, readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as sim from '#sim/testing';
import { stamp } from '../sim/kernel/printk.ts';
import type { pci_dev, pci_driver, ShapeName } from '#sim/testing';
import { unique_sites } from './ui/format.ts';
import { ENGINE_WORKLOADS } from './workloads/engine.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

/** What a workload gets: the harness, with crashes turned into messages instead of exits. */
export interface Playground {
  plug_edu: typeof sim.plug_edu;
  plug_irqgen: typeof sim.plug_irqgen;
  plug_sgblk: typeof sim.plug_sgblk;
  plug_cmdq: typeof sim.plug_cmdq;
  plug_e1000: typeof sim.plug_e1000;
  bind(drv: pci_driver, pdev: pci_dev): number;
  unbind(pdev: pci_dev): void;
  call<R>(pdev: pci_dev, fn: () => R): R;
  log(text: string): void;
  machine: sim.Machine;
}

function find_exercise(arg: string): string {
  const dirs = readdirSync(path.join(ROOT, 'solutions')).filter((d) => /^\d\d-/.test(d));
  const hit = dirs.find((d) => d === arg || d.startsWith(arg.padStart(2, '0') + '-') || d.startsWith(arg));
  if (!hit) throw new Error(`no exercise '${arg}' (have: ${dirs.join(', ')})`);
  return hit;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      shape: { type: 'string', default: 'x86' },
      seed: { type: 'string', default: '0x5eed' },
      solution: { type: 'boolean', default: false },
      trace: { type: 'string', default: '30' },
      placement: { type: 'string', default: 'low' },
    },
  });
  if (!positionals[0]) {
    process.stderr.write('usage: npm run try -- NN [--shape x86|x86-iommu|x86-swiotlb|arm64|arm64-smmu] [--seed X] [--solution]\n');
    process.stderr.write(`       npm run try -- ${Object.keys(ENGINE_WORKLOADS).join('|')} [--shape S] [--seed X]   (the DMA engine)\n`);
    return 2;
  }
  const engine = ENGINE_WORKLOADS[positionals[0]];
  if (engine) {
    const m = sim.machine({ shape: values.shape as ShapeName, seed: Number(values.seed), placement: values.placement as 'low' | 'high', wall_budget_ms: 10000 });
    process.stdout.write(`== ${positionals[0]}: ${engine.about}\n== on machine ${m.shape.name}, seed 0x${m.seed.toString(16)}\n== dmesg\n`);
    return play(m, Number(values.trace), () => engine.run((s) => process.stdout.write(`   ${s}\n`)));
  }
  const id = find_exercise(positionals[0]);
  const wl = path.join(ROOT, 'grader', 'workloads', `${id}.ts`);
  if (!existsSync(wl)) throw new Error(`exercise ${id} has no playground workload yet (grader/workloads/${id}.ts)`);
  const file = path.join(ROOT, values.solution ? 'solutions' : 'exercises', id, 'driver.ts');
  const drv = await import(pathToFileURL(file).href);
  const workload = (await import(pathToFileURL(wl).href)).default as (t: Playground, drv: unknown) => void;

  const m = sim.machine({ shape: values.shape as ShapeName, seed: Number(values.seed), placement: values.placement as 'low' | 'high', wall_budget_ms: 10000 });
  process.stdout.write(`== ${id} (${path.relative(ROOT, file)}) on machine ${m.shape.name}, seed 0x${m.seed.toString(16)}\n== dmesg\n`);
  m.dmesg.echo = (l) => process.stdout.write(stamp(l) + '\n');
  for (const l of m.dmesg.lines) process.stdout.write(stamp(l) + '\n');
  const t: Playground = {
    plug_edu: sim.plug_edu,
    plug_irqgen: sim.plug_irqgen,
    plug_sgblk: sim.plug_sgblk,
    plug_cmdq: sim.plug_cmdq,
    plug_e1000: sim.plug_e1000,
    bind: (d, p) => sim.bind(d, p),
    unbind: (p) => sim.unbind(p),
    call: (p, fn) => {
      const o = sim.call(p, fn);
      if (!o.ok) throw new Error(`the driver ${o.halt === 'soft-lockup' ? 'hung' : 'crashed'}`);
      return o.value;
    },
    log: (s) => process.stdout.write(`   ${s}\n`),
    machine: m,
  };
  return play(m, Number(values.trace), () => workload(t, drv), true);
}

/** Run a workload with the kernel log echoed, then say what the checker found and the trace's
 *  tail; exit 1 if it found anything. */
function play(m: sim.Machine, trace: number, f: () => void, echoed = false): number {
  if (!echoed) {
    m.dmesg.echo = (l) => process.stdout.write(stamp(l) + '\n');
    for (const l of m.dmesg.lines) process.stdout.write(stamp(l) + '\n');
  }
  try {
    f();
  } catch (e) {
    process.stdout.write(`== stopped: ${(e as Error).message}\n`);
  }
  m.dmesg.echo = null;
  const diags = m.diag.list;
  process.stdout.write(`== the checker: ${diags.length ? `${diags.length} diagnostic${diags.length > 1 ? 's' : ''}` : 'nothing to report'}\n`);
  for (const d of diags) {
    const first = d.lines.find((l) => l && !l.startsWith('---')) ?? '';
    process.stdout.write(`   ${d.code}${d.count > 1 ? ` (×${d.count})` : ''}: ${first}\n`);
    const sites = unique_sites(d.sites.map((s) => ({ label: s.label, ...s.site })), [first]);
    for (const p of sites) process.stdout.write(`      ${p.label}: ${p.where}${p.fn ? ` (${p.fn})` : ''}${p.n > 1 ? ` (×${p.n})` : ''}\n`);
  }
  process.stdout.write(`== trace (last ${trace} events)\n`);
  for (const l of m.trace.tail(trace)) process.stdout.write(l + '\n');
  return diags.length ? 1 : 0;
}

main().then((c) => process.exit(c), (e) => { process.stderr.write(`dmalab try: ${(e as Error).message}\n`); process.exit(2); });
