// A course on disk: its root, its manifest, and where each part of an exercise lives.
// The same code serves the real course (the repository) and fixture courses in tests:
// pick the root with `--root DIR` or DMALAB_ROOT.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Exercise, Mutant } from './lib/manifest-types.ts';

/** The repository this grader belongs to (holds node_modules, sim/, package.json). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export class CourseError extends Error {}

export interface Course {
  /** absolute course root: holds exercises/, solutions/, lessons/, grader/manifest.ts */
  root: string;
  exercises: Exercise[];
}

export function resolve_root(root?: string): string {
  return resolve(root ?? process.env.DMALAB_ROOT ?? REPO_ROOT);
}

export async function load_course(root?: string): Promise<Course> {
  const r = resolve_root(root);
  const manifest = join(r, 'grader', 'manifest.ts');
  if (!existsSync(manifest)) throw new CourseError(`no manifest at ${manifest}`);
  const mod = (await import(pathToFileURL(manifest).href)) as { exercises?: Exercise[] };
  if (!Array.isArray(mod.exercises)) throw new CourseError(`${manifest} does not export \`exercises\``);
  const course = { root: r, exercises: mod.exercises };
  check_manifest(course);
  return course;
}

/** Shape checks that would otherwise surface as confusing errors later. */
export function check_manifest(course: Course): void {
  const seen = new Set<string>();
  for (const ex of course.exercises) {
    const where = `grader/manifest.ts: exercise '${ex.id}'`;
    if (!/^\d\d-[a-z0-9-]+$/.test(ex.id)) throw new CourseError(`${where}: id must look like 'NN-name'`);
    if (seen.has(ex.id)) throw new CourseError(`${where}: listed twice`);
    seen.add(ex.id);
    if (!ex.files?.length) throw new CourseError(`${where}: no files`);
    const ms = new Set<string>();
    for (const m of ex.mutants ?? []) {
      if (ms.has(m.id)) throw new CourseError(`${where}: mutant '${m.id}' listed twice`);
      ms.add(m.id);
      if (m.file && !ex.files.includes(m.file)) {
        throw new CourseError(`${where}: mutant '${m.id}' edits '${m.file}', which is not in files`);
      }
    }
  }
}

export function find_exercise(course: Course, key: string): Exercise {
  const ex =
    course.exercises.find((e) => e.id === key) ??
    course.exercises.find((e) => e.id.startsWith(key.padStart(2, '0') + '-')) ??
    course.exercises.find((e) => e.id.slice(3) === key);
  if (!ex) throw new CourseError(`no exercise '${key}' (known: ${course.exercises.map((e) => e.id).join(', ') || 'none'})`);
  return ex;
}

export const paths = {
  exercises: (c: Course) => join(c.root, 'exercises'),
  solutions: (c: Course) => join(c.root, 'solutions'),
  exercise_file: (c: Course, ex: Exercise, f = ex.files[0]!) => join(c.root, 'exercises', ex.id, f),
  solution_file: (c: Course, ex: Exercise, f = ex.files[0]!) => join(c.root, 'solutions', ex.id, f),
  test: (c: Course, ex: Exercise) => join(c.root, ex.test),
  lesson: (c: Course, ex: Exercise) => join(c.root, ex.lesson.split('#')[0]!),
  state: (c: Course) => join(c.root, '.dmalab'),
  mutants: (c: Course) => join(c.root, '.dmalab', 'mutants'),
  mutant_root: (c: Course, ex: Exercise, m: Mutant) => join(c.root, '.dmalab', 'mutants', ex.id, m.id),
  stubs: (c: Course) => join(c.root, '.dmalab', 'stubs'),
  runs: (c: Course) => join(c.root, '.dmalab', 'runs'),
  backups: (c: Course) => join(c.root, '.dmalab', 'backups'),
  progress: (c: Course) => join(c.root, '.dmalab', 'progress.json'),
  snapshot: (c: Course) => join(c.root, 'grader', 'stubs'),
};

/** Content hash of an exercise's files as they stand (missing files hash as such). */
export function hash_files(dir: string, ex: Exercise): string {
  const h = createHash('sha1');
  for (const f of ex.files) {
    const p = join(dir, ex.id, f);
    h.update(f + '\0');
    h.update(existsSync(p) ? readFileSync(p) : '\u0000missing');
    h.update('\0');
  }
  return h.digest('hex').slice(0, 12);
}

/** Path relative to the course root, with forward slashes (for messages and links). */
export function rel(c: Course, p: string): string {
  return p.startsWith(c.root + '/') ? p.slice(c.root.length + 1) : p;
}
