// What the grader concludes from one run of an exercise's hidden tests against one target.
// This is also the `verdict` event of `--json` (NDJSON), so keep it plain data.
import type { Diagnostic, TestReport } from './lib/report.ts';

export type VariantKind = 'exercise' | 'solution' | 'stub' | 'mutant';

export interface Variant {
  kind: VariantKind;
  /** mutant id when kind is 'mutant' */
  mutant?: string;
}

export interface Frame {
  file: string;
  line: number;
  col: number;
  method?: string;
}

export interface ErrorInfo {
  /** syntax: the driver does not parse; build: a type error (no hidden test ran); timeout:
   *  killed by the watchdog; exception: thrown by code (learner's or sim's); assertion: a test's
   *  expect failed; load: the test file could not run; missing: a file of the exercise is gone;
   *  export: the driver lacks an export the grader looks for */
  kind: 'syntax' | 'build' | 'timeout' | 'exception' | 'assertion' | 'load' | 'missing' | 'export';
  message: string;
  /** build: TypeScript's code, 'TS2345' */
  code?: string;
  /** where, relative to the course root, when known */
  file?: string;
  line?: number;
  col?: number;
  /** the learner's frames (course-relative), innermost first */
  frames?: Frame[];
}

export interface VerdictDiagnostic {
  code: string;
  /** the kernel's text, lines joined with '\n' */
  message: string;
  /** first call site, course-relative (null when the checker had none) */
  file: string | null;
  line: number | null;
  col: number | null;
  origin: Diagnostic['origin'];
  lines: string[];
  sites: Diagnostic['sites'];
  lesson?: string;
  /** virtual time (ns) of its first occurrence: where the timeline draws it */
  time_ns?: number;
  /** set when it happened more than once (the same complaint from the same lines) */
  count?: number;
}

export interface TestVerdict {
  name: string;
  passed: boolean;
  state: 'passed' | 'failed' | 'skipped' | 'pending';
  ms: number;
  /** the assertion error the test wrote for the learner */
  message?: string;
  error?: ErrorInfo;
  diagnostics: VerdictDiagnostic[];
  /** NDJSON without --details keeps a failing test's first diagnostics; this counts the rest */
  more_diagnostics?: number;
  report?: TestReport;
}

export interface Verdict {
  event: 'verdict';
  exercise: string;
  variant: VariantKind;
  mutant?: string;
  passed: boolean;
  /** wall-clock ms of the run that produced it (a run may grade several items at once) */
  ms: number;
  /** this item's own time in its worker: its tests and hooks (JUnit, Classroom) */
  file_ms: number;
  /** the seed its machines were built with; `verify --seed` with it replays the run */
  seed: number;
  /** content hash of the graded files (exercise variant) */
  hash?: string;
  tests: TestVerdict[];
  /** errors outside any one test: syntax or type errors, timeout, a test file that failed to load */
  errors: ErrorInfo[];
  /** set when the watchdog killed the run */
  timed_out_s?: number;
  /** how many workers ran its tests at once (watch mode splits a long file: engine.ts) */
  shards?: number;
}

export function to_verdict_diagnostic(d: Diagnostic): VerdictDiagnostic {
  const s = d.sites?.[0];
  return {
    code: d.code,
    message: (d.lines ?? []).join('\n'),
    file: s?.file ?? null,
    line: s?.line ?? null,
    col: s?.col ?? null,
    origin: d.origin,
    lines: d.lines ?? [],
    sites: d.sites ?? [],
    time_ns: d.time_ns ?? 0,
    ...(d.lesson ? { lesson: d.lesson } : {}),
    ...((d.count ?? 1) > 1 ? { count: d.count } : {}),
  };
}

export function variant_key(v: Variant): string {
  return v.kind === 'mutant' ? `mutant-${v.mutant}` : v.kind;
}

export function variant_label(v: Variant): string {
  return v.kind === 'mutant' ? `mutant ${v.mutant}` : v.kind;
}

/** All diagnostic codes reported by failing tests of a verdict. */
export function failing_codes(v: Verdict): Set<string> {
  const codes = new Set<string>();
  for (const t of v.tests) if (!t.passed) for (const d of t.diagnostics) codes.add(d.code);
  return codes;
}

/** What a failing test's report keeps in NDJSON without `--details`: the end of dmesg and of the
 *  trace, as much as a screen shows (the run's whole tails are `--details`). */
export const JSON_TAIL = { dmesg: 10, trace: 10, diagnostics: 8 };

/**
 * A verdict as an NDJSON line. Without `details`, a passing (or skipped) test is its name, state
 * and time; a failing one keeps its diagnostics (once: its report's copy is dropped) and the last
 * JSON_TAIL lines of dmesg and trace. Reports were ~10 KB a test (a mutant's verdict line was
 * 181 KB); this bounds a line by what fails.
 */
export function verdict_json(v: Verdict, details = false): string {
  if (details) return JSON.stringify(v);
  const tests = v.tests.map((t): TestVerdict => {
    const { report, ...rest } = t;
    if (!report || t.passed || t.state === 'skipped') return rest;
    const { diagnostics: _, dmesg, trace, events: _e, ...r } = report;
    // A driver that fails the same way on every buffer reports hundreds of diagnostics (09's wrong-pool mutant made
    // a 424 KB line): keep the first few, as the screen does, and say how many more there were.
    const more = rest.diagnostics.length - JSON_TAIL.diagnostics;
    const bounded = more > 0 ? { diagnostics: rest.diagnostics.slice(0, JSON_TAIL.diagnostics), more_diagnostics: more } : {};
    return {
      ...rest,
      ...bounded,
      report: { ...r, dmesg: dmesg.slice(-JSON_TAIL.dmesg), trace: trace.slice(-JSON_TAIL.trace) } as TestReport,
    };
  });
  return JSON.stringify({ ...v, tests });
}

/** The type errors that failed the build (empty when it built). */
export function build_errors(v: Verdict): ErrorInfo[] {
  return v.errors.filter((e) => e.kind === 'build');
}
