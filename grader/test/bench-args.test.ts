// bench/grader.ts's arguments: an exercise is named as verify's --only names one, and a name that
// matches none is an error that lists them (not, as it once was, a silent benchmark of 01).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../course.ts';
import { BOOT } from './helpers.ts';

const bench = (args: string[]) =>
  spawnSync(process.execPath, [BOOT, join(REPO_ROOT, 'bench', 'grader.ts'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });

describe('bench:grader --exercise', () => {
  test('an unknown exercise: exit 2, a line naming it and the known ones, nothing benchmarked', () => {
    const r = bench(['--exercise', '99']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^bench:grader: no exercise '99' \(known: 01-mmio-and-probe, .*14-dma-controller\)$/m);
    expect(r.stdout).not.toMatch(/save to verdict/);
  });
});
