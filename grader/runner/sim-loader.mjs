// Module-loader hooks for test workers: the simulator's TypeScript (sim/, except the drivers
// under sim/**/drivers/, which go through Vite for call-site rewriting; the headers in
// sim/include/drivers/ are sim) is loaded by Node itself, compiled with esbuild. vitest then
// treats the sim as an external module: one copy per worker process, compiled once, its code
// hot from one run to the next, with none of the module runner's per-access overhead. Everything else passes straight through. Plain JS, so
// Node can load it without a loader.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

// Any course's sim/ (a scratch copy of the course has its own), as engine.ts's SIM_EXTERNAL.
const SIM = /^file:\/\/.*\/sim\/(?!(?!include\/).*\/(drivers|fixtures)\/).*\.ts$/;

export async function load(url, context, next) {
  if (!SIM.test(url)) return next(url, context);
  const file = fileURLToPath(url);
  const source = await readFile(file, 'utf8');
  const out = await transform(source, { loader: 'ts', format: 'esm', target: 'node20', supported: { 'import-attributes': true }, sourcemap: 'inline', sourcefile: file });
  return { format: 'module', source: out.code, shortCircuit: true };
}
