// A driver that spins, as the watcher grades it: each affected test reports its soft lockup at the
// learner's line within the watcher's 3 s. Real time is the point, so npm test runs this alone, after the
// parallel tests (vitest.config.ts), as it does the other watch-mode tests.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../course.ts';
import { remove_scratch, scratch_course } from '../scratch.ts';
import type { Verdict } from '../verdict.ts';
import { broken, cli, Watcher } from './helpers.ts';

describe('a driver that spins', () => {
  test('polling a status bit that stays set: every affected test reports its soft lockup and the line, within the watcher\'s 3 s', { timeout: 90_000 }, async () => {
    const spin_root = scratch_course(REPO_ROOT, 'dmalab-hidden-spin-');
    try {
      writeFileSync(join(spin_root, 'exercises', '01-mmio-and-probe', 'driver.ts'), broken('01-mmio-and-probe', [
        ['  if (!wait_for_completion_timeout(edu.fact_done, msecs_to_jiffies(100)))\n    return -ETIMEDOUT;',
          '  while (readl(edu.bar + EDU_REG_STATUS) & EDU_STATUS_IRQFACT) { } // bit 7 stays set\n  void msecs_to_jiffies;'],
      ]));
      const w = new Watcher(spin_root, ['01-mmio-and-probe']);
      const v = (await w.wait((e) => e.event === 'verdict', 0, 60_000)) as unknown as Verdict;
      await w.quit();
      expect(v.timed_out_s, JSON.stringify(v.errors)).toBeUndefined();
      const spun = v.tests.filter((t) => !t.passed);
      expect(spun.length).toBeGreaterThanOrEqual(2);
      for (const t of spun) {
        expect(t.diagnostics.map((d) => d.code)).toContain('SOFT_LOCKUP');
      }
      const first = spun[0]!.diagnostics.find((d) => d.code === 'SOFT_LOCKUP')!;
      expect(first.sites).toContainEqual(expect.objectContaining({ label: 'Stuck at', file: 'exercises/01-mmio-and-probe/driver.ts', line: 55 }));
      // A cold worker too (a one-shot run with the watcher's limit): loading does not count.
      const r = cli(['verify', '--root', spin_root, '--json', '--only', '01', '--timeout', '3']);
      const cold = (r.events.filter((e) => e.event === 'verdict') as Verdict[])[0]!;
      expect(cold.timed_out_s, JSON.stringify(cold.errors)).toBeUndefined();
      expect(cold.tests.filter((t) => !t.passed).length).toBe(spun.length);
    } finally {
      remove_scratch(spin_root);
    }
  });
});
