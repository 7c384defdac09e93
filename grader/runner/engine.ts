// One vitest instance that runs hidden test files against chosen targets, warm.
//
// Each (exercise, target) pair becomes a tiny generated test file under .dmalab/runs/ that
// points grader/lib/target.ts at the target and imports the hidden test. So one vitest run can
// grade a learner's exercise, or every solution, stub and mutant of the course in parallel,
// while hidden tests stay ordinary vitest files (docs/contracts.md §2).
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createVitest, type TestCase, type TestModule, type Vitest } from 'vitest/node';
import { type Course, REPO_ROOT, paths } from '../course.ts';
import type { Exercise } from '../lib/manifest-types.ts';
import { report_of } from '../lib/report.ts';
import { DEFAULT_SEED, seed_hex } from '../lib/seed.ts';
import { site_plugins } from '../lib/site-plugin.ts';
import { SIM_NATIVE } from '../../sim/site/which.ts';
import { expected_exports, stub_exports } from '../stub-exports.ts';
import { TypeChecker, type TypeCheckResult } from '../typecheck.ts';
import {
  type ErrorInfo,
  type Frame,
  type TestVerdict,
  type Variant,
  type Verdict,
  to_verdict_diagnostic,
  variant_key,
} from '../verdict.ts';
import { build_files, item_type_errors, with_build } from './build.ts';
import type { StuckFrame } from './stuck.ts';
import { type TestAnnouncement, WarmPool } from './warm-pool.ts';

/** Imported by every generated test file: says in time which test runs (see announce.ts). */
const ANNOUNCE = fileURLToPath(new URL('./announce.ts', import.meta.url));

/** The simulator's modules (sim/site/which.ts's SIM_NATIVE): sim-loader.mjs loads them natively. */
export const SIM_EXTERNAL = SIM_NATIVE;

/** `DMALAB_TIMING=1`: where each run's time went, on stderr (for finding what to make faster). */
const TIMING = !!process.env.DMALAB_TIMING;

/** A watchdog limit this short is one a cold type check's CPU could push tests towards. */
const TIGHT_LIMIT_MS = 10_000;

export interface RunItem {
  exercise: Exercise;
  variant: Variant;
  /** absolute directory holding the NN-name/ folders (exercises/, solutions/, a mutant root) */
  target: string;
  /** content hash of the graded files, copied into the verdict */
  hash?: string;
  /** the seed its machines are built with (default 0x5eed) */
  seed?: number;
  /** which generated file it runs as: items graded in one run need distinct (variant, slot) pairs
   *  (verify --seeds grades several seeds of an item at once) */
  slot?: number;
}

export interface EngineOptions {
  /** parallel test workers (default 1) */
  workers?: number;
  /** warm processes kept idle between runs (watch: 1; one-shot: 0) */
  spares?: number;
  /** watchdog: wall-clock limit for one hidden test (it restarts as each test starts), ms */
  timeout_ms?: number;
  /** vitest's per-test timeout for async tests, ms (default: below the watchdog) */
  test_timeout_ms?: number;
  /** called when a hidden test starts (for "running …" displays) */
  on_test_start?: (item: RunItem, name: string) => void;
  /** files to type-check at once, so the checker is warm for the first grade (watch mode) */
  warm_types?: string[];
  /** split one item's hidden tests over `n` workers once its tests took `min_ms` or more in
   *  all (watch mode: a long file's verdict comes back in about 1/n of the time) */
  shard?: { n: number; min_ms: number };
}

/** Which of a file's tests one shard runs (announce.ts skips the others): `of` gives each
 *  known test's shard, by full name; a test not in it goes by its index, round-robin. */
export interface Shard { k: number; n: number; of: Record<string, number> }

export class Engine {
  private constructor(
    readonly course: Course,
    readonly vitest: Vitest,
    readonly pool: WarmPool,
    private opts: EngineOptions,
    /** the build step (runner/build.ts) */
    private checker: TypeChecker,
  ) {}

  private running: Promise<unknown> | null = null;
  private current = new Map<string, { item: RunItem; test?: string }>();
  private cancelled = false;

  static async create(course: Course, opts: EngineOptions = {}): Promise<Engine> {
    const workers = opts.workers ?? 1;
    const pool = new WarmPool({ spares: opts.spares ?? 0, initial: workers, timeout_ms: opts.timeout_ms ?? 4000 });
    pool.prewarm();
    // started first: its cold start (parsing the sim's headers) overlaps vitest's
    const checker = new TypeChecker(course.root);
    if (opts.warm_types?.length) void checker.check(opts.warm_types);
    let engine: Engine | undefined;
    const plugins = await site_plugins(REPO_ROOT);
    const vitest = await createVitest(
      'test',
      {
        root: course.root,
        config: false,
        watch: true,
        pool: pool.initializer() as never,
        maxWorkers: workers,
        isolate: true,
        fileParallelism: workers > 1,
        include: ['.dmalab/runs/**/*.test.ts'],
        // The simulator runs as a native module in the warm workers (runner/sim-loader.mjs):
        // loaded once, hot from one save to the next. Driver files still go through Vite.
        server: { deps: { external: [SIM_EXTERNAL] } },
        reporters: [
          {
            onTestCaseReady(t: TestCase) {
              const c = engine?.current.get(t.module.moduleId);
              if (c) {
                c.test = t.fullName;
                engine!.opts.on_test_start?.(c.item, t.fullName);
              }
            },
          },
        ],
        testTimeout: opts.test_timeout_ms ?? Math.max(1000, (opts.timeout_ms ?? 4000) - 500),
        hookTimeout: opts.test_timeout_ms ?? Math.max(1000, (opts.timeout_ms ?? 4000) - 500),
        provide: { dmalab_target: paths.exercises(course), dmalab_seed: DEFAULT_SEED },
        includeTaskLocation: true,
        passWithNoTests: true,
        ...(TIMING ? { experimental: { importDurations: { limit: 20 } } } : {}),
      },
      {
        // >>> INTEGRATION POINT: sim/site/vite-plugin.ts (call sites), loaded by site_plugins()
        plugins,
        server: { watch: null },
        cacheDir: join(course.root, '.dmalab', 'vite'),
        logLevel: 'silent',
      },
    );
    await vitest.standalone();
    engine = new Engine(course, vitest, pool, opts, checker);
    return engine;
  }

  /** each exercise's stub exports (git is asked once per exercise) */
  private stubs = new Map<string, ReturnType<typeof stub_exports>>();

  /** The generated test file for one item. Rewritten only when it changes. */
  private wrapper(item: RunItem, shard?: Shard): string {
    const file = join(paths.runs(this.course), variant_key(item.variant), item.slot ? String(item.slot) : '', shard ? `shard-${shard.k}` : '',
      `${item.exercise.id}.test.ts`);
    const test = paths.test(this.course, item.exercise);
    const ex = item.exercise;
    if (!this.stubs.has(ex.id)) this.stubs.set(ex.id, stub_exports(this.course, ex));
    const exports = expected_exports(this.course, ex, item.target, this.stubs.get(ex.id)!);
    const body =
      `// Generated by the dmalab grader: ${item.exercise.test} against ${item.target}\n` +
      `(globalThis as { __dmalab_target?: string }).__dmalab_target = ${JSON.stringify(item.target)};\n` +
      `(globalThis as { __dmalab_seed?: number }).__dmalab_seed = ${seed_hex(item.seed ?? DEFAULT_SEED)};\n` +
      `(globalThis as { __dmalab_exports?: unknown }).__dmalab_exports = ${JSON.stringify(exports)};\n` +
      `(await import(${JSON.stringify(ANNOUNCE)})).announce(${shard ? JSON.stringify(shard) : ''});\n` +
      `await import(${JSON.stringify(test)});\n`;
    if (!existsSync(file) || readFileSync(file, 'utf8') !== body) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, body);
      this.vitest.invalidateFile(file);
      this.vitest.watcher.invalidates.add(file);
    }
    return file;
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /**
   * A newer save arrived: the run in progress is stale. A short run is left to finish (its
   * verdict is discarded by the caller); one still running after `grace_ms` has its worker
   * killed, which ends the run at once. (vitest's own cancelCurrentRun is not used: it waits
   * for a graceful stop, and a killed worker would leave it waiting for ever.)
   */
  cancel(grace_ms = 250): void {
    if (!this.running || this.kill_timer) return;
    this.cancelled = true;
    // A killed worker comes back cold (a second or two before its code is hot again): a run
    // about to end is cheaper to wait for. So the grace stretches to what is left of the run,
    // by its items' last times, up to 2 s.
    const left = this.run_expected_ms - (performance.now() - this.run_started);
    this.kill_timer = setTimeout(() => {
      this.kill_timer = undefined;
      if (this.running) this.pool.kill_active();
    }, Math.min(2000, Math.max(grace_ms, left * 1.2)));
  }

  /** When the run in progress started, and how long its items' last runs took (ms). */
  private run_started = 0;
  private run_expected_ms = 0;
  private last_ms = new Map<string, number>();

  private kill_timer: NodeJS.Timeout | undefined;

  /**
   * Build and run the hidden tests for each item; one verdict per item, in order. A warm type
   * check (tens of ms) runs alongside the tests, and stops them when every item fails it. A
   * cold one (seconds of CPU: the sim's headers) would slow the tests towards a tight
   * wall-clock limit (the watcher's 3 s): under one, it is left to finish first when it is
   * under way (Engine.create's warm_types), else it runs after them. Under verify's 60 s it
   * runs alongside.
   */
  async run(items: RunItem[]): Promise<Verdict[]> {
    while (this.running) await this.running.catch(() => {});
    const tight = (this.opts.timeout_ms ?? 4000) <= TIGHT_LIMIT_MS;
    if (tight && !this.checker.warm) await this.checker.idle();
    const files = items.flatMap(build_files);
    const along = this.checker.warm || !tight ? this.checker.check(files) : undefined;
    let p: Promise<Verdict[]> | undefined;
    void along?.then((r) => {
      if (r?.diagnostics && p && this.running === p && items.every((it) => item_type_errors(it, r).length > 0)) this.cancel();
    });
    p = this.run_now(items).then(async (vs) => {
      // A worker lost to an infrastructure hiccup (not the watchdog, not a cancel): run once more.
      const again = vs.map((v, i) => (infra_error(v) && !this.cancelled ? i : -1)).filter((i) => i >= 0);
      if (again.length) {
        const redo = await this.run_now(again.map((i) => items[i]!));
        again.forEach((i, k) => (vs[i] = redo[k]!));
      }
      const t_tests = performance.now();
      const r: TypeCheckResult | undefined = await (along ?? this.checker.check(files));
      if (TIMING) process.stderr.write(`dmalab timing: types ${r?.ms ?? '-'} ms, waited ${Math.round(performance.now() - t_tests)} ms after the tests\n`);
      return vs.map((v, i) => with_build(this.course.root, items[i]!, v, r));
    });
    this.running = p;
    try {
      return await p;
    } finally {
      this.running = null;
      if (this.kill_timer) clearTimeout(this.kill_timer);
      this.kill_timer = undefined;
    }
  }

  /** Each exercise's tests' last times in ms, by full name (what shards are balanced on). */
  private times = new Map<string, Map<string, number>>();

  /** The shards to split `item` into: none for a short file, or when several items share the
   *  run (they already keep the workers busy). An exercise's first run is split by index, times
   *  unknown: it warms both workers' code for the saves to come. */
  private shards_of(item: RunItem, alone: boolean): Shard[] {
    const o = this.opts.shard;
    if (!o || !alone) return [];
    const t = this.times.get(item.exercise.id) ?? new Map<string, number>();
    let total = 0;
    for (const ms of t.values()) total += ms;
    if (t.size && total < o.min_ms) return [];
    // Longest first, each to the shard with the least so far.
    const load = new Array<number>(o.n).fill(0);
    const of: Record<string, number> = {};
    for (const [name, ms] of [...t].sort((a, b) => b[1] - a[1])) {
      const k = load.indexOf(Math.min(...load));
      of[name] = k;
      load[k]! += ms;
    }
    return Array.from({ length: o.n }, (_, k) => ({ k, n: o.n, of }));
  }

  private async run_now(items: RunItem[]): Promise<Verdict[]> {
    this.cancelled = false;
    const t0 = performance.now();
    this.run_started = t0;
    this.run_expected_ms = Math.max(0, ...items.map((it) => this.last_ms.get(it.exercise.id) ?? 0));
    const byItem = new Map<RunItem, string[]>();
    const project = this.vitest.getRootProject();
    const specs = [];
    for (const item of items) {
      // Re-read the target's files in the main process and in whichever warm worker runs them:
      // vitest's workers keep fetched module code across runs unless told which files changed.
      const dir = join(item.target, item.exercise.id);
      const files = new Set(item.exercise.files);
      try {
        for (const f of readdirSync(dir)) if (/\.[cm]?[jt]s$/.test(f)) files.add(f);
      } catch {
        // the exercise directory is gone: the verdict says so
      }
      for (const f of files) {
        const path = join(dir, f);
        this.vitest.invalidateFile(path);
        this.vitest.watcher.invalidates.add(path);
      }
      const shards = this.shards_of(item, items.length === 1);
      const ws = shards.length ? shards.map((sh) => this.wrapper(item, sh)) : [this.wrapper(item)];
      byItem.set(item, ws);
      for (const w of ws) {
        this.current.set(w, { item });
        this.pool.timed_out.delete(w);
        this.pool.stuck.delete(w);
        this.pool.progress.delete(w);
        specs.push(project.createSpecification(w));
      }
    }
    let modules: readonly TestModule[] = [];
    let unhandled: readonly unknown[] = [];
    try {
      const r = await this.vitest.runTestSpecifications(specs, false);
      modules = r.testModules;
      unhandled = r.unhandledErrors;
    } catch (e) {
      unhandled = [e];
    }
    const ms = Math.round(performance.now() - t0);
    if (!this.cancelled) for (const it of items) this.last_ms.set(it.exercise.id, ms);
    if (TIMING) timing(ms, modules.filter((m) => [...byItem.values()].some((ws) => ws.includes(m.moduleId))));
    const verdicts: Verdict[] = [];
    for (const [item, ws] of byItem) {
      const parts = ws.map((file) => this.to_verdict(item, modules.find((m) => m.moduleId === file), file, ms, unhandled));
      const v = parts.length > 1 ? merge_shards(parts) : parts[0]!;
      for (const w of ws) this.current.delete(w);
      // A cancelled run graded content that is gone (often a save caught half-written): its
      // times say nothing about the file's.
      if (!this.cancelled) this.note_times(item, v);
      verdicts.push(v);
    }
    return verdicts;
  }

  private note_times(item: RunItem, v: Verdict): void {
    if (v.timed_out_s !== undefined || v.tests.length === 0) return;
    const t = new Map<string, number>();
    for (const x of v.tests) if (x.state === 'passed' || x.state === 'failed') t.set(x.name, x.ms);
    if (t.size) this.times.set(item.exercise.id, t);
  }

  /** True when the last run was cancelled (its verdicts are stale). */
  get was_cancelled(): boolean {
    return this.cancelled;
  }

  private to_verdict(item: RunItem, mod: TestModule | undefined, file: string, ms: number, unhandled: readonly unknown[]): Verdict {
    const root = this.course.root;
    const errors: ErrorInfo[] = [];
    const tests: TestVerdict[] = [];
    const missing = item.exercise.files.filter((f) => !existsSync(join(item.target, item.exercise.id, f)));
    for (const f of missing) {
      errors.push({ kind: 'missing', message: `${relp(root, join(item.target, item.exercise.id, f))} is missing (deleted or renamed?)`, file: relp(root, join(item.target, item.exercise.id, f)) });
    }
    const limit = this.pool.timed_out.get(file);
    // What the worker announced as it went (announce.ts): after a kill, the only word on the
    // tests whose results vitest had not sent yet, and on the one that never ended.
    const progress = this.pool.progress.get(file);
    const hung_id = limit !== undefined ? [...(progress ?? [])].find(([, p]) => p.running)?.[0] : undefined;
    let hung: TestVerdict | undefined;
    if (mod) {
      for (const e of mod.errors()) errors.push(to_error(root, item, e));
      for (const t of mod.children.allTests()) {
        let v = to_test(root, item, t);
        const p = progress?.get(t.id);
        if (limit !== undefined && lost(v) && p && !p.running) v = announced_test(root, item, v.name, p);
        if (t.id === hung_id) hung = v;
        tests.push(v);
      }
    }
    if (limit !== undefined) {
      const name = hung?.name ?? (hung_id !== undefined ? progress?.get(hung_id)?.name : undefined);
      const frames = learner_frames(root, item, this.pool.stuck.get(file) ?? []);
      const at = frames[0];
      const why = at ? `stuck at ${at.file}:${at.line}:${at.col}${at.method ? ` (${at.method})` : ''}` : 'an infinite loop, or a wait that never ends?';
      errors.splice(missing.length, 0, {
        kind: 'timeout',
        message: `timed out after ${fmt_s(limit)} s${name ? ` in "${name}"` : ''}: ${why}`,
        ...(at ? { file: at.file, line: at.line, col: at.col, frames } : {}),
      });
    }
    for (const e of unhandled) {
      const path = (e as { VITEST_TEST_PATH?: string })?.VITEST_TEST_PATH;
      if (path === undefined || path === file) {
        if (limit !== undefined && /exited unexpectedly|emitted error/.test(String((e as Error)?.message))) continue;
        errors.push(to_error(root, item, e));
      }
    }
    // One syntax error or missing export, not one per test that tried to load the driver.
    hoist(tests, errors, 'syntax', 'the driver does not compile');
    hoist(tests, errors, 'export', 'the driver lacks an export the grader looks for');
    if (limit !== undefined) {
      for (const t of tests) {
        if (lost(t)) {
          t.state = 'failed';
          t.message = t === hung ? `timed out after ${fmt_s(limit)} s` : 'not run (the worker was stopped)';
        }
      }
      // drop vitest's own noise about the killed worker
      for (let i = errors.length - 1; i >= 0; i--) {
        if (errors[i]!.kind !== 'timeout' && /exited unexpectedly|emitted error|Cancelled/.test(errors[i]!.message)) errors.splice(i, 1);
      }
    }
    if (!mod && errors.length === 0) errors.push({ kind: 'load', message: 'the hidden tests did not run' });
    if (mod && tests.length === 0 && errors.length === 0) errors.push({ kind: 'load', message: `${item.exercise.test} has no tests` });
    const passed = errors.length === 0 && tests.length > 0 && tests.every((t) => t.passed);
    return {
      event: 'verdict',
      exercise: item.exercise.id,
      variant: item.variant.kind,
      ...(item.variant.mutant ? { mutant: item.variant.mutant } : {}),
      passed,
      ms,
      file_ms: file_ms(mod) ?? ms,
      seed: item.seed ?? DEFAULT_SEED,
      ...(item.hash ? { hash: item.hash } : {}),
      tests,
      errors,
      ...(limit !== undefined ? { timed_out_s: limit / 1000 } : {}),
    };
  }

  async close(): Promise<void> {
    // vitest waits for its workers to stop gracefully; a killed one never answers, so bound it
    this.pool.kill_active();
    await Promise.race([this.vitest.close().catch(() => {}), new Promise((r) => setTimeout(r, 1500).unref())]);
    this.pool.close();
    this.checker.close();
  }
}

/** One verdict from the verdicts of an item's shards: each test as the shard that ran it says
 *  (the others skipped it), the errors of all (once each), the time of all. */
export function merge_shards(parts: Verdict[]): Verdict {
  const first = parts[0]!;
  const tests = first.tests.map((t, i) => {
    for (const p of parts) {
      const x = p.tests[i]?.name === t.name ? p.tests[i]! : p.tests.find((y) => y.name === t.name);
      if (x && x.state !== 'skipped') return x;
    }
    return t;
  });
  const errors: ErrorInfo[] = [];
  const seen = new Set<string>();
  for (const p of parts) {
    for (const e of p.errors) {
      const key = `${e.kind}\0${e.message}`;
      if (!seen.has(key)) { seen.add(key); errors.push(e); }
    }
  }
  const limits = parts.map((p) => p.timed_out_s).filter((x): x is number => x !== undefined);
  const passed = errors.length === 0 && tests.length > 0 && tests.every((t) => t.passed);
  const { timed_out_s: _, ...rest } = first;
  return {
    ...rest,
    passed,
    file_ms: parts.reduce((n, p) => n + p.file_ms, 0),
    tests,
    errors,
    shards: parts.length,
    ...(limits.length ? { timed_out_s: Math.max(...limits) } : {}),
  };
}

/** Move the first error of `kind` some tests failed with to the run's errors (first), and leave
 *  those tests a short message. */
function hoist(tests: TestVerdict[], errors: ErrorInfo[], kind: ErrorInfo['kind'], message: string): void {
  const e = tests.map((t) => t.error).find((x) => x?.kind === kind) ?? errors.find((x) => x.kind === kind);
  if (!e) return;
  if (!errors.includes(e)) errors.unshift(e);
  for (const t of tests) {
    if (t.error?.kind === kind) {
      delete t.error;
      t.message = message;
    }
  }
}

/** The file's own time in its worker: its tests and hooks, not the whole run's (what JUnit and
 *  Classroom report per exercise). Not its import either: the first file in a cold worker would
 *  carry the loading of the whole sim. None for a file whose worker was killed. */
function file_ms(mod: TestModule | undefined): number | undefined {
  const d = mod?.diagnostic();
  return d && d.duration > 0 ? Math.round(d.duration) : undefined;
}

/** A test vitest has no result for: still pending, or failed without a word when its worker died. */
function lost(t: TestVerdict): boolean {
  return t.state === 'pending' || (t.state === 'failed' && !t.error && !t.message);
}

/** A test whose end only the worker's announcement told (vitest's report was lost with the
 *  killed worker). */
function announced_test(root: string, item: RunItem, name: string, p: Extract<TestAnnouncement, { __dmalab_test__: 'end' }>): TestVerdict {
  const report = report_of(p.meta);
  const error = p.state === 'failed' && p.errors[0] ? to_error(root, item, p.errors[0]) : undefined;
  return {
    name,
    passed: p.state === 'passed',
    state: p.state,
    ms: Math.round(p.ms),
    ...(error ? { message: error.message, error } : {}),
    diagnostics: (report?.diagnostics ?? []).map(to_verdict_diagnostic),
    ...(report ? { report } : {}),
  };
}

function infra_error(v: Verdict): boolean {
  return v.timed_out_s === undefined && v.errors.some((e) => /\[vitest-pool\]|dmalab: test worker stopped/.test(e.message));
}

function fmt_s(ms: number): string {
  return (ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1);
}

function relp(root: string, p: string): string {
  if (p.startsWith('file://')) p = p.slice(7);
  return p.startsWith(root + '/') ? p.slice(root.length + 1) : p;
}

function to_test(root: string, item: RunItem, t: TestCase): TestVerdict {
  const r = t.result();
  const report = report_of(t.meta() as Record<string, unknown>);
  const errs = r.state === 'failed' ? (r.errors ?? []) : [];
  const error = errs.length ? to_error(root, item, errs[0]) : undefined;
  const state = r.state === 'passed' || r.state === 'failed' || r.state === 'skipped' ? r.state : 'pending';
  return {
    name: t.fullName,
    passed: state === 'passed',
    state,
    ms: Math.round(t.diagnostic()?.duration ?? 0),
    ...(error ? { message: error.message, error } : {}),
    diagnostics: (report?.diagnostics ?? []).map(to_verdict_diagnostic),
    ...(report ? { report } : {}),
  };
}

interface SerializedErr {
  message?: string;
  name?: string;
  stack?: string;
  stacks?: { file: string; line: number; column: number; method?: string }[];
  __vitest_rollup_error__?: { id?: string; plugin?: string };
  loc?: { file?: string; line: number; column: number };
  id?: string;
}

const ANSI = /\x1b\[[0-9;]*m/g;
export function strip_ansi(s: string): string {
  return s.replace(ANSI, '');
}

/** The frames of a stuck worker that are the item's own files, course-relative. */
function learner_frames(root: string, item: RunItem, stack: readonly StuckFrame[]): Frame[] {
  const dir = join(item.target, item.exercise.id) + '/';
  return stack
    .filter((f) => f.file.startsWith(dir))
    .map((f) => ({ file: relp(root, f.file), line: f.line, col: f.col, ...(f.fn ? { method: f.fn } : {}) }));
}

/** Classify an error vitest reported, and keep the learner's frames. */
export function to_error(root: string, item: RunItem, raw: unknown): ErrorInfo {
  const e = (raw ?? {}) as SerializedErr;
  const message = strip_ansi(String(e.message ?? raw));
  const target_dir = join(item.target, item.exercise.id) + '/';
  const mine = (f: string) => f.replace(/^file:\/\//, '').startsWith(target_dir);
  if (e.name === 'DmalabExportError') {
    const file = /^dmalab: (\S+) does not export/.exec(message)?.[1];
    return { kind: 'export', message, ...(file ? { file } : {}) };
  }
  // Syntax errors: Vite's transform (oxc) names the file and the location.
  const syn = syntax_error(e, message);
  if (syn && mine(syn.file)) {
    return { kind: 'syntax', message: syn.message, file: relp(root, syn.file), line: syn.line, col: syn.col };
  }
  const frames: Frame[] = (e.stacks ?? [])
    .filter((s) => mine(s.file))
    .map((s) => ({ file: relp(root, s.file), line: s.line, col: s.column, ...(s.method ? { method: s.method.replace(/^Module\./, '') } : {}) }));
  const assertion = /AssertionError/.test(e.name ?? '') || 'expected' in (e as object);
  const kind: ErrorInfo['kind'] = assertion ? 'assertion' : syn ? 'load' : frames.length || /Error$/.test(e.name ?? '') ? 'exception' : 'load';
  const head = !assertion && e.name && e.name !== 'Error' && !message.startsWith(e.name) ? `${e.name}: ${message}` : message;
  return { kind, message: head, ...(frames[0] ? { file: frames[0].file, line: frames[0].line, col: frames[0].col, frames } : {}) };
}

function syntax_error(e: SerializedErr, message: string): { file: string; line: number; col: number; message: string } | undefined {
  const id = e.__vitest_rollup_error__?.id ?? e.id;
  const parse = /Transform failed|PARSE_ERROR|SyntaxError|Expected|Unexpected/.test(message) || e.name === 'SyntaxError';
  if (!parse || (!id && !/\.ts:\d+:\d+/.test(message))) return undefined;
  const at = /([^\s[\]]+\.ts):(\d+):(\d+)/.exec(message);
  const file = id ?? at?.[1] ?? '';
  const lines = message.split('\n');
  const head = lines.find((l) => /^\[[A-Z_]+\]/.test(l.trim())) ?? lines.find((l) => l.trim() && !/^Transform failed/.test(l)) ?? lines[0] ?? '';
  const text = head.replace(/^\s*\[[A-Z_]+\]\s*/, '').replace(/^Transform failed with \d+ errors?:\s*/, '').trim();
  // keep the code frame (oxc draws it with box characters)
  const frame = lines
    .slice(lines.indexOf(head) + 1)
    .filter((l) => /[│╭╰┬]/.test(l) && !/\[ .*:\d+:\d+ \]/.test(l))
    .map((l) => l.replace(/\s+$/, ''));
  return {
    file,
    line: at ? Number(at[2]) : (e.loc?.line ?? 0),
    col: at ? Number(at[3]) : (e.loc?.column ?? 0),
    message: [text || 'syntax error', ...frame].join('\n'),
  };
}

/** DMALAB_TIMING: a run's phases per generated file, from vitest's module diagnostics. */
function timing(ms: number, modules: readonly TestModule[]): void {
  const parts = modules.map((m) => {
    const d = m.diagnostic();
    const r = (x: number) => Math.round(x);
    return `${m.moduleId.replace(/.*\//, '')}: env ${r(d.environmentSetupDuration)} prepare ${r(d.prepareDuration)} ` +
      `collect ${r(d.collectDuration)} setup ${r(d.setupDuration)} tests ${r(d.duration)} [` +
      Object.entries(d.importDurations).sort((a, b) => b[1].totalTime - a[1].totalTime).slice(0, 6)
        .map(([f, t]) => `${f.replace(/.*\/(grader|solutions|exercises|sim)\//, '$1/')} ${r(t.selfTime)}/${r(t.totalTime)}`).join(', ') + ']';
  });
  process.stderr.write(`dmalab timing: run ${ms} ms · ${parts.join(' · ')}\n`);
}
