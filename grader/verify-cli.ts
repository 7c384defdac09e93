// `npm run verify`: text, NDJSON, JUnit and Classroom outputs around verify().
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Course } from './course.ts';
import { classroom, junit } from './reporters.ts';
import { PLAIN, format_error, format_test_detail, format_verdict_brief } from './ui/format.ts';
import { type Verdict, verdict_json } from './verdict.ts';
import { type Mode, type ProofResult, verify } from './verify.ts';
import { DEFAULT_SEED, seeds_label } from './lib/seed.ts';

export interface VerifyCommandOptions {
  modes: Mode[];
  json?: boolean;
  junit?: string;
  classroom?: string;
  only?: string[];
  timeout_ms?: number;
  workers?: number;
  /** every failing test in full (format_test_detail), not one line each; in NDJSON, every
   *  test's whole report */
  details?: boolean;
  /** the seeds to grade on (default [0x5eed]) */
  seeds?: number[];
}

export async function verify_command(course: Course, o: VerifyCommandOptions): Promise<number> {
  const t0 = performance.now();
  const out = (s: string) => process.stdout.write(s);
  // What is graded: --only narrows it.
  const graded = course.exercises.filter((e) => !o.only?.length || o.only.includes(e.id));
  const seeds = o.seeds?.length ? o.seeds : [DEFAULT_SEED];
  if (o.json) out(JSON.stringify({ event: 'start', modes: o.modes, exercises: graded.map((e) => e.id), seeds }) + '\n');
  else out(`dmalab verify: ${o.modes.join(', ')} · ${graded.length} exercise${graded.length === 1 ? '' : 's'} · ${seeds_label(seeds)}\n`);
  const results = await verify(course, {
    modes: o.modes,
    only: o.only,
    timeout_ms: o.timeout_ms,
    workers: o.workers,
    seeds,
    // NDJSON: the first seed's verdict of each item, and every other seed's it did not hold on
    on_verdict(v, ok, first) {
      if (o.json && (first || !ok)) out(verdict_json(v, o.details) + '\n');
    },
    on_result(r: ProofResult) {
      if (o.json) {
        const { verdict: _v, tests: _t, ...proof } = r;
        if (r.mode !== 'exercises' || seeds.length > 1) out(JSON.stringify(proof) + '\n');
      } else {
        out(`${r.ok ? '✓' : '✗'} ${r.what}\n`);
        if (!r.ok && r.verdict && o.details) out(verdict_details(r.verdict));
        else if (!r.ok && r.verdict && r.mode !== 'mutants') out(format_verdict_brief(r.verdict, '    '));
        if (r.replay) out(`    replay: ${r.replay}\n`);
      }
    },
  });
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  const ms = Math.round(performance.now() - t0);
  if (o.junit) {
    const f = resolve(o.junit);
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, junit(course, results));
  }
  if (o.classroom) {
    const r = classroom(course, results);
    const f = resolve(o.classroom);
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, JSON.stringify(r, null, 2) + '\n');
    // In a GitHub Actions step, also expose it the way Classroom's reporter reads it.
    if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `result=${Buffer.from(JSON.stringify(r)).toString('base64')}\n`);
  }
  if (o.json) out(JSON.stringify({ event: 'summary', passed, failed, ms }) + '\n');
  else out(`${passed} passed, ${failed} failed\n`);
  return failed === 0 && results.length > 0 ? 0 : failed ? 1 : 0;
}

/** `--details`: the errors, then every failing test in full, as the watcher shows its first two. */
export function verdict_details(v: Verdict, ind = '    '): string {
  let s = '';
  for (const e of v.errors) s += format_error(e, PLAIN, ind);
  for (const t of v.tests.filter((x) => !x.passed && x.state !== 'skipped')) {
    s += `${ind}✗ ${t.name}\n`;
    s += format_test_detail(t, PLAIN, ind + '  ');
  }
  return s;
}
