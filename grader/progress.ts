// The learner's progress (.dmalab/progress.json) and `reset`.
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Course, hash_files, paths, rel } from './course.ts';
import type { Exercise } from './lib/manifest-types.ts';
import { pristine_files } from './materialise.ts';

export interface Progress {
  version: 1;
  /** the exercise the watcher is on */
  current?: string;
  /** done: the files graded last, whose content hash is `hash`, passed. was_done: they once did. */
  exercises: Record<string, { done: boolean; hash?: string; at?: string; hints_seen?: number; was_done?: boolean }>;
}

export type ExerciseStatus = 'done' | 'changed' | 'was-done' | 'todo';

export function load_progress(course: Course): Progress {
  const f = paths.progress(course);
  try {
    const p = JSON.parse(readFileSync(f, 'utf8')) as Progress;
    if (p && p.version === 1 && typeof p.exercises === 'object') return p;
  } catch {
    // missing or corrupt: start over (a corrupt file is kept aside below on the next save)
  }
  return { version: 1, exercises: {} };
}

/** Atomic write: a crash never leaves half a file. */
export function save_progress(course: Course, p: Progress): void {
  const f = paths.progress(course);
  mkdirSync(dirname(f), { recursive: true });
  const tmp = `${f}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(p, null, 2) + '\n');
  renameSync(tmp, f);
}

/**
 * Record a verdict. Done means one thing: the files as they are now pass. A failing save undoes
 * it (the exercise then "was done"); so does a failing rerun of the same content.
 */
export function record(p: Progress, id: string, passed: boolean, hash: string | undefined): boolean {
  const e = (p.exercises[id] ??= { done: false });
  const before = e.done;
  if (passed) {
    e.done = true;
    e.was_done = true;
    e.hash = hash;
    e.at = new Date().toISOString();
  } else {
    e.done = false;
  }
  return before !== e.done;
}

/** An exercise's status against its files as they stand: done only if the content that passed
 *  is still there ('changed': edited since, not graded yet). */
export function status_of(course: Course, p: Progress, ex: Exercise): ExerciseStatus {
  const e = p.exercises[ex.id];
  if (e?.done) return e.hash === undefined || e.hash === hash_files(paths.exercises(course), ex) ? 'done' : 'changed';
  return e?.was_done ? 'was-done' : 'todo';
}

export function done_count(course: Course, p: Progress): number {
  return course.exercises.filter((e) => status_of(course, p, e) === 'done').length;
}

export function first_unfinished(course: Course, p: Progress): Exercise | undefined {
  return course.exercises.find((e) => status_of(course, p, e) !== 'done');
}

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[:.]/g, '-');
}

/**
 * Restore an exercise's stub. Each file that differs from the pristine stub is copied first to
 * .dmalab/backups/<id>/<timestamp>/<file>. Nothing but the exercise's own files is written.
 */
export function reset(course: Course, ex: Exercise): { backups: string[]; source: string } {
  const files = pristine_files(course, ex);
  const dir = join(paths.exercises(course), ex.id);
  const when = stamp();
  const backups: string[] = [];
  for (const p of files) {
    const target = join(dir, p.file);
    if (existsSync(target)) {
      if (readFileSync(target).equals(p.content)) continue;
      const b = join(paths.backups(course), ex.id, when, p.file);
      mkdirSync(dirname(b), { recursive: true });
      copyFileSync(target, b);
      backups.push(rel(course, b));
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, p.content);
  }
  // The stub does not pass: the exercise is not done, and never was with this file.
  const p = load_progress(course);
  if (p.exercises[ex.id]) {
    delete p.exercises[ex.id];
    save_progress(course, p);
  }
  return { backups, source: files[0]?.source === 'snapshot' ? `grader/stubs/${ex.id}/` : `git HEAD:exercises/${ex.id}/` };
}
