// The build and the watchdog on the course's own exercises, as `verify` (a child process, as CI
// runs it) reports them: a type error fails the build and no hidden test runs; a missing export
// is one line naming it and the stub's line; a pure-JS infinite loop in probe is reported at
// its line. The solution next to them stays clean. (watch.test.ts shows the same in watch mode.)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO_ROOT, load_course } from '../course.ts';
import { pristine } from '../materialise.ts';
import { remove_scratch, scratch_course } from '../scratch.ts';
import type { Verdict } from '../verdict.ts';
import { cli } from './helpers.ts';

const root = scratch_course(REPO_ROOT, 'dmalab-build-');
afterAll(() => remove_scratch(root));

/** The solution of `id` with `find` (which must occur once) replaced. */
function broken(id: string, find: string, replace: string): string {
  const s = readFileSync(join(REPO_ROOT, 'solutions', id, 'driver.ts'), 'utf8');
  expect(s.split(find).length - 1, `"${find}" in solutions/${id}/driver.ts`).toBe(1);
  return s.replace(find, () => replace);
}
const line_of = (src: string, find: string) => src.slice(0, src.indexOf(find)).split('\n').length;

let verdicts: Verdict[] = [];
let code: number | null = null;
const verdict = (id: string) => verdicts.find((v) => v.exercise === id)!;
let stub02 = '';
let loop_line = 0;

beforeAll(async () => {
  // a scratch copy has no git: give it the pristine stubs as a course ships them (grader/stubs/)
  const course = await load_course(REPO_ROOT);
  const ex02 = course.exercises.find((e) => e.id === '02-dma-addresses')!;
  stub02 = pristine(course, ex02).toString('utf8');
  mkdirSync(join(root, 'grader', 'stubs', ex02.id), { recursive: true });
  writeFileSync(join(root, 'grader', 'stubs', ex02.id, 'driver.ts'), stub02);
  // 01: a string where a number belongs; JavaScript converts it, so every hidden test would pass
  writeFileSync(join(root, 'exercises', '01-mmio-and-probe', 'driver.ts'), broken('01-mmio-and-probe', 'msecs_to_jiffies(100)', 'msecs_to_jiffies("100")'));
  // 02: `export` dropped from the driver object
  writeFileSync(join(root, 'exercises', '02-dma-addresses', 'driver.ts'), broken('02-dma-addresses', '\nexport const edu_driver', '\nconst edu_driver'));
  // 04: the reference solution
  writeFileSync(join(root, 'exercises', '04-streaming-dma', 'driver.ts'), readFileSync(join(REPO_ROOT, 'solutions', '04-streaming-dma', 'driver.ts')));
  const r = cli(['verify', '--root', root, '--json', '--only', '01,02,04']);
  code = r.code;
  verdicts = r.events.filter((e) => e.event === 'verdict') as Verdict[];
  expect(verdicts.map((v) => v.exercise), r.stderr).toEqual(['01-mmio-and-probe', '02-dma-addresses', '04-streaming-dma']);
}, 300_000);

describe('the build', () => {
  test('a type error fails the grade: the error as path:line:col TSnnnn, no hidden test runs, verify exits 1', () => {
    const src = readFileSync(join(root, 'exercises', '01-mmio-and-probe', 'driver.ts'), 'utf8');
    const line = line_of(src, 'msecs_to_jiffies("100")');
    const col = src.split('\n')[line - 1]!.indexOf('"100"') + 1;
    const v = verdict('01-mmio-and-probe');
    expect(v.passed).toBe(false);
    expect(v.tests).toEqual([]);
    expect(v.errors).toEqual([
      { kind: 'build', code: 'TS2345', file: 'exercises/01-mmio-and-probe/driver.ts', line, col, message: "Argument of type 'string' is not assignable to parameter of type 'number'." },
    ]);
    expect(code).toBe(1);
  });

  test('a missing export is one line: the name the grader looks for and the stub\'s line', () => {
    const v = verdict('02-dma-addresses');
    expect(v.passed).toBe(false);
    expect(v.errors).toEqual([
      {
        kind: 'export',
        file: 'exercises/02-dma-addresses/driver.ts',
        message: `dmalab: exercises/02-dma-addresses/driver.ts does not export edu_driver, which the grader looks for (the stub exports it at line ${line_of(stub02, 'export const edu_driver')} of grader/stubs/02-dma-addresses/driver.ts)`,
      },
    ]);
    // the hidden test file loads the driver once, at its top: no test ran, nothing repeats it
    expect(v.tests).toEqual([]);
  });

  test('the solution builds and passes', () => {
    expect(verdict('04-streaming-dma')).toMatchObject({ passed: true, errors: [] });
  });
});

describe('the watchdog', () => {
  test('a pure-JS infinite loop in probe is reported at its file, line and function', () => {
    const src = broken('03-coherent-dma', '  let ret = pci_enable_device(pdev);\n', '  while (true) {}\n  let ret = pci_enable_device(pdev);\n');
    loop_line = line_of(src, 'while (true) {}');
    writeFileSync(join(root, 'exercises', '03-coherent-dma', 'driver.ts'), src);
    // 5 s: loading the run (a cold worker compiles the sim) must not reach the limit on a busy machine
    const r = cli(['verify', '--root', root, '--json', '--only', '03', '--timeout', '5']);
    expect(r.code).toBe(1);
    const v = r.events.find((e) => e.event === 'verdict') as Verdict;
    const e = v.errors[0]!;
    expect(e).toMatchObject({ kind: 'timeout', file: 'exercises/03-coherent-dma/driver.ts', line: loop_line, col: 3 });
    expect(e.message).toMatch(new RegExp(`^timed out after 5 s in ".*": stuck at exercises/03-coherent-dma/driver\\.ts:${loop_line}:3 \\(edu_probe\\)$`));
    expect(e.frames?.[0]).toEqual({ file: 'exercises/03-coherent-dma/driver.ts', line: loop_line, col: 3, method: 'edu_probe' });
  }, 300_000);
});
