// Turning the manifest into directories a hidden test can load: mutants (the solution with a
// manifest entry's edits applied) and the pristine stubs.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { type Course, CourseError, paths } from './course.ts';
import type { Exercise, Mutant } from './lib/manifest-types.ts';

export class MutantError extends CourseError {}

/** Apply a mutant's edits to the source of its file; each `find` must occur exactly once. */
export function apply_edits(ex: Exercise, m: Mutant, source: string): string {
  const file = m.file ?? ex.files[0]!;
  let out = source;
  m.edits.forEach((e, i) => {
    const where = `grader/manifest.ts: exercise '${ex.id}', mutant '${m.id}', edit ${i + 1} of ${m.edits.length}`;
    if (!e.find) throw new MutantError(`${where}: \`find\` is empty`);
    const n = count(out, e.find);
    if (n !== 1) {
      throw new MutantError(
        `${where}: \`find\` ${JSON.stringify(e.find)} occurs ${n} times in solutions/${ex.id}/${file}` +
          (n === 0 ? ' (did the solution change?)' : ' (make it longer so it matches exactly once)'),
      );
    }
    out = out.replace(e.find, () => e.replace);
  });
  if (out === source) throw new MutantError(`grader/manifest.ts: exercise '${ex.id}', mutant '${m.id}': the edits change nothing`);
  return out;
}

function count(hay: string, needle: string): number {
  let n = 0;
  for (let i = hay.indexOf(needle); i !== -1; i = hay.indexOf(needle, i + 1)) n++;
  return n;
}

/** Write `content` unless the file already holds it (keeps mtimes and Vite's cache warm). */
function put(file: string, content: string | Buffer): void {
  if (existsSync(file)) {
    const old = readFileSync(file);
    if (Buffer.isBuffer(content) ? old.equals(content) : old.toString('utf8') === content) return;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}

/**
 * Materialise one mutant under .dmalab/mutants/<id>/<mutant>/<id>/: every file of the
 * solution's directory, with the mutated file edited. Returns the mutant root (a target).
 */
export function materialise_mutant(course: Course, ex: Exercise, m: Mutant): string {
  const src = join(paths.solutions(course), ex.id);
  const file = m.file ?? ex.files[0]!;
  if (!existsSync(join(src, file))) {
    throw new MutantError(`grader/manifest.ts: exercise '${ex.id}', mutant '${m.id}': solutions/${ex.id}/${file} does not exist`);
  }
  const root = paths.mutant_root(course, ex, m);
  const dst = join(root, ex.id);
  for (const f of list_files(src)) {
    const content = readFileSync(join(src, f));
    put(join(dst, f), f === file ? apply_edits(ex, m, content.toString('utf8')) : content);
  }
  return root;
}

/** Materialise every mutant of the course; errors name the manifest entry. */
export function materialise_mutants(course: Course, only?: Set<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const ex of course.exercises) {
    if (only && !only.has(ex.id)) continue;
    for (const m of ex.mutants) out.set(`${ex.id}/${m.id}`, materialise_mutant(course, ex, m));
  }
  return out;
}

function list_files(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...list_files(p, join(prefix, name)));
    else out.push(join(prefix, name));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Pristine stubs: one source of truth for the stub proof and for `reset`.
//
// 1. grader/stubs/<id>/ — a snapshot shipped with the course (like rustlings' embedded copies);
//    it survives a learner committing their work, so reset still finds the original.
//    `npm run stubs` refreshes it from git HEAD; `npm test` checks it is current.
// 2. else `git show HEAD:exercises/<id>/<file>` — the committed stub (a clean clone's state).
// Never the working tree: that is the learner's.

export interface PristineFile {
  file: string;
  content: Buffer;
  source: 'snapshot' | 'git';
}

function git_root(dir: string): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

/** Files of exercises/<id>/ as committed at HEAD (undefined when not in git or not committed). */
export function git_stub_files(course: Course, ex: Exercise): Map<string, Buffer> | undefined {
  const top = git_root(course.root);
  if (!top) return undefined;
  const dir = relative(top, join(paths.exercises(course), ex.id)).split('\\').join('/');
  let names: string[];
  try {
    names = execFileSync('git', ['ls-tree', '-r', '--name-only', 'HEAD', '--', dir + '/'], { cwd: top, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .split('\n')
      .filter(Boolean);
  } catch {
    return undefined;
  }
  if (names.length === 0) return undefined;
  const out = new Map<string, Buffer>();
  for (const n of names) {
    out.set(n.slice(dir.length + 1), execFileSync('git', ['show', `HEAD:${n}`], { cwd: top, maxBuffer: 64 << 20 }));
  }
  return out;
}

export function pristine_files(course: Course, ex: Exercise): PristineFile[] {
  const snap = join(paths.snapshot(course), ex.id);
  if (existsSync(snap)) {
    return list_files(snap).map((f) => ({ file: f, content: readFileSync(join(snap, f)), source: 'snapshot' as const }));
  }
  const git = git_stub_files(course, ex);
  if (git) return [...git].map(([file, content]) => ({ file, content, source: 'git' as const }));
  throw new CourseError(
    `no pristine stub for '${ex.id}': neither grader/stubs/${ex.id}/ nor a committed exercises/${ex.id}/ (run \`npm run stubs\` in the course repository)`,
  );
}

/** The pristine stub of one file. */
export function pristine(course: Course, ex: Exercise, file = ex.files[0]!): Buffer {
  const f = pristine_files(course, ex).find((p) => p.file === file);
  if (!f) throw new CourseError(`the pristine stub of '${ex.id}' has no ${file}`);
  return f.content;
}

/** Materialise the pristine stubs under .dmalab/stubs/<id>/ (a target for the stub proof). */
export function materialise_stubs(course: Course, only?: Set<string>): string {
  const root = paths.stubs(course);
  for (const ex of course.exercises) {
    if (only && !only.has(ex.id)) continue;
    for (const p of pristine_files(course, ex)) put(join(root, ex.id, p.file), p.content);
  }
  return root;
}

/** Write grader/stubs/ from the stubs committed at HEAD (course authors; `npm run stubs`). */
export function snapshot_stubs(course: Course): string[] {
  const done: string[] = [];
  for (const ex of course.exercises) {
    const git = git_stub_files(course, ex);
    if (!git) throw new CourseError(`exercises/${ex.id}/ is not committed: commit the stub first`);
    const dir = join(paths.snapshot(course), ex.id);
    rmSync(dir, { recursive: true, force: true });
    for (const [f, c] of git) put(join(dir, f), c);
    done.push(ex.id);
  }
  return done;
}

/** Differences between grader/stubs/<id>/ and HEAD's exercises/<id>/ (empty when current or
 *  when either side is missing). */
export function snapshot_drift(course: Course, ex: Exercise): string[] {
  const snap = join(paths.snapshot(course), ex.id);
  if (!existsSync(snap)) return [];
  const git = git_stub_files(course, ex);
  if (!git) return [];
  const out: string[] = [];
  const files = new Set([...list_files(snap), ...git.keys()]);
  for (const f of files) {
    const a = existsSync(join(snap, f)) ? readFileSync(join(snap, f)) : undefined;
    const b = git.get(f);
    if (!a || !b || !a.equals(b)) out.push(f);
  }
  return out;
}

