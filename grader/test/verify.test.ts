// `npm run verify` against the fixture course, as a child process (as CI runs it).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { remove_scratch } from '../scratch.ts';
import { cli, fixture_copy } from './helpers.ts';

const root = fixture_copy();
afterAll(() => remove_scratch(root));

describe('verify', () => {
  test('proofs: solutions pass, stubs fail, mutants caught with their codes; JUnit file', () => {
    const junit = join(root, 'out', 'junit.xml');
    const r = cli(['verify', '--root', root, '--proofs', '--junit', junit]);
    expect(r.stdout).toContain('✓ mutant 02-buffers/unmap-wrong-size caught (DMA_UNMAP_WRONG_SIZE)');
    expect(r.stdout.trim().split('\n').pop()).toBe('9 passed, 0 failed');
    expect(r.code).toBe(0);
    const x = readFileSync(junit, 'utf8');
    expect(x).toMatch(/^<\?xml/);
    expect(x).toContain('<testsuite name="02-buffers" tests="5" failures="0"');
    expect(x).toContain('<testcase classname="02-buffers.mutant" name="mutant no-unmap is caught"');
  }, 120_000);

  test('exercises as they stand: --json verdict events, Classroom results, exit 1', () => {
    const cls = join(root, 'out', 'classroom.json');
    writeFileSync(join(root, 'exercises', '01-add', 'driver.ts'), readFileSync(join(root, 'solutions', '01-add', 'driver.ts')));
    const r = cli(['verify', '--root', root, '--json', '--classroom', cls]);
    expect(r.code).toBe(1);
    const v = r.events.filter((e) => e.event === 'verdict');
    expect(v.map((e) => [e.exercise, e.passed])).toEqual([['01-add', true], ['02-buffers', false]]);
    const t = v[1]!.tests[0];
    expect(t).toMatchObject({ name: 'transfers 4096 bytes on x86', passed: false, diagnostics: [] });
    expect(typeof v[1]!.ms).toBe('number');
    const c = JSON.parse(readFileSync(cls, 'utf8'));
    expect(c).toMatchObject({ version: 1, status: 'fail', max_score: 3 });
    expect(c.tests.map((x: { score: number }) => x.score)).toEqual([2, 0]);
    expect(r.events.at(-1)).toMatchObject({ event: 'summary', passed: 1, failed: 1 });
  }, 120_000);

  test('a diagnostic in a verdict carries code, message and the learner\'s file:line:col', () => {
    writeFileSync(join(root, 'exercises', '02-buffers', 'driver.ts'), readFileSync(join(root, 'solutions', '02-buffers', 'driver.ts'), 'utf8').replace('k.unmap(h, len)', 'k.unmap(h, 8)'));
    const r = cli(['verify', '--root', root, '--json', '--only', '02']);
    const d = r.events.find((e) => e.event === 'verdict')!.tests[0].diagnostics[0];
    expect(d).toMatchObject({ code: 'DMA_UNMAP_WRONG_SIZE', file: 'exercises/02-buffers/driver.ts', line: 4, origin: 'dma-debug' });
    expect(d.message).toMatch(/^DMA-API: fixture: device driver frees DMA memory with different size/);
    expect(d.sites.map((s: { label: string }) => s.label)).toEqual(['Mapped at', 'Unmapped at']);
  }, 120_000);

  test('--only counts what it grades; --details prints every failing test in full', () => {
    writeFileSync(join(root, 'exercises', '01-add', 'driver.ts'), readFileSync(join(root, 'solutions', '01-add', 'driver.ts'), 'utf8').replace('a + b', 'a - b'));
    const brief = cli(['verify', '--root', root, '--only', '01']);
    expect(brief.stdout.split('\n')[0]).toBe('dmalab verify: exercises · 1 exercise · seed 0x5eed');
    expect(brief.stdout).not.toContain('seed 0x5eed · machine x86');
    const r = cli(['verify', '--root', root, '--only', '01', '--details']);
    expect(r.code).toBe(1);
    const out = r.stdout;
    // both failing tests, each with its diagnostic, its site, dmesg and the seed line
    for (const name of ['adds small numbers', 'adds negative numbers']) expect(out).toContain(`    ✗ ${name}\n`);
    expect(out.match(/^ {6}fixture: add\(.*\) returned .*, expected .*$/gm)).toHaveLength(2);
    expect(out.match(/^ {6}Returned at: exercises\/01-add\/driver\.ts:3:3$/gm)).toHaveLength(2);
    expect(out.match(/^ {6}seed 0x5eed · machine x86 · read lessons\/01-add\.md#the-exercise$/gm)).toHaveLength(2);
    // the data check is said once, by the diagnostic's own text or the → line
    expect(out.match(/1 of 1 values differ/g)).toHaveLength(2);
    expect(cli(['verify', '--root', root]).stdout.split('\n')[0]).toBe('dmalab verify: exercises · 2 exercises · seed 0x5eed');
  }, 120_000);

  test('a type error fails the build in every output: text, --json, JUnit, Classroom; exit 1', () => {
    // Math.trunc("3") is 3 at run time: the hidden tests would pass if they ran
    writeFileSync(join(root, 'exercises', '01-add', 'driver.ts'), 'export function add(a: number, b: number): number {\n  return Math.trunc(`${a + b}`);\n}\n');
    const text = cli(['verify', '--root', root, '--only', '01']);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain("    build: exercises/01-add/driver.ts:2:21 TS2345 Argument of type 'string' is not assignable to parameter of type 'number'.\n");
    const junit = join(root, 'out', 'build.xml');
    const cls = join(root, 'out', 'build.json');
    const r = cli(['verify', '--root', root, '--only', '01', '--json', '--junit', junit, '--classroom', cls]);
    expect(r.code).toBe(1);
    const v = r.events.find((e) => e.event === 'verdict')!;
    expect(v).toMatchObject({ passed: false, tests: [], errors: [{ kind: 'build', code: 'TS2345', file: 'exercises/01-add/driver.ts', line: 2, col: 21 }] });
    expect(r.events.at(-1)).toMatchObject({ event: 'summary', passed: 0, failed: 1 });
    expect(readFileSync(junit, 'utf8')).toMatch(/<testsuite name="01-add" tests="1" failures="1"[^>]*>\n(\s*<properties>[\s\S]*?<\/properties>\n)?\s*<testcase classname="01-add" name="build"[^>]*><failure message="Argument of type/);
    const c = JSON.parse(readFileSync(cls, 'utf8'));
    expect(c.tests[0]).toMatchObject({ status: 'fail', score: 0, line_no: 2 });
  }, 120_000);

  test('a stub that does not type-check fails the stub proof (a stub fails its tests, not the build)', () => {
    const stub = join(root, 'grader', 'stubs', '01-add', 'driver.ts');
    const src = readFileSync(stub, 'utf8');
    writeFileSync(stub, src.replace('return 0;', 'return "0";'));
    try {
      const r = cli(['verify', '--root', root, '--stubs', '--only', '01']);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("✗ the stub of 01-add does not build: 1 type error, first .dmalab/stubs/01-add/driver.ts:4:3 TS2322 Type 'string' is not assignable to type 'number'.");
    } finally {
      writeFileSync(stub, src);
    }
  }, 120_000);

  test('a timeout names the test that was running, and the tests before it keep their results', () => {
    // the first test passes at once; the second loops for ever
    writeFileSync(join(root, 'exercises', '01-add', 'driver.ts'), 'export function add(a: number, b: number): number {\n  if (a < 0) for (;;) {}\n  return a + b;\n}\n');
    const r = cli(['verify', '--root', root, '--json', '--only', '01', '--timeout', '2']);
    const v = r.events.find((e) => e.event === 'verdict')!;
    expect(v.timed_out_s).toBe(2);
    expect(v.errors[0]).toMatchObject({ kind: 'timeout' });
    expect(v.errors[0]).toMatchObject({
      message: 'timed out after 2 s in "adds negative numbers": stuck at exercises/01-add/driver.ts:2:14 (add)',
      file: 'exercises/01-add/driver.ts', line: 2, col: 14,
    });
    expect(v.tests.map((t: { name: string; state: string; message?: string }) => [t.name, t.state, t.message])).toEqual([
      ['adds small numbers', 'passed', undefined],
      ['adds negative numbers', 'failed', 'timed out after 2 s'],
    ]);
  }, 120_000);

  test('the watchdog is per test: two tests of 1.2 s each pass under --timeout 2', () => {
    // 2.4 s in all: a limit on the whole file would kill the second test of a correct driver
    writeFileSync(join(root, 'exercises', '01-add', 'driver.ts'),
      'export function add(a: number, b: number): number {\n  const t = Date.now();\n  while (Date.now() - t < 1200) {}\n  return a + b;\n}\n');
    const r = cli(['verify', '--root', root, '--json', '--only', '01', '--timeout', '2']);
    const v = r.events.find((e) => e.event === 'verdict')!;
    expect(v.timed_out_s, JSON.stringify(v.errors)).toBeUndefined();
    expect(v.tests.map((t: { name: string; state: string }) => [t.name, t.state])).toEqual([
      ['adds small numbers', 'passed'],
      ['adds negative numbers', 'passed'],
    ]);
  }, 120_000);

  test('a broken bug zoo fails the proof with a message naming the manifest entry, and a surviving mutant fails it', () => {
    const m = join(root, 'grader', 'manifest.ts');
    const src = readFileSync(m, 'utf8');
    writeFileSync(
      m,
      src
        .replace("find: 'return a + b;', replace: 'return a + b + 1;'", "find: 'return a * b;', replace: 'x'")
        .replace("expect: ['DMA_LEAK']", "expect: ['DMA_LEAK', 'DMA_NEVER_REPORTED']"),
    );
    try {
      const r = cli(['verify', '--root', root, '--mutants']);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("✗ grader/manifest.ts: exercise '01-add', mutant 'off-by-one', edit 1 of 1: `find` \"return a * b;\" occurs 0 times in solutions/01-add/driver.ts");
      expect(r.stdout).toMatch(/✗ mutant 02-buffers\/no-unmap fails without DMA_NEVER_REPORTED \(reported: DMA_LEAK\)/);
      expect(r.stdout.trim().split('\n').pop()).toBe('3 passed, 2 failed');
    } finally {
      writeFileSync(m, src);
    }
  }, 120_000);
});
