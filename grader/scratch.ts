// A throwaway copy of a course (for the grader's tests and the bench): everything but
// node_modules, .git and .dmalab, with node_modules and the grader's own lib linked back.
import { cpSync, existsSync, lstatSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { REPO_ROOT } from './course.ts';

export function scratch_course(src: string, prefix = 'dmalab-scratch-'): string {
  const dst = mkdtempSync(join(tmpdir(), prefix));
  cpSync(src, dst, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (p) => !['node_modules', '.git', '.dmalab'].includes(basename(p)) || p === src,
  });
  // relative symlinks (a fixture's grader/lib -> the real grader/lib) must point back
  const lib = join(dst, 'grader', 'lib');
  if (existsSync(join(src, 'grader', 'lib')) && lstatSync(join(src, 'grader', 'lib')).isSymbolicLink()) {
    const real = resolve(join(src, 'grader'), readlinkSync(join(src, 'grader', 'lib')));
    unlinkSync(lib);
    symlinkSync(real, lib);
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dst, 'node_modules'));
  return dst;
}

export function remove_scratch(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
