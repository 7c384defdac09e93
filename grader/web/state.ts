// What the browser view shows, as plain data: the current exercise, its verdict (the same one the
// terminal shows, with each failing test's trace events for the timeline), the lesson section to
// read, the hint on screen. The watcher builds it on every change; the server pushes it.
import type { Course } from '../course.ts';
import type { Exercise } from '../lib/manifest-types.ts';
import type { HintShown } from '../ui/screen.ts';
import { lesson_pointer, lesson_target } from '../ui/screen.ts';
import { headline, test_lesson, unique_sites } from '../ui/format.ts';
import type { TestVerdict, Verdict } from '../verdict.ts';
import { render_inline } from './render.ts';

export interface WebLink { href: string; label: string }

export interface WebState {
  /** absolute course root: call sites become vscode://file/<root>/<file>:<line>:<col> */
  root: string;
  exercise: { id: string; title: string; file: string; lesson: WebLink };
  progress: { done: number; total: number; was_done: boolean };
  status: string;
  notice: string;
  verdict: WebVerdict | null;
  /** the section the first failure points at */
  lesson: WebLink | null;
  hint: { n: number; of: number; html: string } | { none: string } | null;
}

export interface WebVerdict {
  passed: boolean;
  headline: string;
  ms: number;
  seed: number;
  hash?: string;
  errors: Verdict['errors'];
  tests: (Omit<TestVerdict, 'report'> & { lesson: WebLink | null; sites: { label: string; where: string; fn?: string }[][]; report?: TestVerdict['report'] })[];
}

/** 'lessons/04-streaming-dma.md#unmapping' → the page and its anchor ('04-streaming-dma.html#unmapping'). */
export function lesson_href(target: string): string {
  const [file, anchor] = target.split('#');
  const page = (file ?? '').replace(/^lessons\//, '').replace(/\.md$/, '.html');
  return anchor ? `${page}#${anchor}` : page;
}

/** A verdict as the page needs it: every test; a failing one with its report (events included). */
export function web_verdict(course: Course, v: Verdict): WebVerdict {
  return {
    passed: v.passed,
    headline: headline(v),
    ms: v.ms,
    seed: v.seed,
    hash: v.hash,
    errors: v.errors,
    tests: v.tests.map((t) => {
      const { report, ...rest } = t;
      const failing = !t.passed && t.state !== 'skipped';
      const l = failing ? test_lesson(t) : undefined;
      return {
        ...rest,
        lesson: l ? { href: lesson_href(l), label: lesson_pointer(course, { ...v, tests: [t] }) ?? l } : null,
        sites: t.diagnostics.map((d) => unique_sites(d.sites, d.lines).map(({ label, where, fn }) => ({ label, where, fn }))),
        ...(failing && report ? { report } : {}),
      };
    }),
  };
}

export interface WatchView {
  current: Exercise;
  verdict: Verdict | undefined;
  done: number;
  was_done: boolean;
  status: string;
  notice: string;
  hint: HintShown | undefined;
}

/** The whole state, from what the watcher has on screen. The verdict's part is cached by
 *  identity: a verdict is built once, however often the status line changes. */
export function web_state(course: Course, w: WatchView, cache: WeakMap<Verdict, WebVerdict>): WebState {
  const v = w.verdict;
  let wv: WebVerdict | null = null;
  if (v) {
    wv = cache.get(v) ?? web_verdict(course, v);
    cache.set(v, wv);
  }
  const target = v && !v.passed ? lesson_target(v) : undefined;
  const h = w.hint;
  return {
    root: course.root,
    exercise: {
      id: w.current.id,
      title: w.current.title,
      file: `exercises/${w.current.id}/${w.current.files[0]}`,
      lesson: { href: lesson_href(w.current.lesson), label: w.current.lesson },
    },
    progress: { done: w.done, total: course.exercises.length, was_done: w.was_done },
    status: w.status,
    notice: w.notice,
    verdict: wv,
    lesson: target && v ? { href: lesson_href(target), label: lesson_pointer(course, v) ?? target } : null,
    hint: !h ? null : 'none' in h ? { none: render_inline(h.none) } : { n: h.n, of: h.of, html: render_inline(h.text) },
  };
}
