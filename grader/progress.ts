// The learner's progress (.dmalab/progress.json) and `reset`.
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Course, paths, rel } from './course.ts';
import type { Exercise } from './lib/manifest-types.ts';
import { pristine_files } from './materialise.ts';

export interface Progress {
  version: 1;
  /** the exercise the watcher is on */
  current?: string;
  exercises: Record<string, { done: boolean; hash?: string; at?: string; hints_seen?: number }>;
}

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
 * Record a verdict. A finished exercise stays finished until its files change and fail: a
 * failure of the very content that passed (a flaky rerun) does not undo it.
 */
export function record(p: Progress, id: string, passed: boolean, hash: string | undefined): boolean {
  const e = (p.exercises[id] ??= { done: false });
  const before = e.done;
  if (passed) {
    e.done = true;
    e.hash = hash;
    e.at = new Date().toISOString();
  } else if (e.done && hash !== e.hash) {
    e.done = false;
  }
  return before !== e.done;
}

export function done_count(course: Course, p: Progress): number {
  return course.exercises.filter((e) => p.exercises[e.id]?.done).length;
}

export function first_unfinished(course: Course, p: Progress): Exercise | undefined {
  return course.exercises.find((e) => !p.exercises[e.id]?.done);
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
  return { backups, source: files[0]?.source === 'snapshot' ? `grader/stubs/${ex.id}/` : `git HEAD:exercises/${ex.id}/` };
}
