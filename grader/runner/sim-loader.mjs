// Module-loader hooks for test workers: the simulator's TypeScript (sim/, except the sim's test
// drivers and fixtures under sim/test/, which go through Vite; the headers in sim/include/drivers/
// are sim) is loaded by Node itself, compiled with esbuild. The drivers the sim ships and the
// hidden tests use (sim/drivers/, the bundled DMA provider; sim/testing/drivers/, dmatest) get
// their call sites rewritten here as Vite would (sim/site/transform.ts), so they too stay hot
// from one run to the next: they hold no state of their own (a machine's state is in the sim). vitest then
// treats the sim as an external module: one copy per worker process, compiled once, its code
// hot from one run to the next, with none of the module runner's per-access overhead. Everything else passes straight through. Plain JS, so
// Node can load it without a loader.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';


/** A TypeScript module of sim/site/ with no imports of its own, compiled and imported here. */
async function import_ts(rel) {
  const file = fileURLToPath(new URL(rel, import.meta.url));
  const out = await transform(await readFile(file, 'utf8'), { loader: 'ts', format: 'esm', target: 'node20' });
  return import(`data:text/javascript;base64,${Buffer.from(out.code).toString('base64')}`);
}
const { transform_sites } = await import_ts('../../sim/site/transform.ts');
const { course_path, is_driver_source, SIM_NATIVE } = await import_ts('../../sim/site/which.ts');
// Any course's sim/ (a scratch copy of the course has its own): the modules vitest leaves external.
const is_sim = (url) => url.startsWith('file://') && url.endsWith('.ts') && SIM_NATIVE.test(url);

export async function load(url, context, next) {
  if (!is_sim(url)) return next(url, context);
  const file = fileURLToPath(url);
  let source = await readFile(file, 'utf8');
  if (is_driver_source(file)) {
    const r = transform_sites(source, course_path(file));
    if (r) source = `${r.code}\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(r.map)).toString('base64')}`;
  }
  const out = await transform(source, { loader: 'ts', format: 'esm', target: 'node20', supported: { 'import-attributes': true }, sourcemap: 'inline', sourcefile: file });
  return { format: 'module', source: out.code, shortCircuit: true };
}
