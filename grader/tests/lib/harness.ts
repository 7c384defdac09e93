// What every hidden test does, once: build a machine, run the learner's driver on it, collect
// what the kernel, dma-debug and dmalab said plus the test's own findings (wrong data, wrong
// results), attach it all for the grader (docs/contracts.md §3), and fail with a message
// written for the learner.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import * as sim from '#sim/testing';
import type { Code, Diagnostic, MachineOptions, pci_dev, pci_driver, ShapeName } from '#sim/testing';
import type { FaultKind, FaultPoint } from '../../../sim/kernel/fault.ts';
import { attach_report, type TestReport } from '../../lib/report.ts';
import { section_naming } from '../../lib/slug.ts';
import { test_seed } from '../../lib/target.ts';

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

/** A test's own finding; `after` = how many of the machine's diagnostics came before it. */
interface Finding { code: Code; lines: string[]; time_ns: number; after: number }

/** Thrown to stop a test body once the driver has crashed. */
export class Stop extends Error {}

/** A driver that spun until the watchdog stopped it will spin in the next test too: after the
 *  first soft lockup of a run, later tests get a short real-time budget, so every test reports
 *  its lockup within the grader's time limit instead of the limit killing the run. (This module
 *  is loaded afresh for every run.) */
const WALL_BUDGET_MS = 1500, WALL_BUDGET_AFTER_LOCKUP_MS = 250;
let previous: sim.Machine | null = null;
let locked_up = false;

export class Run {
  readonly m: sim.Machine;
  readonly findings: Finding[] = [];
  readonly data: string[] = [];

  constructor(readonly opts: RunOptions) {
    locked_up ||= !!previous?.diag.list.some((d) => d.code === 'SOFT_LOCKUP');
    // The last test's machine is done with (its report is attached): its buffers go to this one.
    previous?.retire();
    this.m = sim.machine({ shape: opts.shape ?? 'x86', seed: opts.seed ?? test_seed(),
      wall_budget_ms: locked_up ? WALL_BUDGET_AFTER_LOCKUP_MS : WALL_BUDGET_MS, ...opts });
    previous = this.m;
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
    // After an oops the kernel panics (oops=panic): nothing more of the test can run.
    if (this.crashes() > before || this.m.panicked) throw new Stop(`${drv.name}: probe crashed`);
    return r;
  }

  /** Probe and require success. */
  bind_ok(drv: pci_driver, pdev: pci_dev): void {
    const r = this.bind(drv, pdev);
    if (r !== 0) {
      this.finding('PROBE_FAILED', `probe of ${pdev.dev.init_name} failed with error ${errno_str(r)}; it should succeed on this machine`);
      throw new Stop('probe failed');
    }
  }

  unbind(pdev: pci_dev): void {
    const before = this.crashes();
    sim.unbind(pdev);
    if (this.crashes() > before || this.m.panicked) throw new Stop('remove crashed');
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
    this.findings.push({ code, lines, time_ns: this.m.clock.now, after: this.m.diag.list.length });
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
    // In the order things happened: each finding after what the machine had said by then.
    const all: TestReport['diagnostics'] = [];
    let i = 0;
    for (const f of this.findings) {
      while (i < f.after && i < r.diagnostics.length) all.push(r.diagnostics[i++]!);
      all.push({ code: f.code, origin: 'dmalab', lines: f.lines.map((l) => `dmalab: ${l}`), sites: [], lesson: this.opts.lesson, time_ns: f.time_ns });
    }
    all.push(...r.diagnostics.slice(i));
    return { ...r, diagnostics: all };
  }
}

/** A value in a message: an errno as '-5 (-EIO)', a larger number with its hex, text as it is. */
function fmt(v: unknown): string {
  if (typeof v === 'number' && v < 0) return errno_str(v);
  if (typeof v === 'number') return Number.isInteger(v) && v > 9 ? `${v} (0x${(v >>> 0).toString(16)})` : String(v);
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export const { errno_str } = sim;
/** A kernel pointer as %px prints it (ffff8880047d2000), a physical or DMA address as %pa and
 *  %pad do (0x00000000047d2000); a value that is not a number as it is. */
export const ptr = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? sim.px(v) : String(v));
export const addr = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? sim.pa(v) : String(v));

type Listed = { code: string; lesson?: string };

/**
 * The codes of what a failing test lists, in order, each once: a code listed more than once
 * says how often ("KFREE_MAPPED (×2)"), and one the test expected says so ("SWIOTLB_FULL
 * (expected here)"), so the summary names everything the grader prints under it.
 */
export function codes_summary(listed: Listed[], allow: ReadonlySet<string> = new Set()): string {
  const n = new Map<string, number>();
  for (const d of listed) n.set(d.code, (n.get(d.code) ?? 0) + 1);
  return [...n].map(([c, k]) => `${c}${k > 1 ? ` (×${k})` : ''}${allow.has(c) ? ' (expected here)' : ''}`).join(', ');
}

/** "1 problem [machine x86, seed 0x5eed]: LEAK_RESOURCES": what went wrong, where it can be
 *  replayed, and the code of every diagnostic the grader lists under it. */
export function summary(what: string | null, shape: string, seed: number, listed: Listed[], allow: ReadonlySet<string> = new Set()): string {
  const head = what ?? `${listed.length} problem${listed.length === 1 ? '' : 's'}`;
  const codes = codes_summary(listed, allow);
  return `${head} [machine ${shape}, seed 0x${seed.toString(16)}]${codes ? `: ${codes}` : ''}`;
}

const REPO = new URL('../../../', import.meta.url);

/** The lesson section to read: the first diagnostic that failed the test says what went wrong,
 *  so its section comes first; the test's own section when none did (or its lesson is not
 *  written yet). Where the test's own lesson explains that code too, its section there wins: the
 *  learner is reading that lesson, and there the code is explained in the exercise's terms. */
export function lesson_for(failing: Listed[], test_lesson: string | undefined): string | undefined {
  const own = test_lesson?.split('#')[0];
  for (const d of failing) {
    const file = d.lesson?.split('#')[0];
    if (own && file !== own) {
      const anchor = section_naming(fileURLToPath(new URL(own, REPO)), d.code);
      if (anchor) return `${own}#${anchor}`;
    }
    if (file && existsSync(new URL(file, REPO))) return d.lesson;
  }
  return test_lesson;
}

/** A test's options with its lesson pointer in `lesson`'s section `section` (the exercises' `opts(shape, section)`). */
export const lesson_opts = (lesson: string) => (shape: ShapeName, section: string, o: Partial<RunOptions> = {}): RunOptions =>
  ({ shape, lesson: `${lesson}#${section}`, ...o });

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
  const allow = new Set<string>(opts.allow ?? []);
  const problems = report.diagnostics.filter((d) => !allow.has(d.code));
  const failed = !!stopped || problems.length > 0;
  if (failed) {
    report.lesson = lesson_for(problems, opts.lesson);
    report.events = sim.trace_events(EVENTS);
  }
  attach_report(ctx, report);
  // One line: the grader prints each diagnostic in full under it. It counts and names every
  // diagnostic listed, those the test expected too (they are printed with the rest).
  if (failed) fail(summary(stopped, r.shape, r.m.seed, report.diagnostics, allow));
  return r;
}

/** expect.fail(), with no stack: vitest maps each frame of a failed test's stack through source
 *  maps in the grader's process, reading and scanning every file on it (vitest's own chunks, the
 *  sim's modules): 30-50 ms of a failing save. Where the harness threw says nothing to a learner;
 *  the failure's report says what went wrong. */
function fail(message: string): never {
  try {
    expect.fail(message);
  } catch (e) {
    if (e instanceof Error) e.stack = `${e.name}: ${e.message}`;
    throw e;
  }
}

/** The trace events a failing test attaches for the browser's timeline: the last this many. */
const EVENTS = 2000;

/** Codes reported in a run (for tests that expect a particular diagnostic). */
export function codes_of(r: Run): string[] {
  return r.report().diagnostics.map((d) => d.code);
}

/** Leak checks whose code's lesson section is about unbind (§ Remove); after a failed probe the
 *  sweep's own section (what probe must undo) is the one to read. */
const UNBIND_LEAKS = new Set<string>(['LEAK_RESOURCES', 'LEAK_MEMORY']);

function ordinal(n: number): string {
  const t = n % 100;
  return `${n}${t >= 11 && t <= 13 ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

/**
 * fail-nth over probe: count the injection points a successful probe passes, then fail each
 * in turn. Every run must end with probe returning an error (or succeeding, if the driver can
 * do without what failed) and nothing left behind; a probe that succeeded must unbind cleanly.
 */
export function probe_fault_sweep(ctx: Ctx, drv: pci_driver, opts: RunOptions & {
  setup?: (r: Run) => pci_dev;
  /** Which points to fail (1-based numbers; default every one): a shape whose unwinding is the
   *  same code at every point of a long run of them may fail a few of that run. */
  pick?: (points: FaultPoint[]) => number[];
}): void {
  const setup = opts.setup ?? ((r: Run) => r.plug_edu().pdev);
  const allow = new Set<string>(opts.allow ?? []);
  // First, with nothing injected: probe must succeed (as in every other test).
  const counting = new Run(opts);
  const pdev0 = setup(counting);
  let stopped: string | null = null;
  try {
    counting.bind_ok(drv, pdev0);
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    stopped = e.message;
  }
  const points = counting.m.faults.points.slice(0, counting.m.faults.count);
  if (stopped) {
    const report = counting.report();
    report.lesson = lesson_for(report.diagnostics.filter((d) => !allow.has(d.code)), opts.lesson);
    report.events = sim.trace_events(EVENTS);
    attach_report(ctx, report);
    fail(summary(stopped, counting.shape, counting.m.seed, report.diagnostics, allow));
  }
  const picked = opts.pick ? opts.pick(points) : points.map((p) => p.n);
  // Taken now: the next Run retires this machine.
  const counted = counting.report();
  for (const n of picked) {
    const r = new Run({ ...opts, fail_nth: n });
    const pdev = setup(r);
    let ret = 0;
    let crashed: string | null = null;
    let probe_diags = 0;
    try {
      ret = r.bind(drv, pdev);
      probe_diags = r.m.diag.list.length;
      if (ret === 0) r.unbind(pdev);
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
      crashed = e.message;
    }
    // A point that did not crash and left nothing beyond `allow` passes, with no report built
    // (one formats the log and the trace's tail).
    if (!crashed && r.m.diag.list.every((d) => allow.has(d.code)) && r.findings.every((f) => allow.has(f.code))) continue;
    const report = r.report();
    // What a failed probe left behind is about its error path, not about remove.
    if (ret !== 0) {
      report.diagnostics.forEach((d, i) => {
        if (i < probe_diags && UNBIND_LEAKS.has(d.code)) d.lesson = opts.lesson;
      });
    }
    report.lesson = lesson_for(report.diagnostics.filter((d) => !allow.has(d.code)), opts.lesson);
    report.events = r.m.trace.dump(EVENTS);
    attach_report(ctx, report);
    const inj = r.m.faults.injected;
    const at = inj ? sim.site_where(inj.site) : '';
    const fault = `with a fault injected into the ${ordinal(n)} of ${points.length} calls that can fail (${inj?.kind ?? '?'}${at ? ` at ${at}` : ''})`;
    const outcome = crashed ? crashed.replace(/^[^:]*: /, '') : `probe returned ${errno_str(ret)}${ret === 0 ? ' and remove ran' : ''}`;
    const listed = report.diagnostics;
    fail(`${fault}, ${outcome}, then ${summary(null, r.shape, r.m.seed, listed, allow)}`);
  }
  attach_report(ctx, counted);
}

export type { Diagnostic };
