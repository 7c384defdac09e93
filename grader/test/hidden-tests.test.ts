// What the course's hidden tests say about broken drivers, as the grader shows it: a scratch
// copy of this course, drivers made from the reference solutions with one mistake each, graded
// by `verify --json` (a child process, as CI runs it); the verdicts are then formatted as the
// watcher formats them.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../course.ts';
import { remove_scratch, scratch_course } from '../scratch.ts';
import { PLAIN, format_test_detail } from '../ui/format.ts';
import type { TestVerdict, Verdict } from '../verdict.ts';
import { broken, cli } from './helpers.ts';

const root = scratch_course(REPO_ROOT, 'dmalab-hidden-');
const stub_root = scratch_course(REPO_ROOT, 'dmalab-hidden-stub-');
afterAll(() => {
  remove_scratch(root);
  remove_scratch(stub_root);
});

let verdicts: Verdict[] = [];
let stub01: Verdict;
const verdict = (id: string) => verdicts.find((v) => v.exercise === id)!;
const the_test = (v: Verdict, name: RegExp) => {
  const t = v.tests.find((x) => name.test(x.name));
  expect(t, `a test matching ${name} in ${v.exercise}: ${v.tests.map((x) => x.name).join(' | ')}`).toBeDefined();
  return t!;
};
const detail = (t: TestVerdict) => format_test_detail(t, PLAIN, '');

beforeAll(() => {
  // 01: the BAR is not unmapped when request_irq fails; remove keeps the regions; the factorial
  // register is mistyped (so no factorial ever starts).
  writeFileSync(join(root, 'exercises', '01-mmio-and-probe', 'driver.ts'), broken('01-mmio-and-probe', [
    ['      pci_iounmap(pdev, edu.bar);\n    }\n', '    }\n'],
    ['  pci_iounmap(pdev, edu.bar);\n  pci_release_regions(pdev);\n  pci_disable_device(pdev);\n}', '  pci_iounmap(pdev, edu.bar);\n  pci_disable_device(pdev);\n}'],
    ['const EDU_REG_FACT = 0x08;', 'const EDU_REG_FACT = 0x0c;'],
  ]));
  // 03: edu_read() copies the buffer out as soon as the transfer is started.
  writeFileSync(join(root, 'exercises', '03-coherent-dma', 'driver.ts'), broken('03-coherent-dma', [
    ['  const wret = edu_dma_wait(edu);\n  if (wret)\n    return wret;\n', ''],
  ]));
  // 04: never unmaps.
  writeFileSync(join(root, 'exercises', '04-streaming-dma', 'driver.ts'), broken('04-streaming-dma', [
    ['  dma_unmap_single(dev, handle, len, dir);', '  // dma_unmap_single(dev, handle, len, dir);'],
  ]));
  const r = cli(['verify', '--root', root, '--json', '--only', '01,03,04']);
  verdicts = r.events.filter((e) => e.event === 'verdict') as Verdict[];
  expect(verdicts.map((v) => v.exercise), r.stderr).toEqual(['01-mmio-and-probe', '03-coherent-dma', '04-streaming-dma']);
  // exercise 01's stub as committed, in a course of its own
  writeFileSync(join(stub_root, 'exercises', '01-mmio-and-probe', 'driver.ts'), execFileSync('git', ['show', 'HEAD:exercises/01-mmio-and-probe/driver.ts'], { cwd: REPO_ROOT }));
  const s = cli(['verify', '--root', stub_root, '--json', '--only', '01']);
  stub01 = s.events.find((e) => e.event === 'verdict') as Verdict;
  expect(stub01, s.stderr).toBeDefined();
}, 120_000);

describe('error paths (the fail-nth sweep)', () => {
  test('one summary line in the shape of every other test: the injected fault, then [machine, seed]: CODES', () => {
    const t = the_test(verdict('01-mmio-and-probe'), /every failure in probe is unwound.*\(x86\)/);
    expect(t.message).toBe('with a fault injected into the 5th of 5 calls that can fail (request_irq at exercises/01-mmio-and-probe/driver.ts:82:15), probe returned -12 (-ENOMEM), then 1 problem [machine x86, seed 0x5eed]: LEAK_RESOURCES');
    expect(t.diagnostics.map((d) => d.code)).toEqual(['LEAK_RESOURCES']);
    // each line once: the summary, then the diagnostic
    const lines = detail(t).split('\n').filter((l) => l.includes('failed probe left 1 resource behind') && !/^\s*\[/.test(l));
    expect(lines).toEqual(['dmalab: edu 0000:00:03.0: failed probe left 1 resource behind:']);
    // what a failed probe left behind is its error path's business
    expect(t.report?.lesson).toBe('lessons/01-mmio-and-probe.md#when-probe-fails');
  });

  test('the untouched stub: probe failed [machine, seed]: PROBE_FAILED, as the other tests say it', () => {
    const t = the_test(stub01, /every failure in probe is unwound.*\(arm64\)/);
    expect(t.message).toBe('probe failed [machine arm64, seed 0x5eed]: PROBE_FAILED');
    expect(t.diagnostics.map((d) => d.code)).toEqual(['PROBE_FAILED']);
  });
});

describe('the lesson section a failing test points at', () => {
  test('a leak at unbind points at the leak\'s section (§ Remove), not the test\'s (§ Probe)', () => {
    const t = the_test(verdict('01-mmio-and-probe'), /binds to edu and unbinds leaving nothing behind \(x86\)/);
    expect(t.message).toBe('1 problem [machine x86, seed 0x5eed]: LEAK_RESOURCES');
    expect(t.report?.lesson).toBe('lessons/01-mmio-and-probe.md#remove');
    expect(detail(t)).toContain('read lessons/01-mmio-and-probe.md#remove');
  });

  test('a failure the test itself found first points at the test\'s section; diagnostics in the order they happened', () => {
    // the factorials fail first; the leak comes at unbind
    const t = the_test(verdict('01-mmio-and-probe'), /computes n! .*\(x86\)/);
    expect(t.diagnostics.map((d) => d.code)).toEqual(['WRONG_RESULT', 'WRONG_RESULT', 'LEAK_RESOURCES']);
    expect(t.message).toBe('3 problems [machine x86, seed 0x5eed]: WRONG_RESULT (×2), LEAK_RESOURCES');
    expect(t.report?.lesson).toBe('lessons/01-mmio-and-probe.md#interrupts');
  });
});

describe('summaries count and name every diagnostic listed', () => {
  test('an expected SWIOTLB_FULL is counted and named, marked as expected', () => {
    const t = the_test(verdict('04-streaming-dma'), /swiotlb full/);
    const codes = t.diagnostics.map((d) => d.code);
    expect(codes).toContain('SWIOTLB_FULL');
    const [, n, list] = /^(\d+) problems? \[machine x86-swiotlb, seed 0x5eed\]: (.*)$/.exec(t.message ?? '') ?? [];
    expect(Number(n), t.message).toBe(codes.length);
    for (const c of new Set(codes)) expect(list).toContain(c);
    expect(list).toContain('SWIOTLB_FULL (expected here)');
  });

  test('a code listed twice says so', () => {
    const t = the_test(verdict('04-streaming-dma'), /edu_dma\(\) moves 4096 and 100 bytes .*\(x86\)/);
    const kfree = t.diagnostics.filter((d) => d.code === 'KFREE_MAPPED').length;
    expect(kfree).toBe(2);
    expect(t.message).toMatch(new RegExp(`^${t.diagnostics.length} problems \\[machine x86, seed 0x5eed\\]: .*KFREE_MAPPED \\(×2\\)`));
  });
});

describe('what the grader prints for a test', () => {
  test('a complaint repeated from the same lines is one diagnostic that says how often (verdict JSON: count)', () => {
    const t = the_test(verdict('04-streaming-dma'), /swiotlb full/);
    const full = t.diagnostics.filter((d) => d.code === 'SWIOTLB_FULL');
    expect(full).toHaveLength(1);
    expect(full[0]!.count).toBe(2);
    expect(detail(t)).toMatch(/swiotlb buffer is full[^\n]*\n\s+happened 2 times from these lines \(the first is shown\)\n/);
  });

  test('a leak list: identical lines once with (×N), and no site line the list already names', () => {
    const t = the_test(verdict('04-streaming-dma'), /edu_dma\(\) moves 4096 and 100 bytes .*\(x86\)/);
    const out = detail(t);
    const leak = out.slice(out.indexOf('pending DMA allocations'));
    const block = leak.slice(0, leak.indexOf('dmesg'));
    expect(block).toContain('Leaked (single, 4096 bytes) mapped at: exercises/04-streaming-dma/driver.ts:96:18 (edu_dma) (×2)');
    expect(block).toContain('Leaked (single, 100 bytes) mapped at: exercises/04-streaming-dma/driver.ts:96:18 (edu_dma) (×2)');
    expect(block).not.toContain('\nMapped at:');
    const lines = out.split('\n');
    expect(lines.filter((l) => l.startsWith('Leaked ('))).toHaveLength(2);
  });

  test('a data check the test reported as a finding is printed once', () => {
    const t = the_test(verdict('03-coherent-dma'), /move the data both ways \(x86\)/);
    expect(t.report?.data?.length).toBeGreaterThan(0);
    const out = detail(t);
    const d = t.report!.data![0]!;
    expect(out.split(d).length - 1, out).toBe(1);
    expect(out).not.toContain('→');
  });
});

describe('findings say what the test observed', () => {
  test('a mistyped factorial register: no factorial started, and no advice about polling', () => {
    const t = the_test(verdict('01-mmio-and-probe'), /computes n! .*\(arm64\)/);
    const lines = t.diagnostics.flatMap((d) => d.lines);
    expect(lines).toContain('dmalab: edu_factorial(edu, 0) returned -110 (-ETIMEDOUT), expected 1');
    const irq = lines.find((l) => l.includes("edu's interrupt fired"));
    expect(irq).toBe("dmalab: edu's interrupt fired 0 times for 1 factorial: edu never started a factorial to raise it; the driver wrote to offset 0xc, where edu has no register: n goes to EDU_REG_FACT, offset 0x08");
    expect(irq).not.toMatch(/poll/);
  });

  test('edu_read() copying before the interrupt: the data finding says so, and does not claim the opposite', () => {
    const t = the_test(verdict('03-coherent-dma'), /move the data both ways \(arm64\)/);
    const line = t.diagnostics.filter((d) => d.code === 'DATA_MISMATCH').flatMap((d) => d.lines)[0] ?? '';
    expect(line).toMatch(/^dmalab: the bytes edu_read\(edu, 4096\) returned \(what the coherent buffer held before edu's transfer: copy them out after its interrupt; edu was still writing the buffer when edu_read\(\) returned\): /);
    expect(line).not.toContain('copied out after the interrupt');
  });
});
