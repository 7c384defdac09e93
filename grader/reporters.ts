// Output formats for CI and tools: JUnit XML and GitHub Classroom's autograding result.
// (NDJSON is verdict.ts's verdict_json and verify-cli.ts.)
import type { Course } from './course.ts';
import { seed_hex } from './lib/seed.ts';
import type { ProofResult } from './verify.ts';

function esc(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** One <testcase>: `body` is its <failure/>, <skipped/> or nothing. */
function testcase(classname: string, name: string, ms: number, body = ''): string {
  return `    <testcase classname="${esc(classname)}" name="${esc(name)}" time="${secs(ms)}">${body}</testcase>`;
}

function secs(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function failure(message: string, type: string, text: string): string {
  return `<failure message="${esc(message)}" type="${esc(type)}">${esc(text)}</failure>`;
}

/** What a proof says it shows, the same on every seed (the outcome is in <failure>). */
function proof_name(r: ProofResult): string {
  if (r.mode === 'solutions') return 'the solution passes every hidden test';
  if (r.mode === 'stubs') return 'the untouched stub fails';
  return `mutant ${r.mutant} is caught`;
}

/** The testcases of one result: a learner's exercise has one per hidden test (and one per error
 *  outside any test, such as a syntax error); a proof is one. */
function cases(r: ProofResult): string[] {
  const replay = r.replay ? `\nreplay: ${r.replay}` : '';
  if (r.mode !== 'exercises') {
    return [testcase(`${r.exercise}.${r.mode.replace(/s$/, '')}`, proof_name(r), r.ms, r.ok ? '' : failure(r.what, 'proof', r.what + replay))];
  }
  const out: string[] = [];
  for (const e of r.verdict?.errors ?? []) out.push(testcase(r.exercise, e.kind, 0, failure(e.message, e.kind, loc(e) + replay)));
  for (const t of r.tests ?? []) {
    const f = t.failure;
    let body = '';
    if (t.failed_seeds.length && f) {
      const seeds = `seed ${seed_hex(t.failed_seeds[0]!)}${r.seeds.length > 1 ? `; failed on ${t.failed_seeds.length} of ${r.seeds.length} seeds` : ''}`;
      const text = [f.message ?? '', ...f.diagnostics.flatMap((d) => [d.message, ...d.sites.map((s) => `${s.label}: ${s.file}:${s.line}:${s.col}`)])];
      body = failure(`${(f.message ?? 'failed').split('\n')[0]} [${seeds}]`, f.error?.kind ?? 'failure', text.join('\n') + replay);
    } else if (t.skipped) body = '<skipped/>';
    out.push(testcase(r.exercise, t.name, t.ms, body));
  }
  if (out.length === 0 && !r.ok) out.push(testcase(r.exercise, 'grade', r.ms, failure(r.what, 'load', r.what)));
  return out;
}

/**
 * JUnit XML: one <testsuite> per exercise, holding a <testcase> per hidden test (the learner's
 * exercises) or per proof (solution, stub, each mutant); every count of <testsuites> is the sum
 * of its suites', and times are each test's own (a suite's: its tests'). With several seeds, a
 * testcase stands for all of them: it fails if any seed did, naming the first and how many.
 */
export function junit(course: Course, results: ProofResult[]): string {
  const by = new Map<string, ProofResult[]>();
  for (const r of results) by.set(r.exercise, [...(by.get(r.exercise) ?? []), r]);
  const suites: string[] = [];
  const total = { tests: 0, failures: 0, skipped: 0, ms: 0 };
  for (const ex of [...course.exercises.map((e) => e.id), ...by.keys()]) {
    const rs = by.get(ex);
    if (!rs) continue;
    by.delete(ex);
    const cs = rs.flatMap(cases);
    const n = {
      tests: cs.length,
      failures: cs.filter((c) => c.includes('<failure')).length,
      skipped: cs.filter((c) => c.includes('<skipped/>')).length,
      ms: rs.reduce((a, r) => a + r.ms, 0),
    };
    const seeds = [...new Set(rs.flatMap((r) => r.seeds))].map(seed_hex).join(' ');
    suites.push(
      `  <testsuite name="${esc(ex)}" tests="${n.tests}" failures="${n.failures}" errors="0" skipped="${n.skipped}" time="${secs(n.ms)}">`,
      `    <properties><property name="seeds" value="${seeds}"/></properties>`,
      ...cs,
      '  </testsuite>',
    );
    total.tests += n.tests;
    total.failures += n.failures;
    total.skipped += n.skipped;
    total.ms += n.ms;
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="dmalab" tests="${total.tests}" failures="${total.failures}" errors="0" skipped="${total.skipped}" time="${secs(total.ms)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

function loc(e: { file?: string; line?: number; col?: number }): string {
  return e.file ? `${e.file}:${e.line ?? 0}:${e.col ?? 0}` : '';
}

/**
 * GitHub Classroom's autograding result (the `result` object the classroom-resources graders
 * emit and autograding-grading-reporter reads): points per exercise, all or nothing.
 */
export function classroom(course: Course, results: ProofResult[]) {
  const graded = results.filter((r) => r.mode === 'exercises');
  const tests = graded.map((r) => {
    const ex = course.exercises.find((e) => e.id === r.exercise)!;
    const points = ex.points ?? 1;
    const first = r.verdict?.errors[0] ?? r.verdict?.tests.find((t) => !t.passed)?.error;
    return {
      name: `${ex.id} ${ex.title}`,
      status: r.ok ? 'pass' : 'fail',
      message: r.ok ? null : r.what + (r.replay ? `; replay: ${r.replay}` : ''),
      test_code: `npm run verify -- --only ${ex.id}`,
      filename: `exercises/${ex.id}/${ex.files[0]}`,
      line_no: first?.line ?? 0,
      execution_time: `${(r.ms / 1000).toFixed(2)}s`,
      score: r.ok ? points : 0,
    };
  });
  const max_score = course.exercises.reduce((a, e) => a + (e.points ?? 1), 0);
  return {
    version: 1,
    status: tests.every((t) => t.status === 'pass') ? 'pass' : 'fail',
    max_score,
    tests,
  };
}
