// Runs inside a test worker, imported by every generated test file (engine.ts): tells the
// grader's process, at once, when each hidden test starts and how it ended.
//
// vitest sends test results to the main process in batches, on a 100 ms timer. A learner's
// infinite loop blocks the worker's event loop, so that timer never fires: when the watchdog
// kills the worker, the main process has not heard of the tests that finished in the last
// moments, nor of the one that started and never ended. process.send() writes to the IPC pipe
// straight away, so these messages arrive even then, and the grader can say which test hung
// and what the others did (warm-pool.ts collects them).
import { afterEach, beforeEach } from 'vitest';
import type { TestAnnouncement } from './warm-pool.ts';

interface Suite {
  name: string;
  /** the enclosing suite */
  suite?: Suite;
  /** only the file, the outermost suite, has it */
  filepath?: string;
}

interface Task {
  id: string;
  name: string;
  file: { filepath: string };
  suite?: Suite;
  result?: { state?: string; errors?: { name?: string; message?: string; stack?: string; expected?: unknown }[]; startTime?: number };
  meta: Record<string, unknown>;
}

/** "describe > test", as vitest's TestCase.fullName: the file, the outermost suite, does not count. */
function full_name(t: Task): string {
  const names = [t.name];
  for (let s = t.suite; s && s.filepath === undefined; s = s.suite) names.unshift(s.name);
  return names.join(' > ');
}

/** Report each test's start and end to the grader; with `shard`, run only this shard's tests
 *  (engine.ts's Shard: the others are skipped, and another worker runs them). */
export function announce(shard?: { k: number; n: number; of: Record<string, number> }): void {
  if (shard) {
    let index = 0;
    beforeEach((ctx) => {
      const i = index++;
      const k = shard.of[full_name(ctx.task as unknown as Task)] ?? i % shard.n;
      if (k !== shard.k) ctx.skip();
    });
  }
  const send = process.send?.bind(process);
  if (!send) return;
  const post = (m: TestAnnouncement) => {
    try {
      send(m);
    } catch {
      // the grader is gone: nothing to tell
    }
  };
  beforeEach((ctx) => {
    const t = ctx.task as unknown as Task;
    post({ __dmalab_test__: 'start', file: t.file.filepath, id: t.id, name: full_name(t) });
  });
  afterEach((ctx) => {
    const t = ctx.task as unknown as Task;
    const r = t.result;
    post({
      __dmalab_test__: 'end',
      file: t.file.filepath,
      id: t.id,
      name: full_name(t),
      state: r?.state === 'fail' ? 'failed' : r?.state === 'skip' ? 'skipped' : 'passed',
      ms: r?.startTime ? Date.now() - r.startTime : 0,
      errors: (r?.errors ?? []).map((e) => ({ name: e.name, message: e.message, stack: e.stack, ...('expected' in e ? { expected: true } : {}) })),
      // Only a failure's report is needed from here (after a kill, to explain it); a passing
      // test's would cost a serialisation per test for nothing.
      meta: r?.state === 'fail' ? JSON.parse(JSON.stringify(t.meta ?? {})) as Record<string, unknown> : {},
    });
  });
}
