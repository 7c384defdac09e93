// What `verify` gives tools: NDJSON on stdout and nothing else (`npx dmalab` and `npm run -s`),
// a JUnit report a JUnit consumer reads, Classroom's times, and seeds: `--seeds N` grades on N,
// a failure names the seed and the command that replays it.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, type TestSuites } from 'junit2json';
import { afterAll, describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../course.ts';
import { DEFAULT_SEED, derive_seeds, seed_hex } from '../lib/seed.ts';
import { remove_scratch } from '../scratch.ts';
import { JSON_TAIL, type Verdict, verdict_json } from '../verdict.ts';
import { cli, fixture_copy } from './helpers.ts';

const root = fixture_copy();
afterAll(() => remove_scratch(root));

const driver = (id: string) => join(root, 'exercises', id, 'driver.ts');
const solution = (id: string) => readFileSync(join(root, 'solutions', id, 'driver.ts'), 'utf8');
/** An adder that is right on even seeds only: a driver whose bug one sample can miss. */
const ODD_SEEDS_WRONG = 'export function add(a: number, b: number): number {\n  return (globalThis as { __dmalab_seed?: number }).__dmalab_seed! % 2 ? a - b : a + b;\n}\n';

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('NDJSON', () => {
  test('`npx dmalab verify --json` and `npm run -s verify -- --json` print JSON lines and nothing else', () => {
    writeFileSync(driver('01-add'), solution('01-add'));
    for (const [cmd, args] of [['npx', ['dmalab']], ['npm', ['run', '-s', 'verify', '--']]] as const) {
      const r = run(cmd, [...args, ...(cmd === 'npx' ? ['verify'] : []), '--root', root, '--json']);
      expect(r.code, r.stderr).toBe(1);
      const lines = r.stdout.split('\n');
      expect(lines.pop()).toBe('');
      const events = lines.map((l) => JSON.parse(l) as Record<string, any>);
      expect(events.map((e) => e.event)).toEqual(['start', 'verdict', 'verdict', 'summary']);
      expect(events[0]).toMatchObject({ seeds: [DEFAULT_SEED] });
      expect(events.filter((e) => e.event === 'verdict').map((e) => [e.exercise, e.passed, e.seed])).toEqual([['01-add', true, DEFAULT_SEED], ['02-buffers', false, DEFAULT_SEED]]);
    }
  }, 120_000);

  test('a passing test carries no dmesg or trace, a failing one the tail of each and its diagnostics once; --details all', () => {
    writeFileSync(driver('01-add'), solution('01-add').replace('a + b', 'a < 0 ? a + b : a - b'));
    const brief = cli(['verify', '--root', root, '--json', '--only', '01']).events.find((e) => e.event === 'verdict')!;
    const [fail, pass] = brief.tests;
    expect([fail.name, fail.passed, pass.name, pass.passed]).toEqual(['adds small numbers', false, 'adds negative numbers', true]);
    expect(pass).not.toHaveProperty('report');
    expect(fail.report).toEqual({ shape: 'x86', seed: DEFAULT_SEED, dmesg: ['fixture: add(1, 2) = -1'], trace: ['      0.000001: add'], data: ['1 of 1 values differ'], lesson: 'lessons/01-add.md#the-exercise' });
    expect(fail.diagnostics.map((d: { code: string }) => d.code)).toEqual(['FIX_WRONG_SUM']);
    const full = cli(['verify', '--root', root, '--json', '--only', '01', '--details']).events.find((e) => e.event === 'verdict')!;
    expect(full.tests[1].report).toMatchObject({ dmesg: ['fixture: add(-5, 3) = -2'], diagnostics: [] });
    expect(full.tests[0].report.diagnostics.map((d: { code: string }) => d.code)).toEqual(['FIX_WRONG_SUM']);
  }, 120_000);

  test('a test with hundreds of diagnostics keeps its first few and counts the rest; --details keeps all', () => {
    const diag = (i: number) => ({ code: 'DMA_POOL_BAD_FREE', message: `dmalab: block ${i}`, file: 'exercises/09/driver.ts', line: i, col: 1,
      origin: 'dmalab' as const, lines: [`dmalab: block ${i}`], sites: [] });
    const many = Array.from({ length: 300 }, (_, i) => diag(i));
    const report = { shape: 'x86', seed: DEFAULT_SEED, diagnostics: many, dmesg: [], trace: [] };
    const v = { event: 'verdict', exercise: '09-dma-pools', variant: 'mutant', passed: false, ms: 1, errors: [],
      tests: [{ name: 'frees', passed: false, state: 'failed', ms: 1, diagnostics: many, report }] } as unknown as Verdict;
    const brief = JSON.parse(verdict_json(v)) as { tests: { diagnostics: { line: number }[]; more_diagnostics: number }[] };
    expect(brief.tests[0]!.diagnostics.map((d) => d.line)).toEqual([...Array(JSON_TAIL.diagnostics).keys()]);
    expect(brief.tests[0]!.more_diagnostics).toBe(300 - JSON_TAIL.diagnostics);
    expect(verdict_json(v).length).toBeLessThan(8_000);
    const full = JSON.parse(verdict_json(v, true)) as { tests: { diagnostics: unknown[]; more_diagnostics?: number }[] };
    expect([full.tests[0]!.diagnostics.length, full.tests[0]!.more_diagnostics]).toEqual([300, undefined]);
  });
});

describe('JUnit and Classroom', () => {
  /** The report as junit2json reads it: a <testsuites> root. */
  const report = async (file: string) => {
    const j = (await parse(readFileSync(file, 'utf8'))) as TestSuites;
    expect(j.testsuite, 'a <testsuites> root').toBeDefined();
    return j;
  };
  const suites = (x: TestSuites) => x.testsuite ?? [];

  test('a testsuite per exercise, a testcase per hidden test, the root counts the sum; each test\'s own time', async () => {
    // the second test takes 800 ms, the first next to none
    writeFileSync(driver('01-add'), 'export function add(a: number, b: number): number {\n  if (a < 0) { const t = Date.now(); while (Date.now() - t < 800); }\n  return a + b;\n}\n');
    const xml = join(root, 'out', 'ex.xml');
    const cls = join(root, 'out', 'classroom.json');
    const r = cli(['verify', '--root', root, '--junit', xml, '--classroom', cls]);
    expect(r.code).toBe(1);
    const j = await report(xml);
    const s = suites(j);
    expect(s.map((x) => x.name)).toEqual(['01-add', '02-buffers']);
    const cases = s.flatMap((x) => x.testcase ?? []);
    expect(s.map((x) => x.tests)).toEqual(s.map((x) => x.testcase!.length));
    expect(j.tests).toBe(cases.length);
    expect(j.failures).toBe(s.reduce((a, x) => a + x.failures!, 0));
    expect(j.failures).toBe(cases.filter((c) => c.failure).length);
    expect(cases.map((c) => [c.classname, c.name, !!c.failure])).toEqual([
      ['01-add', 'adds small numbers', false],
      ['01-add', 'adds negative numbers', false],
      ['02-buffers', 'transfers 4096 bytes on x86', true],
    ]);
    const [small, slow] = s[0]!.testcase!;
    expect(slow!.time).toBeGreaterThanOrEqual(0.8);
    expect(small!.time).toBeLessThan(slow!.time!);
    expect(s[0]!.time).toBeGreaterThanOrEqual(slow!.time!);
    expect(s[1]!.time).toBeLessThan(slow!.time!);
    expect(j.time).toBeCloseTo(s[0]!.time! + s[1]!.time!, 2);
    // (junit2json reads every value through parseFloat: the raw text says which seed)
    expect(readFileSync(xml, 'utf8')).toMatch(/<testsuite name="01-add" tests="2" failures="0" errors="0" skipped="0" time="\d+\.\d{3}">/);
    expect(readFileSync(xml, 'utf8')).toContain('<properties><property name="seeds" value="0x5eed"/></properties>');
    expect(cases[2]!.failure![0]!.message).toMatch(/^transfer\(\) should return 0: .* \[seed 0x5eed\]$/);
    // Classroom: each exercise its own time
    const c = JSON.parse(readFileSync(cls, 'utf8')) as { tests: { name: string; execution_time: string }[] };
    const secs = c.tests.map((t) => Number(t.execution_time.replace(/s$/, '')));
    expect(secs[0]).toBeCloseTo(s[0]!.time!, 1);
    expect(secs[0]).toBeGreaterThanOrEqual(0.8);
    expect(secs[1]).toBeLessThan(secs[0]!);
  }, 120_000);

  test('proofs: a testsuite per exercise, a testcase per proof', async () => {
    const xml = join(root, 'out', 'proofs.xml');
    expect(cli(['verify', '--root', root, '--proofs', '--junit', xml]).code).toBe(0);
    const j = await report(xml);
    const s = suites(j);
    expect(s.map((x) => [x.name, x.tests, x.failures])).toEqual([['01-add', 4, 0], ['02-buffers', 5, 0]]);
    expect(j.tests).toBe(9);
    expect(s[0]!.testcase!.map((c) => [c.classname, c.name])).toEqual([
      ['01-add.solution', 'the solution passes every hidden test'],
      ['01-add.stub', 'the untouched stub fails'],
      ['01-add.mutant', 'mutant off-by-one is caught'],
      ['01-add.mutant', 'mutant subtracts is caught'],
    ]);
  }, 120_000);
});

describe('seeds', () => {
  const seeds = derive_seeds(DEFAULT_SEED, 4);
  const odd = seeds.filter((s) => s % 2);
  const even = seeds.filter((s) => s % 2 === 0);

  test('--seeds N grades on N seeds; a failure names the first failing seed and the command that replays it', () => {
    expect([odd[0], even.length > 0]).toEqual([DEFAULT_SEED, true]); // both kinds among them
    writeFileSync(driver('01-add'), ODD_SEEDS_WRONG);
    const r = cli(['verify', '--root', root, '--only', '01', '--seeds', '4']);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe('dmalab verify: exercises · 1 exercise · 4 seeds from 0x5eed');
    expect(r.stdout).toContain(`✗ 01-add fails: 2 of 2 hidden tests fail (first: adds small numbers) on seed 0x5eed (${odd.length} of 4 seeds)\n`);
    expect(r.stdout).toContain('    replay: npm run verify -- --only 01 --seed 0x5eed\n');
    // the seed replays it; another passes
    expect(cli(['verify', '--root', root, '--only', '01', '--seed', seed_hex(odd.at(-1)!)]).code).toBe(1);
    const ok = cli(['verify', '--root', root, '--only', '01', '--seed', seed_hex(even[0]!)]);
    expect(ok.stdout).toContain(`✓ 01-add passes\n`);
    expect(ok.code).toBe(0);
    // NDJSON: the first seed's verdict and every failing one's, each naming its seed; the sum
    const j = cli(['verify', '--root', root, '--only', '01', '--seeds', '4', '--json']).events;
    expect(j.filter((e) => e.event === 'verdict').map((e) => [e.seed, e.passed])).toEqual(odd.map((s) => [s, false]));
    expect(j.find((e) => e.event === 'proof')).toMatchObject({ mode: 'exercises', ok: false, seeds, failed_seeds: odd, replay: 'npm run verify -- --only 01 --seed 0x5eed' });
  }, 120_000);

  test('a mutant caught on some seeds only fails its proof, naming a seed it survives', () => {
    const m = join(root, 'grader', 'manifest.ts');
    const src = readFileSync(m, 'utf8');
    writeFileSync(m, src.replace("replace: 'return a + b + 1;'", "replace: 'return a + b + ((globalThis as { __dmalab_seed?: number }).__dmalab_seed! % 2);'"));
    try {
      const r = cli(['verify', '--root', root, '--mutants', '--only', '01', '--seeds', '4']);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`✗ mutant 01-add/off-by-one (adds one too many) survives: every hidden test passes on seed ${seed_hex(even[0]!)} (${even.length} of 4 seeds)\n`);
      expect(r.stdout).toContain(`    replay: npm run verify -- --mutants --only 01 --seed ${seed_hex(even[0]!)}\n`);
      expect(r.stdout).toContain('✓ mutant 01-add/subtracts caught (FIX_WRONG_SUM) on 4 seeds\n');
      expect(cli(['verify', '--root', root, '--mutants', '--only', '01', '--seed', seed_hex(odd[0]!)]).code).toBe(0);
    } finally {
      writeFileSync(m, src);
    }
  }, 120_000);

  test('--seed refuses what is not a seed', () => {
    const r = cli(['verify', '--root', root, '--seed', '12ab']);
    expect([r.code, r.stderr]).toEqual([2, 'dmalab: --seed 12ab: not a seed (0x1a2b, or a decimal number below 2^32)\n']);
    expect(cli(['verify', '--root', root, '--seeds', '0']).stderr).toBe('dmalab: --seeds 0: not a number of seeds (1 to 10000)\n');
  }, 60_000);
});
