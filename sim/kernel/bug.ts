// BUG() and WARN(): the kernel's two ways of saying "this cannot be". A BUG ends the current
// driver call (an oops, as on a real machine where the task dies); a WARN is reported and the
// code goes on.
import { M } from './machine.ts';
import { KernelHalt } from './sched.ts';
import type { Code } from './codes.ts';
import type { Site } from './site.ts';

export function kernel_bug(code: Code, where: string, lines: string[], site: Site): never {
  const t = M.sched.task_line();
  M.diag.report(code, [
    '------------[ cut here ]------------',
    `kernel BUG at ${where}!`,
    M.shape.arch === 'arm64' ? 'Internal error: Oops - BUG: 00000000f2000800 [#1] PREEMPT SMP' : 'invalid opcode: 0000 [#1] PREEMPT SMP NOPTI',
    `CPU: 0 PID: ${t.pid} Comm: ${t.comm} Not tainted 6.1.0-dmalab #1`,
    ...lines,
  ], { sites: [['Called at', site]], distinct: true });
  throw new KernelHalt('bug', `kernel BUG at ${where}`);
}
