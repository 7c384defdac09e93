// What a hidden test reports (docs/contracts.md §3), and the helper that attaches it to the
// vitest task. Plain data only: no sim types, so the grader never imports the sim.

export interface CallSite {
  label: string;
  /** relative to the repository root */
  file: string;
  line: number;
  col: number;
  /** the driver function the site is in (absent in reports from before it was recorded) */
  fn?: string;
}

export interface Diagnostic {
  /** stable id, e.g. 'DMA_UNMAP_WRONG_SIZE' */
  code: string;
  origin: 'dma-debug' | 'kernel' | 'dmalab';
  /** the text as the kernel prints it, one entry per printed line, no timestamp */
  lines: string[];
  sites: CallSite[];
  /** lesson section that explains it */
  lesson?: string;
  /** virtual time */
  time_ns: number;
  /** how often it happened: the same complaint from the same lines is one record */
  count?: number;
}

export interface TestReport {
  /** machine shape of the (first failing, else last) run, e.g. 'arm64' */
  shape: string;
  /** its seed; the run replays exactly with it */
  seed: number;
  diagnostics: Diagnostic[];
  /** the machine's dmesg lines (tail), kernel format */
  dmesg: string[];
  /** last trace events, formatted */
  trace: string[];
  /** a failing test's last trace events as data, for the browser's timeline (sim/kernel/trace.ts) */
  events?: TraceEvents;
  /** data checks that failed */
  data?: string[];
  /** 'lessons/05-sync-and-ownership.md#who-owns-the-buffer' */
  lesson?: string;
}

/** Trace events as data (sim/kernel/trace.ts's TraceDump; the grader never imports the sim):
 *  rows of [t_ns, kind, dev, a, b, c, e, note, site 'file:line:col fn', t_end_ns]. */
export interface TraceEvents {
  kinds: readonly string[];
  devs: Record<number, string>;
  events: [number, number, number, number, number, number, number, string | null, string | null, number | null][];
  dropped: number;
}

/** The part of a vitest task (or test context) we need: `{ task }` from the test function's
 *  context, or the task itself. */
type TaskLike = { meta: object } | { task: { meta: object } };

/**
 * Attach a report to the running test so the grader can show it:
 *
 *   test('maps and unmaps', async (ctx) => {
 *     const r = run_workload(...);            // from sim/testing
 *     attach_report(ctx, r.report);           // before asserting: a failed expect still reports
 *     expect(r.diagnostics).toEqual([]);
 *   });
 *
 * Calling it again replaces the report (the last one wins). The report is copied through JSON,
 * so it must be plain data.
 */
export function attach_report(task: TaskLike, report: TestReport): void {
  const t = ('task' in task ? task.task : task) as { meta: Record<string, unknown> };
  t.meta.dmalab = JSON.parse(JSON.stringify(report)) as TestReport;
}

/** Read a report back from vitest's `testCase.meta()` (grader side). */
export function report_of(meta: Record<string, unknown> | undefined): TestReport | undefined {
  const r = meta?.dmalab as TestReport | undefined;
  if (!r || typeof r !== 'object' || !Array.isArray(r.diagnostics)) return undefined;
  return r;
}

declare module 'vitest' {
  interface TaskMeta {
    dmalab?: TestReport;
  }
  interface ProvidedContext {
    dmalab_target: string;
    /** the seed hidden tests build their machines with (target.ts's test_seed) */
    dmalab_seed: number;
  }
}
