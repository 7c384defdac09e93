// What the verdict screen must keep whatever the failure, at a given terminal size: it fits
// (rows and columns), and it still shows the first failing test's first code, that diagnostic's
// first call site, and the lesson pointer. grader/test/screen-fit.test.ts runs it over every
// stub and bug-zoo mutant.
import type { Course } from '../course.ts';
import type { Exercise } from '../lib/manifest-types.ts';
import type { Verdict } from '../verdict.ts';
import { strip_ansi, vislen } from './fit.ts';
import { unique_sites } from './format.ts';
import { lesson_pointer, verdict_screen } from './screen.ts';
import { PLAIN } from './format.ts';

export function screen_problems(course: Course, ex: Exercise, v: Verdict, cols: number, rows: number): { screen: string; problems: string[] } {
  const screen = verdict_screen(course, ex, v, { done: 0, status: 'graded in 84 ms', notice: '', cols, rows }, PLAIN);
  const lines = screen.replace(/\n$/, '').split('\n');
  const problems: string[] = [];
  if (lines.length > rows) problems.push(`${lines.length} lines on a terminal of ${rows}`);
  lines.forEach((l, i) => {
    if (vislen(l) > cols) problems.push(`line ${i + 1} is ${vislen(l)} columns wide: ${l}`);
  });
  if (!lines[0]?.includes(ex.id.slice(3))) problems.push('the header is not on the first line');
  // Wrapped rows joined back, so a phrase broken over two rows is still found.
  const flat = strip_ansi(lines.map((l) => l.trim()).join(' '));
  // A path longer than a row is broken inside it.
  const tight = flat.replace(/ /g, '');
  const first = v.tests.find((t) => !t.passed && t.state !== 'skipped');
  const d = first?.diagnostics[0];
  if (d) {
    if (!flat.includes(d.code)) problems.push(`the first code, ${d.code}, is not shown`);
    const head = d.lines[0]?.slice(0, Math.min(40, cols - 10));
    if (head && !flat.includes(head)) problems.push(`its message ("${head}…") is not shown`);
    const site = unique_sites(d.sites, [])[0]?.where;
    if (site && !tight.includes(site.replace(/ /g, ''))) problems.push(`its first site, ${site}, is not shown`);
  }
  if (!v.passed) {
    const pointer = lesson_pointer(course, v);
    if (pointer && !flat.includes(`→ lesson: ${pointer}`)) problems.push(`the lesson pointer (${pointer}) is not shown`);
  }
  return { screen, problems };
}
