// One-shot grading: the learner's exercises as they stand, or the proofs that the course is
// sound (every solution passes, every pristine stub fails, every mutant is caught with its
// expected diagnostic codes), on one seed or many. All items go through one warm vitest instance.
import { type Course, CourseError, hash_files, paths } from './course.ts';
import type { Exercise } from './lib/manifest-types.ts';
import { materialise_mutant, materialise_stubs, snapshot_drift } from './materialise.ts';
import { DEFAULT_SEED, seed_hex } from './lib/seed.ts';
import { build_files } from './runner/build.ts';
import { Engine, type RunItem } from './runner/engine.ts';
import { build_line } from './ui/format.ts';
import { type TestVerdict, type Verdict, build_errors, failing_codes } from './verdict.ts';

export type Mode = 'exercises' | 'solutions' | 'stubs' | 'mutants';

/** One hidden test over every seed it ran on. */
export interface TestSeeds {
  name: string;
  /** its own time, summed over the seeds */
  ms: number;
  skipped: boolean;
  failed_seeds: number[];
  /** the first failure, as that seed's verdict has it */
  failure?: TestVerdict;
}

export interface ProofResult {
  event: 'proof';
  exercise: string;
  mode: Mode;
  mutant?: string;
  /** true when it held on every seed */
  ok: boolean;
  /** one line for people */
  what: string;
  /** the seeds it was graded on, and those it did not hold on */
  seeds: number[];
  failed_seeds: number[];
  /** the command that replays the first seed it did not hold on */
  replay?: string;
  /** its own time over every seed (the verdicts' file_ms) */
  ms: number;
  /** the verdict of the first seed it did not hold on, else of the first seed */
  verdict?: Verdict;
  /** every hidden test over the seeds (for JUnit) */
  tests?: TestSeeds[];
}

export interface VerifyOptions {
  modes: Mode[];
  only?: string[];
  workers?: number;
  timeout_ms?: number;
  /** the seeds to grade on (default [0x5eed]); `seeds_by_mode` overrides it per mode */
  seeds?: number[];
  seeds_by_mode?: Partial<Record<Mode, number[]>>;
  /** called as results arrive (for --json streaming and progress) */
  on_result?: (r: ProofResult) => void;
  /** called with each seed's verdict: `ok` is whether it held on that seed */
  on_verdict?: (v: Verdict, ok: boolean, first: boolean) => void;
}

/** Files graded in one vitest run at most: every seed is a target of its own in the same warm
 *  engine, a batch of seeds at a time, so memory stays bounded under `--seeds 100`. */
const BATCH_FILES = 360;

export async function verify(course: Course, opts: VerifyOptions): Promise<ProofResult[]> {
  const only = opts.only?.length ? new Set(opts.only) : undefined;
  const exs = course.exercises.filter((e) => !only || only.has(e.id));
  const results: ProofResult[] = [];
  const emit = (r: ProofResult) => {
    results.push(r);
    opts.on_result?.(r);
  };
  const refuse = (ex: Exercise, mode: Mode, what: string, mutant?: string) =>
    emit({ event: 'proof', exercise: ex.id, mode, ...(mutant ? { mutant } : {}), ok: false, what, seeds: [], failed_seeds: [], ms: 0 });
  const items: { item: RunItem; seeds: number[] }[] = [];
  for (const mode of opts.modes) {
    const seeds = opts.seeds_by_mode?.[mode] ?? opts.seeds ?? [DEFAULT_SEED];
    const add = (item: RunItem) => items.push({ item, seeds });
    if (mode === 'exercises') {
      for (const ex of exs) {
        add({ exercise: ex, variant: { kind: 'exercise' }, target: paths.exercises(course), hash: hash_files(paths.exercises(course), ex) });
      }
    } else if (mode === 'solutions') {
      for (const ex of exs) add({ exercise: ex, variant: { kind: 'solution' }, target: paths.solutions(course) });
    } else if (mode === 'stubs') {
      for (const ex of exs) {
        const drift = snapshot_drift(course, ex);
        if (drift.length) {
          refuse(ex, mode, `grader/stubs/${ex.id}/ differs from the committed exercises/${ex.id}/ (${drift.join(', ')}): run \`npm run stubs\``);
          continue;
        }
        try {
          const root = materialise_stubs(course, new Set([ex.id]));
          add({ exercise: ex, variant: { kind: 'stub' }, target: root });
        } catch (e) {
          if (!(e instanceof CourseError)) throw e;
          refuse(ex, mode, e.message);
        }
      }
    } else if (mode === 'mutants') {
      for (const ex of exs) {
        for (const m of ex.mutants) {
          try {
            add({ exercise: ex, variant: { kind: 'mutant', mutant: m.id }, target: materialise_mutant(course, ex, m) });
          } catch (e) {
            if (!(e instanceof CourseError)) throw e;
            refuse(ex, mode, e.message, m.id);
          }
        }
      }
    }
  }
  if (items.length === 0) return results;
  const tally = items.map(() => new Tally());
  const warm_types = items.flatMap((x) => build_files(x.item));
  const engine = await Engine.create(course, { workers: opts.workers ?? 2, timeout_ms: opts.timeout_ms ?? 60_000, warm_types });
  try {
    // The k-th seed of an item runs as its generated file number k - from: distinct within a run.
    const most = Math.max(...items.map((x) => x.seeds.length));
    const per_run = Math.max(1, Math.floor(BATCH_FILES / items.length));
    for (let from = 0; from < most; from += per_run) {
      const batch: { at: number; item: RunItem }[] = [];
      items.forEach((x, at) => {
        x.seeds.slice(from, from + per_run).forEach((seed, k) => batch.push({ at, item: { ...x.item, seed, slot: k } }));
      });
      const verdicts = await engine.run(batch.map((b) => b.item));
      verdicts.forEach((v, i) => {
        const { at, item } = batch[i]!;
        const j = judge(item, v);
        tally[at]!.add(v, j);
        opts.on_verdict?.(v, j.ok, v.seed === items[at]!.seeds[0]);
      });
    }
  } finally {
    await engine.close();
  }
  items.forEach((x, i) => emit(tally[i]!.result(course, x.item, x.seeds)));
  return results;
}

/** What one item's seeds add up to. */
class Tally {
  private first?: { v: Verdict; j: ProofResult };
  private failed?: { v: Verdict; j: ProofResult };
  private failed_seeds: number[] = [];
  private ms = 0;
  private tests = new Map<string, TestSeeds>();

  add(v: Verdict, j: ProofResult): void {
    this.first ??= { v, j };
    if (!j.ok) {
      this.failed ??= { v, j };
      this.failed_seeds.push(v.seed);
    }
    this.ms += v.file_ms;
    for (const t of v.tests) {
      let s = this.tests.get(t.name);
      if (!s) this.tests.set(t.name, (s = { name: t.name, ms: 0, skipped: true, failed_seeds: [] }));
      s.ms += t.ms;
      s.skipped &&= t.state === 'skipped';
      if (!t.passed && t.state !== 'skipped') {
        s.failed_seeds.push(v.seed);
        s.failure ??= t;
      }
    }
  }

  result(course: Course, item: RunItem, seeds: number[]): ProofResult {
    const shown = this.failed ?? this.first!;
    const n = seeds.length;
    const bad = this.failed_seeds;
    const on = bad.length
      ? ` on seed ${seed_hex(bad[0]!)}${n > 1 ? ` (${bad.length} of ${n} seeds)` : ''}`
      : n > 1 ? ` on ${n} seeds` : '';
    const { event, exercise, mode, mutant } = shown.j;
    return {
      event,
      exercise,
      mode,
      ...(mutant ? { mutant } : {}),
      ok: bad.length === 0,
      what: shown.j.what + on,
      seeds,
      failed_seeds: bad,
      ...(bad.length ? { replay: replay_command(course, item, bad[0]!) } : {}),
      ms: this.ms,
      verdict: shown.v,
      tests: [...this.tests.values()],
    };
  }
}

/** `npm run verify -- --mutants --only 05 --seed 0x1a2b`: grades that item again on that seed. */
export function replay_command(course: Course, item: RunItem, seed: number): string {
  const flag = { exercise: '', solution: ' --solutions', stub: ' --stubs', mutant: ' --mutants' }[item.variant.kind];
  const short = /^\d+-/.test(item.exercise.id) ? item.exercise.id.split('-')[0]! : item.exercise.id;
  const unique = course.exercises.filter((e) => e.id.startsWith(short + '-') || e.id === short).length === 1;
  return `npm run verify --${flag} --only ${unique ? short : item.exercise.id} --seed ${seed_hex(seed)}`;
}

export function judge(item: RunItem, v: Verdict): ProofResult {
  const ex: Exercise = item.exercise;
  const failing = v.tests.filter((t) => !t.passed).length;
  const base = { event: 'proof' as const, exercise: ex.id, verdict: v, seeds: [v.seed], failed_seeds: [], ms: v.file_ms };
  // A stub or mutant must build: it fails its tests, not the compiler.
  const unbuilt = build_errors(v).length ? `does not build: ${build_summary(v)}` : undefined;
  switch (item.variant.kind) {
    case 'exercise':
      return {
        ...base,
        mode: 'exercises',
        ok: v.passed,
        what: v.passed ? `${ex.id} passes` : `${ex.id} fails: ${summary(v)}`,
      };
    case 'solution':
      return { ...base, mode: 'solutions', ok: v.passed, what: v.passed ? `solution of ${ex.id} passes` : `solution of ${ex.id} fails: ${summary(v)}` };
    case 'stub':
      return {
        ...base,
        mode: 'stubs',
        ok: !v.passed && !unbuilt,
        what: v.passed
          ? `the untouched stub of ${ex.id} passes its hidden tests`
          : unbuilt
            ? `the stub of ${ex.id} ${unbuilt}`
            : `the stub of ${ex.id} fails (${failing || 'all'} of ${v.tests.length} tests)`,
      };
    case 'mutant': {
      const m = ex.mutants.find((x) => x.id === item.variant.mutant)!;
      const codes = failing_codes(v);
      const missing = m.expect.filter((c) => !codes.has(c));
      const ok = !v.passed && missing.length === 0 && !unbuilt;
      const what = v.passed
        ? `mutant ${ex.id}/${m.id} (${m.description}) survives: every hidden test passes`
        : unbuilt
          ? `mutant ${ex.id}/${m.id} ${unbuilt}`
          : missing.length
          ? `mutant ${ex.id}/${m.id} fails without ${missing.join(', ')} (reported: ${[...codes].join(', ') || 'no diagnostics'}${v.errors[0] ? `; ${v.errors[0].message.split('\n')[0]}` : ''})`
          : `mutant ${ex.id}/${m.id} caught (${m.expect.join(', ')})`;
      return { ...base, mode: 'mutants', mutant: m.id, ok, what };
    }
  }
}

function summary(v: Verdict): string {
  if (build_errors(v).length) return `the build failed: ${build_summary(v)}`;
  if (v.errors.length) return v.errors[0]!.message.split('\n')[0]!;
  const bad = v.tests.filter((t) => !t.passed);
  return `${bad.length} of ${v.tests.length} hidden tests fail${bad[0] ? ` (first: ${bad[0].name})` : ''}`;
}

/** `2 type errors, first exercises/…/driver.ts:42:13 TS2345 Argument of type …` */
function build_summary(v: Verdict): string {
  const errs = build_errors(v);
  const n = errs.filter((e) => e.code).length;
  return n ? `${n} type error${n === 1 ? '' : 's'}, first ${build_line(errs[0]!)}` : build_line(errs[0]!);
}
