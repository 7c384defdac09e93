// The watcher's verdict screen (`npm start`), fitted to the terminal: the header with progress,
// the first failing test's diagnosis (its first code and message, its first call sites, the last
// dmesg lines that fit), the lesson section to read, `+N more failing · d for all`, a hint, the
// keys. Every failure in full is the `d` pager (details_lines). scripts/show-verdict.ts prints
// the same screen, so the lessons can paste what a learner will really see.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Course } from '../course.ts';
import type { Exercise } from '../lib/manifest-types.ts';
import { headings, render_markdown } from '../lesson.ts';
import type { TestVerdict, Verdict } from '../verdict.ts';
import { cut, mark_cut, vislen, wrap, wrap_block } from './fit.ts';
import { COLOR, diagnostic_parts, format_error, format_verdict_body, headline, hex, progress_bar, test_lesson, type Style } from './format.ts';

/** The hint on screen: the nth of those `h` shows for this verdict, or the last press's word. */
export type HintShown = { n: number; of: number; text: string } | { none: string };

export interface ScreenState {
  /** Exercises done, for the progress bar. */
  done: number;
  /** The exercise passed once, and its file as it is now does not. */
  was_done?: boolean;
  hint?: HintShown;
  /** 'graded in 84 ms · seed 0x5eed', or what the grader is doing before the first verdict. */
  status: string;
  notice: string;
  /** the browser view's address, when `--web` serves it */
  web?: string;
  next?: Exercise;
  cols: number;
  /** The terminal's height; the screen never takes more (Infinity: no limit). */
  rows: number;
}

/** dmesg lines at most, however tall the terminal: the rest is in `d`. */
const DMESG_MAX = 12;

/** A piece of the screen: its rows (each already fitted to the width), how many of them it keeps
 *  when the screen is too short, and which pieces give up rows first (lower first). */
interface Part {
  lines: string[];
  keep: number;
  prio: number;
  /** where the dmesg tail goes */
  fill?: boolean;
}

export function verdict_screen(course: Course, ex: Exercise, v: Verdict | undefined, s: ScreenState, st: Style): string {
  const cols = Math.max(40, s.cols);
  const parts: Part[] = [];
  const add = (lines: string[], keep = lines.length, prio = 9) => parts.push({ lines, keep, prio });

  const num = ex.id.slice(0, 2);
  const name = ex.id.slice(3);
  const state = v ? (v.passed ? st.green(headline(v)) : st.red(headline(v))) : st.dim(s.status || 'not graded yet');
  const head = ` ${st.bold(num + ' ' + name)}  ${state}${s.was_done && v && !v.passed ? st.yellow(' (was done)') : ''}`;
  const bar = progress_bar(s.done, course.exercises.length);
  const pad = cols - vislen(head) - bar.length - 1;
  add(pad >= 2 ? [head + ' '.repeat(pad) + bar] : [cut(head, cols)]);
  // The title when there is room for it: the header already names the exercise.
  const where = `edit exercises/${ex.id}/${ex.files[0]} · read ${ex.lesson}`;
  add([cut(st.dim(vislen(where) + ex.title.length + 4 <= cols ? ` ${ex.title} · ${where}` : ` ${where}`), cols)]);

  let dmesg: string[] = [];
  if (v) {
    for (const e of v.errors) add(wrap_block(format_error(e, st, ' '), cols), 2, 3);
    if (v.errors.some((e) => e.kind === 'build')) add([cut(st.dim(' no hidden test ran: the tests run once the driver builds'), cols)], 0, 1);
    const failing = v.tests.filter((t) => !t.passed && t.state !== 'skipped');
    const first = failing[0];
    if (first) {
      dmesg = first_failure(first, st, cols, add);
      parts[parts.length - 1]!.fill = true;
    }
    if (!v.passed) {
      const pointer = lesson_pointer(course, v);
      if (pointer) add(wrap(st.dim(`→ lesson: ${pointer} · l to read it`), cols, ' ', '   '));
      const passing = v.tests.filter((t) => t.passed).length;
      const more = failing.length - 1;
      if (more > 0 || first) {
        const what = more > 0 ? `+${more} more failing${passing ? `, ${passing} passing` : ''} · d for all` : `d: this failure in full`;
        add([cut(' ' + what, cols)]);
      }
    } else {
      add(wrap(st.green(`✓ ${ex.id} is done.`) + ` Compare with the reference solution: ${st.bold(`solutions/${ex.id}/${ex.files[0]}`)}`, cols, ' ', '   '));
      add([s.next ? ` press n for ${s.next.id}` : ` that was the last exercise: well done.`]);
      // The tests that passed, as many as fit.
      parts.push({ lines: v.tests.map((t) => cut(` ${st.green('✓')} ${t.name}`, cols)), keep: 0, prio: 0 });
    }
  }
  if (s.hint) add(hint_lines(s.hint, st, cols), 2, 2);
  if (s.status && v) add([cut(st.dim(` ${s.status}`), cols)], 0, 0);
  if (s.notice) add(wrap(st.yellow(s.notice), cols, ' ', '   '), 1, 4);
  if (s.web) add([cut(st.dim(` in the browser: ${s.web}`), cols)], 0, 1);
  add(wrap(st.dim(`h hint · l lesson · d all failures · e exercises · n next · r rerun · q quit`), cols, ' ', ' '));

  return fit(parts, dmesg, s.rows, cols, st).map((l) => l + '\n').join('');
}

/** The first failing test: its name, its summary, its first diagnostic with its first sites, a
 *  failed data check. Returns its dmesg tail, which gets the rows left over. */
function first_failure(t: TestVerdict, st: Style, cols: number, add: (lines: string[], keep?: number, prio?: number) => void): string[] {
  add(wrap(`${st.red('✗')} ${t.name}`, cols, ' ', '     '), 1, 2);
  if (t.error && t.error.kind !== 'assertion') {
    add(wrap_block(format_error(t.error, st, '   '), cols), 3, 3);
  } else if (t.message) {
    add(wrap(st.yellow(t.message.split('\n')[0]!), cols, '   ', '     '), 1, 3);
  }
  const d = t.diagnostics[0];
  if (d) {
    const p = diagnostic_parts(d, st);
    add(p.text.flatMap((l) => wrap_block('   ' + l, cols)), 2, 1);
    if (p.count) add(wrap_block('   ' + p.count, cols), 0, 0);
    if (p.sites.length) add(p.sites.slice(0, 3).flatMap((l) => wrap(l, cols, '   ', '     ')), 1, 2);
  }
  const said = t.diagnostics.flatMap((x) => x.lines);
  const data = (t.report?.data ?? []).find((dl) => !said.some((l) => l.includes(dl)));
  if (data) add(wrap(`${st.red('→')} ${data}`, cols, '   ', '     '), 0, 1);
  if (!t.message && t.report) add([cut(st.dim(`   seed ${hex(t.report.seed)} · machine ${t.report.shape}`), cols)], 0, 1);
  // The log leading up to the failure: lines that repeat the diagnostic just shown are left out.
  const shown = new Set(d?.lines ?? []);
  return (t.report?.dmesg ?? []).filter((l) => !shown.has(l.replace(/^\[[ \d.]+\] /, ''))).map((l) => cut(st.dim('     ' + l), cols));
}

/** Give up rows, lowest priority first, until the screen fits; then the dmesg tail fills what is
 *  left (after the first failure's part). */
function fit(parts: Part[], dmesg: string[], rows: number, cols: number, st: Style): string[] {
  const total = () => parts.reduce((n, p) => n + p.lines.length, 0);
  while (total() > rows) {
    const p = parts.filter((x) => x.lines.length > x.keep).sort((a, b) => a.prio - b.prio)[0];
    if (!p) break;
    p.lines.pop();
    if (p.lines.length && !p.lines.at(-1)!.endsWith(' …')) p.lines[p.lines.length - 1] = mark_cut(p.lines.at(-1)!, cols);
  }
  const left = Math.min(rows - total() - 1, DMESG_MAX, dmesg.length);
  const out: string[] = [];
  const at = parts.findIndex((p) => p.fill);
  parts.forEach((p, i) => {
    out.push(...p.lines);
    if (i === at && left > 0) {
      out.push(st.dim(`   dmesg (last ${left}):`));
      out.push(...dmesg.slice(-left));
    }
  });
  return out;
}

/** A hint wrapped to the terminal under its label (a hanging indent). */
export function hint_lines(h: HintShown, st: Style, cols: number): string[] {
  if ('none' in h) return wrap(st.cyan('no more hints: ') + h.none, cols, ' ', '   ');
  const label = ` hint ${h.n}/${h.of}: `;
  const text = render_markdown(h.text, { color: st === COLOR, width: 10_000 }).trim().replace(/\n+/g, ' ');
  return wrap(st.cyan(label) + text, cols, '', ' '.repeat(label.length));
}

/** Every failing test in full, for the `d` pager: the body of the verdict, wrapped. */
export function details_lines(ex: Exercise, v: Verdict, st: Style, cols: number): string[] {
  const out = [st.bold(` ${ex.id}: ${headline(v)}`), ''];
  out.push(...wrap_block(format_verdict_body(v, st, { details: Infinity, dmesg: 40, trace: 20 }), Math.max(40, cols), 4));
  return out;
}

/** The lesson section that explains the first failure, as a file and anchor
 *  ('lessons/01-mmio-and-probe.md#probe'). */
export function lesson_target(v: Verdict): string | undefined {
  for (const t of v.tests) {
    if (t.passed) continue;
    const l = test_lesson(t);
    if (l) return l;
  }
  // Killed by the time limit before any test could say more: the section on hangs.
  if (v.timed_out_s) return 'lessons/00-how-this-course-works.md#timeouts';
  if (v.errors.some((e) => e.kind === 'build')) return 'lessons/00-how-this-course-works.md#typescript-for-c-programmers';
  return undefined;
}

/** The lesson section that explains the first failure: 'lessons/01-....md § "Probe"'. */
export function lesson_pointer(course: Course, v: Verdict): string | undefined {
  const l = lesson_target(v);
  return l ? section_name(course, l) : undefined;
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
