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
