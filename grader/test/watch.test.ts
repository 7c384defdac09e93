// Watch mode's robustness: a learner's mistakes must never take the grader down.
// One watcher (`watch --json`) on a scratch copy of the fixture course, driven through saves.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hash_files } from '../course.ts';
import type { Exercise } from '../lib/manifest-types.ts';
import { remove_scratch } from '../scratch.ts';
import { Watcher, cli, fixture_copy } from './helpers.ts';

const root = fixture_copy();
const exdir = join(root, 'exercises');
const file = join(exdir, '01-add', 'driver.ts');
const SOLUTION = readFileSync(join(root, 'solutions', '01-add', 'driver.ts'), 'utf8');
const BUGGY = SOLUTION.replace('a + b', 'a - b');
const ex01 = { id: '01-add', files: ['driver.ts'] } as Exercise;
let w: Watcher;

const verdict_for = (hash: string) => (e: Record<string, any>) => e.event === 'verdict' && e.hash === hash;

/** Save (write in place), wait for the verdict of exactly that content. */
async function save(content: string, timeout = 20_000) {
  const from = w.mark();
  writeFileSync(file, content);
  const t0 = performance.now();
  const v = await w.wait(verdict_for(hash_files(exdir, ex01)), from, timeout);
  return { v, ms: v._at - t0 };
}

beforeAll(async () => {
  w = new Watcher(root);
  await w.wait((e) => e.event === 'ready', 0, 60_000);
  await w.wait((e) => e.event === 'verdict', 0, 60_000); // the first unfinished exercise, graded at start
}, 90_000);

afterAll(async () => {
  const code = await w.quit();
  expect(code, w.stderr + JSON.stringify(w.events.slice(-4)).slice(0, 1500)).toBe(0);
  remove_scratch(root);
});

describe('watch mode', () => {
  test('grades the first unfinished exercise at start', () => {
    expect(w.events.find((e) => e.event === 'ready')).toMatchObject({ exercise: '01-add' });
    expect(w.events.find((e) => e.event === 'verdict')).toMatchObject({ exercise: '01-add', passed: false });
  });

  test('a type error fails the build: each error as path:line:col TSnnnn, no hidden test runs, progress does not move', async () => {
    // Math.trunc("3") is 3 at run time: both hidden tests would pass if they ran
    const { v } = await save('export function add(a: number, b: number): number {\n  return Math.trunc(`${a + b}`);\n}\n');
    expect(v.passed).toBe(false);
    expect(v.tests).toEqual([]);
    expect(v.errors).toEqual([
      { kind: 'build', code: 'TS2345', file: 'exercises/01-add/driver.ts', line: 2, col: 21, message: "Argument of type 'string' is not assignable to parameter of type 'number'." },
    ]);
    await new Promise((r) => setTimeout(r, 300));
    expect(w.events.filter((e) => e.event === 'progress')).toEqual([]);
    expect(JSON.parse(readFileSync(join(root, '.dmalab', 'progress.json'), 'utf8')).exercises['01-add']?.done ?? false).toBe(false);
  }, 30_000);

  test('a missing export: one line naming it and the stub\'s line, not one error per test', async () => {
    const { v } = await save('function add(a: number, b: number): number {\n  return a + b;\n}\nexport const sum = add;\n');
    expect(v.passed).toBe(false);
    expect(v.errors).toEqual([
      {
        kind: 'export',
        file: 'exercises/01-add/driver.ts',
        message: 'dmalab: exercises/01-add/driver.ts does not export add, which the grader looks for (the stub exports it at line 2 of grader/stubs/01-add/driver.ts); it exports sum',
      },
    ]);
    expect(v.tests.map((t: { error?: unknown; message: string }) => [t.error, t.message])).toEqual([
      [undefined, 'the driver lacks an export the grader looks for'],
      [undefined, 'the driver lacks an export the grader looks for'],
    ]);
  }, 30_000);

  test('a save is graded; a correct driver passes', async () => {
    const { v } = await save(SOLUTION);
    expect(v.passed).toBe(true);
    expect(v.tests.map((t: { passed: boolean }) => t.passed)).toEqual([true, true]);
  }, 30_000);

  test('syntax error: the compiler\'s message with path:line:col, and the watcher lives', async () => {
    const { v } = await save('export function add(a: number, b: number): number {\n  return a +* b;\n}\n');
    expect(v.passed).toBe(false);
    expect(v.errors[0]).toMatchObject({ kind: 'syntax', file: 'exercises/01-add/driver.ts', line: 2, col: 13 });
    expect(v.errors[0].message).toMatch(/Unexpected token/);
    expect((await save(SOLUTION)).v.passed).toBe(true);
  }, 30_000);

  test('an exception in learner code: an oops-like report with the learner\'s frame; the run goes on', async () => {
    const { v } = await save('export function add(a: number, b: number): number {\n  if (a < 0) throw new TypeError("negative");\n  return a + b;\n}\n');
    expect(v.tests[0].passed).toBe(true); // the other test still ran
    const t = v.tests[1];
    expect(t.passed).toBe(false);
    expect(t.error).toMatchObject({ kind: 'exception', message: 'TypeError: negative', file: 'exercises/01-add/driver.ts', line: 2, col: 20 });
  }, 30_000);

  test('an infinite loop: "timed out" within 5 s, then the next save is graded normally', async () => {
    const { v, ms } = await save('export function add(a: number, b: number): number {\n  for (;;) {}\n}\n', 10_000);
    expect(v.passed).toBe(false);
    expect(v.errors[0]).toMatchObject({ kind: 'timeout' });
    // the watchdog paused the worker and read where: the loop's line, not only the test's name
    expect(v.errors[0]).toMatchObject({
      message: 'timed out after 3 s in "adds small numbers": stuck at exercises/01-add/driver.ts:2:3 (add)',
      file: 'exercises/01-add/driver.ts', line: 2, col: 3,
    });
    expect(ms, JSON.stringify(w.events.slice(-6).map((e) => [e.event, e.ms, e._at, e.hash]))).toBeLessThan(5000);
    expect((await save(SOLUTION)).v.passed).toBe(true);
  }, 30_000);

  test('editor temp files are ignored', async () => {
    const from = w.mark();
    for (const f of ['.driver.ts.swp', 'driver.ts~', '4913', '.#driver.ts', 'driver.ts.swx']) writeFileSync(join(exdir, '01-add', f), 'x');
    await new Promise((r) => setTimeout(r, 1000));
    expect(w.events.slice(from).filter((e) => e.event === 'run' || e.event === 'verdict')).toEqual([]);
    for (const f of ['.driver.ts.swp', 'driver.ts~', '4913', '.#driver.ts', 'driver.ts.swx']) rmSync(join(exdir, '01-add', f));
  }, 30_000);

  test('an atomic save (write a temp file, rename it over the driver) is graded', async () => {
    const from = w.mark();
    const tmp = join(exdir, '01-add', '.driver.ts.tmp.123');
    writeFileSync(tmp, BUGGY);
    renameSync(tmp, file);
    const v = await w.wait(verdict_for(hash_files(exdir, ex01)), from);
    expect(v.passed).toBe(false);
    expect(v.tests[0].diagnostics[0].code).toBe('FIX_WRONG_SUM');
  }, 30_000);

  test('deleting the driver gives a clear message; restoring it grades again', async () => {
    const from = w.mark();
    rmSync(file);
    const n = await w.wait((e) => e.event === 'notice', from);
    expect(n.message).toBe('exercises/01-add/driver.ts was deleted or renamed. Put it back, or restore the stub: npm run reset -- 01-add');
    const v = await w.wait((e) => e.event === 'verdict', from);
    expect(v.errors[0]).toMatchObject({ kind: 'missing', message: 'exercises/01-add/driver.ts is missing (deleted or renamed?)' });
    expect((await save(SOLUTION)).v.passed).toBe(true);
  }, 30_000);

  test('renaming the driver away gives the same message', async () => {
    const from = w.mark();
    renameSync(file, join(exdir, '01-add', 'driver2.ts'));
    await w.wait((e) => e.event === 'notice' && /deleted or renamed/.test(e.message), from);
    const v = await w.wait((e) => e.event === 'verdict' && e.errors.some((x: { kind: string }) => x.kind === 'missing'), from);
    expect(v.passed).toBe(false);
    renameSync(join(exdir, '01-add', 'driver2.ts'), file);
    await w.wait((e) => e.event === 'verdict' && e.passed, from);
  }, 30_000);

  test('a long file runs in two shards at once: the same tests in the same order, each result from the shard that ran it', async () => {
    const slow = (body: string) => `export function add(a: number, b: number): number {\n  const t = Date.now();\n  while (Date.now() - t < 200) {}\n  ${body}\n}\n`;
    // The first slow save is graded whole (the last times were short); it teaches the engine the times.
    const one = (await save(slow('return a + b; // 1'))).v;
    expect(one.passed).toBe(true);
    expect(one.shards).toBeUndefined();
    const two = (await save(slow('return a + b; // 2'))).v;
    expect(two).toMatchObject({ passed: true, shards: 2 });
    expect(two.tests.map((t: { name: string; state: string }) => [t.name, t.state])).toEqual(one.tests.map((t: { name: string; state: string }) => [t.name, t.state]));
    // A failure in either shard is the verdict's, with its diagnostics.
    const bad = (await save(slow('return a < 0 ? a - b : a + b;'))).v;
    expect(bad).toMatchObject({ passed: false, shards: 2 });
    expect(bad.tests.map((t: { name: string; state: string }) => [t.name, t.state])).toEqual([
      ['adds small numbers', 'passed'],
      ['adds negative numbers', 'failed'],
    ]);
    expect(bad.tests[1].diagnostics[0].code).toBe('FIX_WRONG_SUM');
    // Quick again: graded whole once the times are short.
    await save(SOLUTION + '// quick 1\n');
    expect((await save(SOLUTION + '// quick 2\n')).v.shards).toBeUndefined();
  }, 60_000);

  test('200 saves in 10 s: no crash, no pile-up, the last verdict matches the last content', async () => {
    const from = w.mark();
    let last = '';
    for (let i = 0; i < 200; i++) {
      last = (i % 2 ? SOLUTION : BUGGY) + `// save ${i}\n`;
      writeFileSync(file, last);
      await new Promise((r) => setTimeout(r, 50));
    }
    const h = hash_files(exdir, ex01);
    const t_last = performance.now();
    const v = await w.wait(verdict_for(h), from, 20_000);
    expect(v._at - t_last).toBeLessThan(5000); // no pile-up: the last save is graded promptly
    expect(v.passed).toBe(true); // save 199 is the correct version
    await new Promise((r) => setTimeout(r, 1500));
    const after = w.events.slice(w.events.indexOf(v) + 1).filter((e) => e.event === 'verdict');
    expect(after).toEqual([]); // nothing stale arrives after it
    expect(w.cp.exitCode).toBe(null);
    const runs = w.events.slice(from).filter((e) => e.event === 'run').length;
    expect(runs).toBeLessThan(400); // at most one run per save, plus re-grades of content that changed mid-run
  }, 60_000);

  test('done means the file as it is now passes: a failing save undoes it, and the exercise "was done"', async () => {
    const pj = () => JSON.parse(readFileSync(join(root, '.dmalab', 'progress.json'), 'utf8')).exercises['01-add'];
    expect((await save(SOLUTION + '// done\n')).v.passed).toBe(true);
    expect(pj()).toMatchObject({ done: true, was_done: true });
    const from = w.mark();
    expect((await save(BUGGY)).v.passed).toBe(false);
    expect(await w.wait((e) => e.event === 'progress', from)).toMatchObject({ done: 0 });
    expect(pj()).toMatchObject({ done: false, was_done: true });
    let e = w.mark();
    w.send('e');
    expect((await w.wait((x) => x.event === 'exercises', e)).list).toEqual([{ id: '01-add', status: 'was-done' }, { id: '02-buffers', status: 'todo' }]);
    expect((await save(SOLUTION)).v.passed).toBe(true);
    e = w.mark();
    w.send('e');
    expect((await w.wait((x) => x.event === 'exercises', e)).list[0]).toEqual({ id: '01-add', status: 'done' });
  }, 30_000);

  test('h: the hint for the first failure\'s code first, then the sequence, then where the solution is; a new verdict clears them', async () => {
    await save(BUGGY);
    const hint = async () => {
      const from = w.mark();
      w.send('h');
      return w.wait((e) => e.event === 'hint', from);
    };
    expect(await hint()).toMatchObject({ exercise: '01-add', n: 1, of: 3, text: 'The sum is wrong: which operator adds?' });
    expect(await hint()).toMatchObject({ n: 2, of: 3, text: 'Look at the `+` operator.' });
    expect(await hint()).toMatchObject({ n: 3, of: 3, text: 'Write `return a + b;`.' });
    expect((await hint()).none).toMatch(/^that was the last one\. The reference solution is solutions\/01-add\/driver\.ts/);
    // The same failure saved again: the hints stay where they were.
    await save(BUGGY + '// again\n');
    expect((await hint()).none).toBeDefined();
    // A verdict that changed: they start over, and a passing one has no code to answer.
    await save(SOLUTION);
    expect(await hint()).toMatchObject({ n: 1, of: 2, text: 'Look at the `+` operator.' });
  }, 60_000);

  test('d prints every failing test in full, l the lesson section the verdict points to (no pager on a pipe)', async () => {
    await save(BUGGY);
    let from = w.mark();
    w.send('d');
    const d = await w.wait((e) => e.event === 'details', from);
    expect(d.text).toContain('fixture: add(1, 2) returned -1, expected 3');
    expect(d.text).toContain(' ✗ adds small numbers');
    expect(d.text).toContain(' ✗ adds negative numbers');
    from = w.mark();
    w.send('l');
    const l = await w.wait((e) => e.event === 'lesson', from);
    expect(l.lesson).toMatch(/^lessons\/01-add\.md#/);
    expect(l.text.split('\n')[0]).not.toBe('');
    await save(SOLUTION);
  }, 30_000);

  test('n moves to the next exercise', async () => {
    const from = w.mark();
    w.send('n');
    await w.wait((e) => e.event === 'exercise' && e.exercise === '02-buffers', from);
    // Its first grade: a cold test file (40 s: this machine is shared).
    expect(await w.wait((e) => e.event === 'verdict' && e.exercise === '02-buffers', from, 40_000)).toMatchObject({ passed: false });
  }, 60_000);

  test('progress is kept in .dmalab/progress.json', () => {
    const p = JSON.parse(readFileSync(join(root, '.dmalab', 'progress.json'), 'utf8'));
    expect(p.exercises['01-add']).toMatchObject({ done: true, hints_seen: 3 });
    expect(p.current).toBe('02-buffers');
  });
});

describe('reset from the command line', () => {
  test('restores the stub and prints where the backup is', () => {
    const r = cli(['reset', '01', '--root', root]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^restored exercises\/01-add\/ from the pristine stub \(grader\/stubs\/01-add\/\); your version is in \.dmalab\/backups\/01-add\/.*\/driver\.ts/);
    expect(readFileSync(file, 'utf8')).toContain('// TODO');
    expect(existsSync(join(root, '.dmalab', 'backups', '01-add'))).toBe(true);
    // The stub does not pass: reset clears the exercise's progress.
    // (The watcher, still running, may grade the stub meanwhile: a failure, never "was done".)
    const entry = JSON.parse(readFileSync(join(root, '.dmalab', 'progress.json'), 'utf8')).exercises['01-add'];
    expect(entry?.done ?? false).toBe(false);
    expect(entry?.was_done).toBeUndefined();
    expect(cli(['list', '--root', root]).stdout).toMatch(/^ {3}01-add +Adding numbers +· not done$/m);
  }, 60_000);
});
