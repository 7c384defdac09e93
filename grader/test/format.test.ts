// How a verdict is printed (grader/ui/format.ts, screen.ts): each thing once, repeats counted,
// every failing test in full on request.
import { afterAll, describe, expect, test } from 'vitest';
import { load_course } from '../course.ts';
import type { TestReport } from '../lib/report.ts';
import { remove_scratch } from '../scratch.ts';
import { PLAIN, codes_line, collapse_repeats, diagnostic_lines, format_test_detail, format_verdict_brief } from '../ui/format.ts';
import { details_lines, lesson_pointer, verdict_screen } from '../ui/screen.ts';
import type { TestVerdict, Verdict, VerdictDiagnostic } from '../verdict.ts';
import { fixture_copy } from './helpers.ts';

const root = fixture_copy();
afterAll(() => remove_scratch(root));

const F = 'exercises/04-streaming-dma/driver.ts';
const site = (label: string, line: number, col: number) => ({ label, file: F, line, col });

function diag(code: string, lines: string[], sites: VerdictDiagnostic['sites'] = [], lesson?: string): VerdictDiagnostic {
  const s = sites[0];
  return { code, message: lines.join('\n'), file: s?.file ?? null, line: s?.line ?? null, col: s?.col ?? null, origin: 'dmalab', lines, sites, ...(lesson ? { lesson } : {}) };
}

function failing(name: string, diagnostics: VerdictDiagnostic[], report: Partial<TestReport> = {}): TestVerdict {
  const message = `${diagnostics.length} problems [machine x86, seed 0x5eed]: ${codes_line(diagnostics.map((d) => d.code))}`;
  return {
    name, passed: false, state: 'failed', ms: 1, message, error: { kind: 'assertion', message }, diagnostics,
    report: { shape: 'x86', seed: 0x5eed, diagnostics: [], dmesg: [], trace: [], ...report },
  };
}

// dma-debug's leak report as the sim gives it: one site per leaked entry, all made at the same
// line, then dma-debug's own "Mapped at" for the entry it printed.
const LEAK = diag('DMA_LEAK_AT_UNBIND', [
  'DMA-API: pci 0000:00:03.0: device driver has pending DMA allocations while released from device [count=4]',
  'One of leaked entries details: [device address=0x00000000047d9000] [size=4096 bytes] [mapped with DMA_FROM_DEVICE] [mapped as single]',
], [
  site('Leaked (single, 4096 bytes) mapped at', 96, 18), site('Leaked (single, 4096 bytes) mapped at', 96, 18),
  site('Leaked (single, 4096 bytes) mapped at', 96, 18), site('Leaked (single, 4096 bytes) mapped at', 96, 18),
  site('Mapped at', 96, 18),
]);

describe('each thing once', () => {
  test('identical lines collapse to one with (×N); runs only, so order is kept', () => {
    expect(collapse_repeats(['a', 'a', 'a', 'b', 'a'])).toEqual(['a (×3)', 'b', 'a']);
    expect(codes_line(['KFREE_MAPPED', 'CPU_ACCESS_DEVICE_OWNED', 'KFREE_MAPPED'])).toBe('KFREE_MAPPED (×2), CPU_ACCESS_DEVICE_OWNED');
  });

  test('a leak list: four identical sites as one line (×4), and no "Mapped at" it already names', () => {
    const out = diagnostic_lines(LEAK, PLAIN);
    expect(out).toEqual([
      LEAK.lines[0],
      '    ' + LEAK.lines[1],
      `Leaked (single, 4096 bytes) mapped at: ${F}:96:18 (×4)`,
    ]);
  });

  test('sites of different sizes at one line stay apart; a site elsewhere is printed', () => {
    const d = diag('DMA_LEAK_AT_UNBIND', ['DMA-API: leaked'], [
      site('Leaked (single, 4096 bytes) mapped at', 96, 18), site('Leaked (single, 100 bytes) mapped at', 96, 18),
      site('Leaked (single, 4096 bytes) mapped at', 96, 18), site('Mapped at', 96, 18), site('Unmapped at', 104, 3),
    ]);
    expect(diagnostic_lines(d, PLAIN).slice(1)).toEqual([
      `Leaked (single, 4096 bytes) mapped at: ${F}:96:18 (×2)`,
      `Leaked (single, 100 bytes) mapped at: ${F}:96:18`,
      `Unmapped at: ${F}:104:3`,
    ]);
  });

  test('a site the diagnostic\'s lines already name is not printed again', () => {
    const d = diag('LEAK_RESOURCES', ['dmalab: edu: driver left 1 resource behind at unbind:', `dmalab:   pci_iomap() BAR 0 taken at ${F}:73:17 (edu_probe)`], [site('pci_iomap() taken at', 73, 17)]);
    expect(diagnostic_lines(d, PLAIN)).toHaveLength(2);
  });

  test('a failed data check the test also reported as a finding is printed once; one it did not, with →', () => {
    const said = 'the buffer after edu_dma() returned: 4096 of 4096 bytes differ (first at offset 0: got 0x00, expected 0x01)';
    const other = 'what edu read: 1 of 100 bytes differ (first at offset 7: got 0x00, expected 0x08)';
    const t = failing('x', [diag('DATA_MISMATCH', [`dmalab: ${said}`])], { data: [said, other] });
    const out = format_test_detail(t, PLAIN, '');
    expect(out.split(said).length - 1).toBe(1);
    expect(out).toContain(`→ ${other}\n`);
  });
});

describe('the watcher\'s screen', () => {
  const tests = ['first', 'second', 'third'].map((n) => failing(`${n} test`, [LEAK], { lesson: 'lessons/01-add.md#the-exercise' }));
  const v: Verdict = { event: 'verdict', exercise: '01-add', variant: 'exercise', passed: false, ms: 5, file_ms: 5, seed: 0x5eed, tests, errors: [] };

  test('the screen: the first failing test, then "+N more failing · d for all"; `d` has every one in full', async () => {
    const course = await load_course(root);
    const ex = course.exercises[0]!;
    const state = { done: 0, status: '', notice: '', cols: 100, rows: 40 };
    const screen = verdict_screen(course, ex, v, state, PLAIN);
    expect(screen).toContain(' ✗ first test\n');
    expect(screen).not.toContain('second test');
    expect(screen).toContain(`   Leaked (single, 4096 bytes) mapped at: ${F}:96:18 (×4)\n`);
    expect(screen).toContain(' +2 more failing · d for all\n');
    expect(screen).toContain(' h hint · l lesson · d all failures · e exercises · n next · r rerun · q quit\n');
    const all = details_lines(ex, v, PLAIN, 100).join('\n');
    expect(all.split('   seed 0x5eed · machine x86').length - 1).toBe(3);
    expect(all).toContain(' ✗ third test\n');
  });

  test('a tall failure on a short terminal: the header stays, the first code, site and lesson pointer too', async () => {
    const course = await load_course(root);
    const ex = course.exercises[0]!;
    const long = Array.from({ length: 30 }, (_, i) => `[    0.${i}] DMA-API: a long kernel line number ${i} that goes on and on past the end of an eighty-column terminal`);
    const t = failing('first test with a name long enough to wrap on a terminal eighty columns wide, twice over at least', [LEAK, LEAK], { lesson: 'lessons/01-add.md#the-exercise', dmesg: long, trace: long });
    const tall: Verdict = { ...v, tests: [t, ...v.tests] };
    for (const [cols, rows] of [[80, 24], [160, 50], [60, 16]] as const) {
      const lines = verdict_screen(course, ex, tall, { done: 0, status: 'graded in 84 ms', notice: 'a notice', cols, rows }, PLAIN).replace(/\n$/, '').split('\n');
      expect(lines.length, lines.join('\n')).toBeLessThanOrEqual(rows);
      for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(cols);
      expect(lines[0]).toMatch(/^ 01 add {2}✗ 4 of 4 hidden tests fail +\[-+\] 0\/2$/);
      const flat = lines.map((l) => l.trim()).join(' ');
      expect(flat).toContain('DMA_LEAK_AT_UNBIND');
      expect(flat).toContain(`${F}:96:18`);
      expect(flat).toContain('→ lesson: lessons/01-add.md § "The exercise"');
      expect(flat).toContain('+3 more failing · d for all');
    }
    // With room, the dmesg tail: its last lines, each cut to one row.
    const roomy = verdict_screen(course, ex, tall, { done: 0, status: '', notice: '', cols: 160, rows: 50 }, PLAIN);
    expect(roomy).toContain('dmesg (last 12):');
    expect(roomy).toContain('line number 29 that goes');
  });

  test('an exercise that passed once and fails now says "was done"; a hint wraps under its label', async () => {
    const course = await load_course(root);
    const ex = course.exercises[0]!;
    const hint = { n: 1, of: 3, text: 'A hint long enough to need two rows at sixty columns, with `code` in it and more words.' };
    const out = verdict_screen(course, ex, v, { done: 0, was_done: true, status: '', notice: '', cols: 60, rows: 24, hint }, PLAIN);
    expect(out.split('\n')[0]).toBe(' 01 add  ✗ 3 of 3 hidden tests fail (was done)'); // no room for the progress bar at 60
    expect(out).toContain(' hint 1/3: A hint long enough to need two rows at sixty\n           columns, with `code` in it and more words.\n');
    const none = verdict_screen(course, ex, v, { done: 0, status: '', notice: '', cols: 100, rows: 24, hint: { none: 'that was the last one.' } }, PLAIN);
    expect(none).toContain(' no more hints: that was the last one.\n');
  });

  test('the lesson pointer is the section the report chose', async () => {
    const course = await load_course(root);
    const t = failing('a', [diag('X', ['x'], [], 'lessons/01-add.md#elsewhere')], { lesson: 'lessons/01-add.md#the-exercise' });
    expect(lesson_pointer(course, { ...v, tests: [t] })).toBe('lessons/01-add.md § "The exercise"');
    expect(format_test_detail(t, PLAIN, '')).toContain('read lessons/01-add.md#the-exercise');
  });

  test('a run killed by the time limit points at the section on hangs', async () => {
    const course = await load_course(root);
    const hung: TestVerdict = { name: 'a', passed: false, state: 'failed', ms: 0, diagnostics: [] };
    expect(lesson_pointer(course, { ...v, tests: [hung], timed_out_s: 3 })).toContain('lessons/00-how-this-course-works.md');
  });

  test('a call site names the driver function it is in', () => {
    const d = diag('X', ['x'], [{ ...site('Mapped at', 96, 18), fn: 'edu_dma' }]);
    expect(diagnostic_lines(d, PLAIN)).toEqual(['x', `Mapped at: ${F}:96:18 (edu_dma)`]);
  });

  test('verify\'s one-line form names the driver function of each call site too', () => {
    const d = diag('X', ['x happened'], [{ ...site('Mapped at', 96, 18), fn: 'edu_dma' }]);
    const out = format_verdict_brief({ ...v, tests: [failing('a', [d])] }, '');
    expect(out).toContain(`    X at ${F}:96:18 (edu_dma): x happened`);
  });

  test('a diagnostic that happened more than once says how often, under its text', () => {
    const d = { ...diag('X', ['DMA-API: x', 'second line'], [{ ...site('Synced at', 89, 3), fn: 'edu_receive' }]), count: 8 };
    expect(diagnostic_lines(d, PLAIN)).toEqual(['DMA-API: x', '    second line', '    happened 8 times from these lines (the first is shown)', `Synced at: ${F}:89:3 (edu_receive)`]);
    expect(diagnostic_lines({ ...d, count: undefined }, PLAIN)).not.toContain('    happened 8 times from these lines (the first is shown)');
  });
});
