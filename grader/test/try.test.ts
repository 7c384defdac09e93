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

  test('the DMA engine by name: dmatest on the bundled provider, its summaries in dmatest\'s words; exit 0', () => {
    const r = run_try(['dmatest', '--shape', 'arm64-smmu']);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^== dmatest: dmatest \(dmatest\.c 6\.1\) on the bundled provider/);
    expect(r.out).toContain('== on machine arm64-smmu, seed 0x5eed');
    const sums = r.out.split('\n').filter((l) => / dmatest: dma0chan\d-copy\d: summary 20 tests, 0 failures \d+\.\d\d iops \d+ KB\/s \(0\)$/.test(l));
    expect(sums).toHaveLength(4);
    expect(r.out).toContain('== the checker: nothing to report');
    expect(r.code).toBe(0);
  }, 60_000);

  test('cyclic, defer and pio: period callbacks that stop while paused, a deferred probe, the PIO fallback', () => {
    const c = run_try(['cyclic', '--shape', 'x86-iommu']);
    expect(c.code).toBe(0);
    const cb = c.out.match(/period callbacks so far: (\d+) while running, (\d+) after the pause, (\d+) after resuming; 0 after terminate_sync/)!;
    expect(Number(cb[1])).toBeGreaterThanOrEqual(4);
    expect(cb[2]).toBe(cb[1]);
    expect(Number(cb[3])).toBeGreaterThan(Number(cb[2]));
    expect(c.out).toMatch(/residue paused: (\d+) \(paused\), \1 \(paused\) \(dmaengine_pause: 0\)/);
    const d = run_try(['defer']);
    expect(d.code).toBe(0);
    expect(d.out).toContain('   client plugged, no controller yet: probe deferred\n');
    expect(d.out).toContain('dmatest-client dma-copy: using dma0chan0');
    expect(d.out).toContain('   copy of 20000 bytes by DMA: 0 (every byte landed)');
    const p = run_try(['pio', '--shape', 'arm64']);
    expect(p.code).toBe(0);
    expect(p.out).toContain('dmatest-client dma-copy: no DMA channel, copying by PIO');
    expect(p.out).toContain('   copy of 4096 bytes by PIO: 0 (every byte landed)');
    expect(p.out).toContain('== the checker: nothing to report');
  }, 120_000);

  test('no exercise named, or one that does not exist: a usage line, exit 2', () => {
    const a = run_try([]);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/^usage: npm run try -- NN/);
    const b = run_try(['99']);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/^dmalab try: no exercise '99' \(have: 01-mmio-and-probe, /);
  }, 60_000);
});
