// Which source files are drivers (rewritten to record call sites, and kept in a report's
// frames): the exercises, solutions, mutants, and the sim's own test drivers; not the sim, not
// tests, not node_modules. Decided from the path alone, so a scratch copy of the course (the
// grader's benches, its tests) is treated like the real one.

const TOP = /(?:^|\/)(exercises|solutions|\.dmalab|sim|bench|grader|lessons)\//g;

const DRIVER = [
  /^(exercises|solutions)\/\d\d-[^/]+\/[^/]+\.ts$/,
  /^\.dmalab\/(mutants|stubs)\/.+\.ts$/,
  /^sim\/(?!include\/)(.+\/)?(drivers|fixtures)\/.+\.ts$/,
  /^bench\/drivers\/.+\.ts$/,
  /^grader\/test\/fixtures\/.+\.ts$/,
  /^lessons\/.+\.ts$/,
];

/** The simulator's modules that test workers load natively (grader/runner/sim-loader.mjs) and vitest
 *  treats as external (grader/runner/engine.ts): all of sim/, with the drivers it ships
 *  (sim/drivers/, sim/testing/drivers/: the loader rewrites their call sites), but not the test
 *  drivers and fixtures under sim/test/ (Vite rewrites those). */
export const SIM_NATIVE = /\/sim\/(?!(?!include\/|drivers\/|testing\/drivers\/).*\/(drivers|fixtures)\/)/;

export function is_driver_source(file: string, _root?: string): boolean {
  const f = file.split('\\').join('/');
  if (!f.endsWith('.ts') || f.endsWith('.test.ts') || f.endsWith('.d.ts') || f.includes('/node_modules/')) return false;
  const rel = course_path(f);
  return DRIVER.some((re) => re.test(rel));
}

/** The path a learner knows a file by: from the course's own top-level folder on
 *  ('exercises/04-streaming-dma/driver.ts'), wherever the course lives. The last such folder
 *  in the path wins, so a course kept under ~/lessons/ still reads as the course. */
export function course_path(file: string): string {
  const f = file.split('\\').join('/');
  let start = -1;
  for (const m of f.matchAll(TOP)) start = m.index + (m[0].startsWith('/') ? 1 : 0);
  return start >= 0 ? f.slice(start) : f;
}
