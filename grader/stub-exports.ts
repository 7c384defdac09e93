// The names a pristine stub exports at run time, and on which line: what the grader looks for
// in a learner's file (grader/lib/target.ts load_driver says which are missing, once).
import { join } from 'node:path';
import { type Course, CourseError, paths, rel } from './course.ts';
import type { Exercise } from './lib/manifest-types.ts';
import { pristine_files } from './materialise.ts';

/** What load_driver checks for one file of the driver under test (plain data: it is written
 *  into the generated test file). */
export interface ExpectedExports {
  /** the file under test, course-relative: exercises/01-x/driver.ts */
  file: string;
  /** where the stub is: grader/stubs/01-x/driver.ts, or HEAD:exercises/01-x/driver.ts */
  stub: string;
  /** exported name -> line in the stub */
  names: Record<string, number>;
}

export type StubExports = Omit<ExpectedExports, 'file'>;

const DECL = /^export\s+(?:declare\s+)?(?:async\s+)?(?:function\s*\*?|const|let|var|class|abstract\s+class|enum)\s+([A-Za-z_$][\w$]*)/;
const LIST = /^export\s*\{([^}]*)\}/;

/** Run-time exports of a module's source, with their lines (type-only exports are left out). */
export function exported_names(source: string): Record<string, number> {
  const out: Record<string, number> = {};
  source.split('\n').forEach((l, i) => {
    const d = DECL.exec(l);
    if (d) out[d[1]!] ??= i + 1;
    const list = LIST.exec(l);
    if (list) {
      for (const part of list[1]!.split(',')) {
        const p = part.trim();
        if (!p || p.startsWith('type ')) continue;
        out[p.split(/\s+as\s+/).pop()!.trim()] ??= i + 1;
      }
    }
  });
  return out;
}

/** The stub's exports of each of an exercise's files; {} when there is no pristine stub. */
export function stub_exports(course: Course, ex: Exercise): Record<string, StubExports> {
  let files;
  try {
    files = pristine_files(course, ex);
  } catch (e) {
    if (e instanceof CourseError) return {};
    throw e;
  }
  const out: Record<string, StubExports> = {};
  for (const p of files) {
    if (!ex.files.includes(p.file)) continue;
    out[p.file] = {
      stub: p.source === 'snapshot' ? `grader/stubs/${ex.id}/${p.file}` : `HEAD:${rel(course, join(paths.exercises(course), ex.id, p.file))}`,
      names: exported_names(p.content.toString('utf8')),
    };
  }
  return out;
}

/** What load_driver checks for the copy of an exercise under `target` (exercises/, solutions/, a
 *  mutant root). */
export function expected_exports(course: Course, ex: Exercise, target: string, stub: Record<string, StubExports>): Record<string, ExpectedExports> {
  const out: Record<string, ExpectedExports> = {};
  for (const [f, e] of Object.entries(stub)) out[f] = { ...e, file: rel(course, join(target, ex.id, f)) };
  return out;
}
