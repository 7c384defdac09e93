// The watcher's verdict screen (`npm start`), as text: header with progress, the verdict, type
// errors, the lesson section to read, hints. scripts/show-verdict.ts prints the same screen, so
// the lessons can paste what a learner will really see.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Course } from '../course.ts';
import { rel } from '../course.ts';
import type { Exercise } from '../lib/manifest-types.ts';
import { headings, render_markdown } from '../lesson.ts';
import type { TypeDiagnostic } from '../typecheck.ts';
import type { Verdict } from '../verdict.ts';
import { COLOR, format_verdict_body, headline, progress_bar, test_lesson, type Style } from './format.ts';

export interface ScreenState {
  /** Exercises done, for the progress bar. */
  done: number;
  /** Type errors for the graded content, if the checker has them. */
  types?: TypeDiagnostic[];
  hints_shown: number;
  /** 'graded in 84 ms · seed 0x5eed', or what the grader is doing before the first verdict. */
  status: string;
  notice: string;
  next?: Exercise;
  cols: number;
  /** every failing test in full (the `d` key), not only the first two */
  all_details?: boolean;
}

/** Failing tests the screen shows in full; the others get one line each. */
export const DETAILS_SHOWN = 2;

export function verdict_screen(course: Course, ex: Exercise, v: Verdict | undefined, s: ScreenState, st: Style): string {
  const num = ex.id.slice(0, 2);
  const name = ex.id.slice(3);
  const head = ` ${st.bold(num + ' ' + name)}  ${v ? (v.passed ? st.green(headline(v)) : st.red(headline(v))) : st.dim(s.status || 'not graded yet')}`;
  const bar = progress_bar(s.done, course.exercises.length);
  const pad = Math.max(2, s.cols - vislen(head) - bar.length - 1);
  let out = head + ' '.repeat(pad) + bar + '\n';
  out += st.dim(` ${ex.title} · edit exercises/${ex.id}/${ex.files[0]} · read ${ex.lesson}`) + '\n';
  if (v) out += format_verdict_body(v, st, { details: s.all_details ? Infinity : DETAILS_SHOWN });
  if (s.types?.length) {
    out += st.yellow(` types (tsx does not check them; fix them too):`) + '\n';
    for (const d of s.types.slice(0, 5)) out += `   ${st.bold(`${rel(course, d.file)}:${d.line}:${d.col}`)} TS${d.code}: ${d.message.split('\n')[0]}\n`;
    if (s.types.length > 5) out += st.dim(`   … and ${s.types.length - 5} more (npm run typecheck)`) + '\n';
  }
  if (v && !v.passed) {
    const pointer = lesson_pointer(course, v);
    if (pointer) out += st.dim(` → lesson: ${pointer}`) + '\n';
  }
  if (v?.passed) {
    out += st.green(` ✓ ${ex.id} is done.`) + ` Compare with the reference solution: ${st.bold(`solutions/${ex.id}/${ex.files[0]}`)}\n`;
    out += s.next ? ` press n for ${s.next.id}\n` : ` that was the last exercise: well done.\n`;
  }
  for (let i = 0; i < s.hints_shown && i < ex.hints.length; i++) {
    out += st.cyan(` hint ${i + 1}/${ex.hints.length}: `) + render_markdown(ex.hints[i]!, { color: st === COLOR }).trim() + '\n';
  }
  if (s.status && v) out += st.dim(` ${s.status}`) + '\n';
  if (s.notice) out += st.yellow(` ${s.notice}`) + '\n';
  out += st.dim(` h hint · l lesson · n next · r rerun · d ${s.all_details ? `details of the first ${DETAILS_SHOWN} only` : 'all failing tests in full'} · q quit`) + '\n';
  return out;
}

/** The lesson section that explains the first failure: 'lessons/01-....md § "Probe"'. */
export function lesson_pointer(course: Course, v: Verdict): string | undefined {
  for (const t of v.tests) {
    if (t.passed) continue;
    const l = test_lesson(t);
    if (l) return section_name(course, l);
  }
  // Killed by the time limit before any test could say more: the section on hangs.
  if (v.timed_out_s) return section_name(course, 'lessons/00-how-this-course-works.md#timeouts');
  return undefined;
}

function section_name(course: Course, l: string): string {
  const [file, anchor] = l.split('#');
  if (!anchor || !file) return l;
  try {
    const p = join(course.root, file);
    const src = existsSync(p) && statSync(p).isFile() ? readFileSync(p, 'utf8') : '';
    const h = headings(src).find((x) => x.anchor === anchor);
    return h ? `${file} § "${h.text}"` : l;
  } catch {
    return l;
  }
}

function vislen(s: string): number {
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}
