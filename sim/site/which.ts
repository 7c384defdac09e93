// Which source files are drivers (rewritten to record call sites): the exercises, solutions,
// mutants, and the sim's own test drivers. Not the sim, not tests, not node_modules.
import path from 'node:path';

export function is_driver_source(file: string, root: string): boolean {
  if (!file.endsWith('.ts') || file.endsWith('.test.ts') || file.endsWith('.d.ts')) return false;
  const rel = path.relative(root, file).split(path.sep).join('/');
  if (rel.startsWith('..') || rel.includes('node_modules/')) return false;
  return /^(exercises|solutions)\//.test(rel) || rel.startsWith('.dmalab/mutants/') ||
    /^sim\/.*\/(drivers|fixtures)\//.test(rel) || rel.startsWith('bench/drivers/') || /^grader\/test\/fixtures\//.test(rel) || /^lessons\//.test(rel);
}
