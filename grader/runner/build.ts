// The build step of a grade. vitest (through Vite) strips types without checking them, so a
// driver that passes a string where a number belongs would run and could pass; `make` would
// stop at the compile error. The engine type-checks the graded files while the hidden tests
// run, and a type error replaces the verdict: the build failed, no hidden test counts.
import { join } from 'node:path';
import type { TypeCheckResult, TypeDiagnostic } from '../typecheck.ts';
import type { ErrorInfo, Verdict } from '../verdict.ts';
import type { RunItem } from './engine.ts';

/** The files of an item the learner writes (absolute): what is type-checked. */
export function build_files(item: RunItem): string[] {
  return item.exercise.files.map((f) => join(item.target, item.exercise.id, f));
}

/** The type errors in an item's own files. */
export function item_type_errors(item: RunItem, r: TypeCheckResult): TypeDiagnostic[] {
  const files = new Set(build_files(item));
  return (r.diagnostics ?? []).filter((d) => files.has(d.file));
}

function relp(root: string, p: string): string {
  return p.startsWith(root + '/') ? p.slice(root.length + 1) : p;
}

/**
 * The verdict once the build step is known: unchanged when it built (or when the run already
 * failed to parse or to find a file, which says more), else a build failure listing each type
 * error as path:line:col TSnnnn message, with no test results.
 */
export function with_build(root: string, item: RunItem, v: Verdict, r: TypeCheckResult | undefined): Verdict {
  if (!r) return v; // superseded: the run is stale
  if (v.errors.some((e) => e.kind === 'syntax' || e.kind === 'missing')) return v;
  let errors: ErrorInfo[];
  if (r.error !== undefined) {
    errors = [{ kind: 'build', message: `dmalab: the build could not be checked: ${r.error.split('\n')[0]}` }];
  } else {
    const mine = item_type_errors(item, r);
    if (mine.length === 0) return v;
    errors = mine.map((d) => ({ kind: 'build', code: `TS${d.code}`, message: d.message, file: relp(root, d.file), line: d.line, col: d.col }));
  }
  const { timed_out_s: _, ...rest } = v;
  return { ...rest, passed: false, tests: [], errors };
}
