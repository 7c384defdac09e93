// The verdict screen of every untouched stub and every bug-zoo mutant, graded for real: at 80×24
// it fits and still shows the first code, its first call site and the lesson pointer; at 160×50
// too. The verdicts are graded once, by `verify --json` (a child process, as CI runs it).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Course, REPO_ROOT, load_course } from '../course.ts';
import { remove_scratch, scratch_course } from '../scratch.ts';
import { screen_problems } from '../ui/screen-check.ts';
import type { Verdict } from '../verdict.ts';
import { cli } from './helpers.ts';

const root = scratch_course(REPO_ROOT, 'dmalab-screen-');
afterAll(() => remove_scratch(root));

let course: Course;
let verdicts: Verdict[] = [];

beforeAll(async () => {
  course = await load_course(root);
  // The committed stubs, graded as a learner's untouched exercises/ (the scratch copy has no git).
  for (const ex of course.exercises) {
    for (const f of ex.files) writeFileSync(join(root, 'exercises', ex.id, f), execFileSync('git', ['show', `HEAD:exercises/${ex.id}/${f}`], { cwd: REPO_ROOT }));
  }
  const stubs = cli(['verify', '--root', root, '--json']);
  const r = cli(['verify', '--root', root, '--mutants', '--json']);
  verdicts = [...stubs.events, ...r.events].filter((e) => e.event === 'verdict') as Verdict[];
  const expected = course.exercises.reduce((n, ex) => n + 1 + ex.mutants.length, 0);
  expect(verdicts.length, stubs.stderr + r.stderr).toBe(expected);
}, 900_000);

describe('the verdict screen of every stub and mutant', () => {
  for (const [cols, rows] of [[80, 24], [160, 50]] as const) {
    test(`${cols}×${rows}: fits; shows the first code, its first site and the lesson pointer`, () => {
      const bad: string[] = [];
      for (const v of verdicts) {
        const ex = course.exercises.find((e) => e.id === v.exercise)!;
        expect(v.passed, `${v.exercise} ${v.mutant ?? 'stub'} passes`).toBe(false);
        const { screen, problems } = screen_problems(course, ex, v, cols, rows);
        if (problems.length) bad.push(`${v.exercise} ${v.mutant ?? 'stub'}: ${problems.join('; ')}\n${screen}`);
      }
      expect(bad, bad.join('\n')).toEqual([]);
    });
  }

  test('the check itself reports a screen that does not fit', () => {
    const v = verdicts.find((x) => x.mutant === 'unmap-whole-buffer')!;
    const ex = course.exercises.find((e) => e.id === v.exercise)!;
    expect(screen_problems(course, ex, v, 80, 24).problems).toEqual([]);
    expect(screen_problems(course, ex, v, 80, 8).problems.join(' ')).toMatch(/^\d+ lines on a terminal of 8/);
  });
});
