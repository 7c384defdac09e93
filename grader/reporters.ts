// Output formats for CI and tools: JUnit XML and GitHub Classroom's autograding result.
import type { Course } from './course.ts';
import type { ProofResult } from './verify.ts';

function esc(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function suite_name(r: ProofResult): string {
  return r.mode === 'exercises' ? r.exercise : `${r.exercise} [${r.mode === 'mutants' ? `mutant ${r.mutant}` : r.mode.replace(/s$/, '')}]`;
}

/** JUnit XML: one <testsuite> per graded item, one <testcase> per hidden test (proof modes add
 *  one testcase for the proof itself). */
export function junit(results: ProofResult[]): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const failures = results.filter((r) => !r.ok).length;
  out.push(`<testsuites name="dmalab" tests="${results.length}" failures="${failures}">`);
  for (const r of results) {
    const v = r.verdict;
    const cases: string[] = [];
    const time = ((v?.ms ?? 0) / 1000).toFixed(3);
    if (r.mode !== 'exercises') {
      cases.push(
        `    <testcase classname="${esc(suite_name(r))}" name="${esc(`proof: ${r.what}`)}" time="${time}">` +
          (r.ok ? '' : `<failure message="${esc(r.what)}" type="proof"/>`) +
          '</testcase>',
      );
    } else {
      for (const e of v?.errors ?? []) {
        cases.push(`    <testcase classname="${esc(r.exercise)}" name="${esc(e.kind)}"><failure message="${esc(e.message)}" type="${e.kind}">${esc(loc(e))}</failure></testcase>`);
      }
      for (const t of v?.tests ?? []) {
        const body = t.passed
          ? ''
          : t.state === 'skipped'
            ? '<skipped/>'
            : `<failure message="${esc(t.message ?? 'failed')}" type="${t.error?.kind ?? 'failure'}">${esc(
                [t.message ?? '', ...t.diagnostics.flatMap((d) => [d.message, ...d.sites.map((s) => `${s.label}: ${s.file}:${s.line}:${s.col}`)])].join('\n'),
              )}</failure>`;
        cases.push(`    <testcase classname="${esc(r.exercise)}" name="${esc(t.name)}" time="${(t.ms / 1000).toFixed(3)}">${body}</testcase>`);
      }
    }
    const fails = cases.filter((c) => c.includes('<failure')).length;
    out.push(`  <testsuite name="${esc(suite_name(r))}" tests="${cases.length}" failures="${fails}" time="${time}">`);
    out.push(...cases);
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
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
      message: r.ok ? null : r.what,
      test_code: `npm run verify -- --only ${ex.id}`,
      filename: `exercises/${ex.id}/${ex.files[0]}`,
      line_no: first?.line ?? 0,
      execution_time: `${((r.verdict?.ms ?? 0) / 1000).toFixed(2)}s`,
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
