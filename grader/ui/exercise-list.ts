// The course's exercises and where the learner stands on each: the watcher's `e` key and
// `npm run list`.
import type { Course } from '../course.ts';
import type { Exercise } from '../lib/manifest-types.ts';
import { type ExerciseStatus, type Progress, status_of } from '../progress.ts';
import type { Style } from './format.ts';

const MARK: Record<ExerciseStatus, (st: Style) => string> = {
  done: (st) => st.green('✓ done'),
  changed: (st) => st.yellow('? changed since it passed: grade it again'),
  'was-done': (st) => st.yellow('✗ was done; fails now'),
  todo: (st) => st.dim('· not done'),
};

export function exercise_list(course: Course, p: Progress, st: Style, current?: Exercise): string[] {
  const w = Math.max(...course.exercises.map((e) => e.id.length));
  return course.exercises.map((ex) => {
    const here = ex === current ? '▸' : ' ';
    return ` ${here} ${ex.id.padEnd(w)}  ${ex.title.padEnd(22)} ${MARK[status_of(course, p, ex)](st)}`;
  });
}

/**
 * The exercise a list-view key sequence picks. Numbers are typed as they are shown: with 14 exercises `2` picks 02
 * at once, `1` waits for a second digit (`1` `3` picks 13) or Enter (01). Returns the exercise's index, 'more' while
 * the digits typed so far are a prefix of a longer number, or undefined for no exercise.
 */
export function list_pick(count: number, digits: string, enter = false): number | 'more' | undefined {
  if (!/^\d{1,2}$/.test(digits)) return undefined;
  const n = Number(digits);
  if (!enter && digits.length === 1 && n * 10 <= count && n > 0) return 'more';
  if (!enter && digits === '0' && count >= 10) return 'more';
  return n >= 1 && n <= count ? n - 1 : undefined;
}
