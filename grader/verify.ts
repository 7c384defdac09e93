// One-shot grading: the learner's exercises as they stand, or the proofs that the course is
// sound (every solution passes, every pristine stub fails, every mutant is caught with its
// expected diagnostic codes). All items go through one vitest instance in one run.
import { type Course, CourseError, hash_files, paths } from './course.ts';
import type { Exercise } from './lib/manifest-types.ts';
import { materialise_mutant, materialise_stubs, snapshot_drift } from './materialise.ts';
import { Engine, type RunItem } from './runner/engine.ts';
import { type Verdict, failing_codes } from './verdict.ts';

export type Mode = 'exercises' | 'solutions' | 'stubs' | 'mutants';

export interface ProofResult {
  event: 'proof';
  exercise: string;
  mode: Mode;
  mutant?: string;
  ok: boolean;
  /** one line for people */
  what: string;
  verdict?: Verdict;
}

export interface VerifyOptions {
  modes: Mode[];
  only?: string[];
  workers?: number;
  timeout_ms?: number;
  /** called as results arrive (for --json streaming and progress) */
  on_result?: (r: ProofResult) => void;
}

export async function verify(course: Course, opts: VerifyOptions): Promise<ProofResult[]> {
  const only = opts.only?.length ? new Set(opts.only) : undefined;
  const exs = course.exercises.filter((e) => !only || only.has(e.id));
  const results: ProofResult[] = [];
  const emit = (r: ProofResult) => {
    results.push(r);
    opts.on_result?.(r);
  };
  const items: RunItem[] = [];
  for (const mode of opts.modes) {
    if (mode === 'exercises') {
      for (const ex of exs) {
        items.push({ exercise: ex, variant: { kind: 'exercise' }, target: paths.exercises(course), hash: hash_files(paths.exercises(course), ex) });
      }
    } else if (mode === 'solutions') {
      for (const ex of exs) items.push({ exercise: ex, variant: { kind: 'solution' }, target: paths.solutions(course) });
    } else if (mode === 'stubs') {
      for (const ex of exs) {
        const drift = snapshot_drift(course, ex);
        if (drift.length) {
          emit({ event: 'proof', exercise: ex.id, mode, ok: false, what: `grader/stubs/${ex.id}/ differs from the committed exercises/${ex.id}/ (${drift.join(', ')}): run \`npm run stubs\`` });
          continue;
        }
        try {
          const root = materialise_stubs(course, new Set([ex.id]));
          items.push({ exercise: ex, variant: { kind: 'stub' }, target: root });
        } catch (e) {
          if (!(e instanceof CourseError)) throw e;
          emit({ event: 'proof', exercise: ex.id, mode, ok: false, what: e.message });
        }
      }
    } else if (mode === 'mutants') {
      for (const ex of exs) {
        if (ex.mutants.length === 0) continue;
        for (const m of ex.mutants) {
          try {
            items.push({ exercise: ex, variant: { kind: 'mutant', mutant: m.id }, target: materialise_mutant(course, ex, m) });
          } catch (e) {
            if (!(e instanceof CourseError)) throw e;
            emit({ event: 'proof', exercise: ex.id, mode, mutant: m.id, ok: false, what: e.message });
          }
        }
      }
    }
  }
  if (items.length === 0) return results;
  const engine = await Engine.create(course, { workers: opts.workers ?? 2, timeout_ms: opts.timeout_ms ?? 60_000 });
  try {
    const verdicts = await engine.run(items);
    verdicts.forEach((v, i) => emit(judge(items[i]!, v)));
  } finally {
    await engine.close();
  }
  return results;
}

export function judge(item: RunItem, v: Verdict): ProofResult {
  const ex: Exercise = item.exercise;
  const failing = v.tests.filter((t) => !t.passed).length;
  const base = { event: 'proof' as const, exercise: ex.id, verdict: v };
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
        ok: !v.passed,
        what: v.passed ? `the untouched stub of ${ex.id} passes its hidden tests` : `the stub of ${ex.id} fails (${failing || 'all'} of ${v.tests.length} tests)`,
      };
    case 'mutant': {
      const m = ex.mutants.find((x) => x.id === item.variant.mutant)!;
      const codes = failing_codes(v);
      const missing = m.expect.filter((c) => !codes.has(c));
      const ok = !v.passed && missing.length === 0;
      const what = v.passed
        ? `mutant ${ex.id}/${m.id} (${m.description}) survives: every hidden test passes`
        : missing.length
          ? `mutant ${ex.id}/${m.id} fails without ${missing.join(', ')} (reported: ${[...codes].join(', ') || 'no diagnostics'}${v.errors[0] ? `; ${v.errors[0].message.split('\n')[0]}` : ''})`
          : `mutant ${ex.id}/${m.id} caught (${m.expect.join(', ')})`;
      return { ...base, mode: 'mutants', mutant: m.id, ok, what };
    }
  }
}

function summary(v: Verdict): string {
  if (v.errors.length) return v.errors[0]!.message.split('\n')[0]!;
  const bad = v.tests.filter((t) => !t.passed);
  return `${bad.length} of ${v.tests.length} hidden tests fail${bad[0] ? ` (first: ${bad[0].name})` : ''}`;
}
