// What every hidden test does, once: build a machine, run the learner's driver on it, collect
// what the kernel, dma-debug and dmalab said plus the test's own findings (wrong data, wrong
// results), attach it all for the grader (docs/contracts.md §3), and fail with a message
// written for the learner.
import { expect } from 'vitest';
import * as sim from '#sim/testing';
import type { Code, Diagnostic, MachineOptions, pci_dev, pci_driver, ShapeName } from '#sim/testing';
import type { FaultKind } from '../../../sim/kernel/fault.ts';
import { attach_report, type TestReport } from '../../lib/report.ts';

type Ctx = Parameters<typeof attach_report>[0];

export interface RunOptions extends MachineOptions {
  shape?: ShapeName;
  /** Fail the nth injection point (fail-nth). */
  fail_nth?: number;
  /** Count only these kinds of injection points. */
  faults?: FaultKind[];
  /** Diagnostics that are expected here and do not fail the test. */
  allow?: Code[];
  /** The lesson section to point at when this test fails. */
  lesson?: string;
}

interface Finding { code: Code; lines: string[] }

/** Thrown to stop a test body once the driver has crashed. */
class Stop extends Error {}

export class Run {
  readonly m: sim.Machine;
  readonly findings: Finding[] = [];
  readonly data: string[] = [];

  constructor(readonly opts: RunOptions) {
    this.m = sim.machine({ shape: opts.shape ?? 'x86', seed: opts.seed ?? 0x5eed, ...opts });
    if (opts.faults) this.m.faults.only = new Set(opts.faults);
    if (opts.fail_nth) this.m.faults.fail_nth = opts.fail_nth;
  }

  get shape(): ShapeName {
    return this.m.shape.name;
  }

  plug_edu(slot = 3, opts: sim.EduOptionsPublic = {}): { pdev: pci_dev; edu: sim.Edu } {
    return sim.plug_edu(slot, opts);
  }

  plug_irqgen(slot = 7): { pdev: pci_dev; gen: sim.IrqGen } {
    return sim.plug_irqgen(slot);
  }

  /** Probe; a crash in probe stops the test. Returns probe's value. */
  bind(drv: pci_driver, pdev: pci_dev): number {
    const before = this.crashes();
    const r = sim.bind(drv, pdev);
    if (this.crashes() > before) throw new Stop(`${drv.name}: probe crashed`);
    return r;
  }

  /** Probe and require success. */
  bind_ok(drv: pci_driver, pdev: pci_dev): void {
    const r = this.bind(drv, pdev);
    if (r !== 0) {
      this.finding('PROBE_FAILED', `probe of ${pdev.dev.init_name} failed with error ${r} (${errname(r)}); it should succeed on this machine`);
      throw new Stop('probe failed');
    }
  }

  unbind(pdev: pci_dev): void {
    const before = this.crashes();
    sim.unbind(pdev);
    if (this.crashes() > before) throw new Stop('remove crashed');
  }

  /** Run a driver function as a task; a crash or hang stops the test. */
  call<R>(pdev: pci_dev, what: string, fn: () => R): R {
    const o = sim.call(pdev, fn);
    if (!o.ok) throw new Stop(`${what} ${o.halt === 'soft-lockup' ? 'hung' : 'crashed'}`);
    return o.value;
  }

  private crashes(): number {
    return this.m.diag.list.filter((d) => d.code === 'OOPS' || d.code === 'SOFT_LOCKUP' || d.code === 'HUNG_TASK' || d.code === 'DMA_INVALID_DIRECTION').length;
  }

  finding(code: Code, ...lines: string[]): void {
    this.findings.push({ code, lines });
  }

  /** A driver function's result, checked. */
  expect_result(what: string, got: unknown, want: unknown): boolean {
    if (Object.is(got, want)) return true;
    this.finding('WRONG_RESULT', `${what} returned ${fmt(got)}, expected ${fmt(want)}`);
    return false;
  }

  /** Bytes the device moved (or the driver returned), checked. */
  expect_bytes(what: string, got: Uint8Array, want: Uint8Array): boolean {
    const diff = sim.compare(got, want);
    if (!diff) return true;
    this.data.push(`${what}: ${diff}`);
    this.finding('DATA_MISMATCH', `${what}: ${diff}`);
    return false;
  }

  report(): TestReport {
    const r = sim.report(this.data, this.opts.lesson) as TestReport;
    const extra = this.findings.map((f) => ({ code: f.code, origin: 'dmalab' as const, lines: f.lines.map((l) => `dmalab: ${l}`), sites: [], lesson: this.opts.lesson, time_ns: this.m.clock.now }));
    return { ...r, diagnostics: [...r.diagnostics, ...extra] };
  }
}

function fmt(v: unknown): string {
  if (typeof v === 'number' && v < 0 && v >= -4095 && ERRNO[-v]) return `${v} (-${ERRNO[-v]})`;
  if (typeof v === 'number') return Number.isInteger(v) && v > 9 ? `${v} (0x${(v >>> 0).toString(16)})` : String(v);
  return JSON.stringify(v);
}

const ERRNO: Record<number, string> = { 1: 'EPERM', 5: 'EIO', 12: 'ENOMEM', 14: 'EFAULT', 16: 'EBUSY', 19: 'ENODEV', 22: 'EINVAL', 28: 'ENOSPC', 38: 'ENOSYS', 110: 'ETIMEDOUT', 517: 'EPROBE_DEFER' };
export function errname(r: number): string {
  return r < 0 && ERRNO[-r] ? `-${ERRNO[-r]}` : String(r);
}

/** The first line of a diagnostic, shortened for an assertion message. */
function headline(d: { code: string; lines: string[] }): string {
  const l = d.lines.find((x) => !x.startsWith('---') && x.trim() !== '' && !x.startsWith('=====')) ?? d.code;
  return l.length > 220 ? l.slice(0, 217) + '...' : l;
}

/**
 * One hidden test on one machine: build it, run `body`, report, then fail with a readable
 * message if the driver crashed, the checker complained (beyond `allow`), or the test found
 * wrong data or results.
 */
export function run(ctx: Ctx, opts: RunOptions, body: (r: Run) => void): Run {
  const r = new Run(opts);
  let stopped: string | null = null;
  try {
    body(r);
  } catch (e) {
    if (e instanceof Stop) stopped = e.message;
    else throw e;
  }
  const report = r.report();
  attach_report(ctx, report);
  const allow = new Set<string>(opts.allow ?? []);
  const problems = report.diagnostics.filter((d) => !allow.has(d.code));
  const where = `[machine ${r.shape}, seed 0x${r.m.seed.toString(16)}]`;
  if (stopped || problems.length) {
    // One line: the grader prints each diagnostic in full under it.
    const codes = [...new Set(problems.map((d) => d.code))];
    const what = stopped ?? `${problems.length} problem${problems.length > 1 ? 's' : ''}`;
    expect.fail(`${what} ${where}${codes.length ? `: ${codes.join(', ')}` : ''}`);
  }
  return r;
}

/** Codes reported in a run (for tests that expect a particular diagnostic). */
export function codes_of(r: Run): string[] {
  return r.report().diagnostics.map((d) => d.code);
}

/**
 * fail-nth over probe: count the injection points a successful probe passes, then fail each
 * in turn. Every run must end with probe returning an error (or succeeding, if the driver can
 * do without what failed) and nothing left behind; a probe that succeeded must unbind cleanly.
 */
export function probe_fault_sweep(ctx: Ctx, drv: pci_driver, opts: RunOptions & { setup?: (r: Run) => pci_dev }): void {
  const setup = opts.setup ?? ((r: Run) => r.plug_edu().pdev);
  const counting = new Run(opts);
  const pdev0 = setup(counting);
  const ret0 = sim.bind(drv, pdev0);
  const points = counting.m.faults.points.slice(0, counting.m.faults.count);
  if (ret0 !== 0) {
    attach_report(ctx, counting.report());
    expect.fail(`probe failed with ${errname(ret0)} before any fault was injected [machine ${counting.shape}]`);
  }
  for (let n = 1; n <= points.length; n++) {
    const r = new Run({ ...opts, fail_nth: n });
    const pdev = setup(r);
    let ret = 0;
    try {
      ret = r.bind(drv, pdev);
      if (ret === 0) r.unbind(pdev);
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
    }
    const report = r.report();
    const bad = report.diagnostics.filter((d) => !(opts.allow ?? []).includes(d.code as Code));
    if (bad.length) {
      attach_report(ctx, report);
      const inj = r.m.faults.injected;
      const at = inj ? sim.site_where(inj.site) : '';
      expect.fail([`when injection point ${n} of ${points.length} failed (${inj?.kind ?? '?'}${at ? ` at ${at}` : ''}), probe returned ${errname(ret)} and then ${bad.length} problem${bad.length > 1 ? 's' : ''} [machine ${r.shape}, seed 0x${r.m.seed.toString(16)}]:`,
        ...bad.slice(0, 3).map((d) => `  ${headline(d)}`)].join('\n'));
    }
  }
  attach_report(ctx, counting.report());
}

export type { Diagnostic };
