// `npm run try`, the playground, as a learner runs it: a child process on a copy of the course.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../course.ts';
import { remove_scratch, scratch_course } from '../scratch.ts';

const root = scratch_course(REPO_ROOT, 'dmalab-try-');
afterAll(() => remove_scratch(root));

function run_try(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './sim/site/register.ts', 'grader/try.ts', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('npm run try', () => {
  test('the reference solution: its dmesg, a silent checker, the trace; exit 0', () => {
    const r = run_try(['04', '--solution', '--shape', 'arm64']);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^== 04-streaming-dma \(solutions\/04-streaming-dma\/driver\.ts\) on machine arm64, seed 0x5eed\n== dmesg\n/);
    expect(r.out).toContain('== the checker: nothing to report');
    expect(r.out).toMatch(/== trace \(last 30 events\)\n\s+\d+\.\d{6}: /);
    expect(r.code).toBe(0);
  }, 60_000);

  test('a driver that never unmaps: each diagnostic with its sites said once, repeats counted; exit 1', () => {
    const f = join(root, 'exercises', '04-streaming-dma', 'driver.ts');
    const sol = readFileSync(join(root, 'solutions', '04-streaming-dma', 'driver.ts'), 'utf8');
    const find = '  dma_unmap_single(dev, handle, len, dir);\n';
    expect(sol.split(find).length).toBe(2);
    writeFileSync(f, sol.replace(find, '  // (no unmap)\n'));
    const r = run_try(['04']);
    expect(r.code).toBe(1);
    const leak = r.out.slice(r.out.indexOf('   DMA_LEAK_AT_UNBIND:'), r.out.indexOf('== trace'));
    // Two leaked mappings from one line: one site line with its count, and dma-debug's own
    // "Mapped at" (the same place) not said again.
    expect(leak.split('\n').filter(Boolean)).toEqual([
      '   DMA_LEAK_AT_UNBIND: DMA-API: pci 0000:00:03.0: device driver has pending DMA allocations while released from device [count=2]',
      '      Leaked (single, 24 bytes) mapped at: exercises/04-streaming-dma/driver.ts:96:18 (edu_dma) (×2)',
    ]);
  }, 60_000);

  test('no exercise named, or one that does not exist: a usage line, exit 2', () => {
    const a = run_try([]);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/^usage: npm run try -- NN/);
    const b = run_try(['99']);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/^dmalab try: no exercise '99' \(have: 01-mmio-and-probe, /);
  }, 60_000);
});
