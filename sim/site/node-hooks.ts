// Node module-loader hooks (registered after tsx, so they run first) that give driver files
// run outside vitest (the playground, the benchmark) the same call-site rewriting the Vite
// plugin gives them in tests: rewrite the TypeScript, then compile it with esbuild as tsx
// would, keeping a source map so stack traces point at the original lines and columns.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { transform } from 'esbuild';
import { transform_sites } from './transform.ts';
import { is_driver_source, course_path } from './which.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

type Next = (url: string, ctx: unknown) => Promise<{ format?: string; source?: string | Uint8Array; shortCircuit?: boolean }>;

export async function load(url: string, ctx: unknown, next: Next) {
  if (!url.startsWith('file:')) return next(url, ctx);
  const file = fileURLToPath(url.split('?')[0]!);
  if (!is_driver_source(file, ROOT)) return next(url, ctx);
  const src = await readFile(file, 'utf8');
  const r = transform_sites(src, course_path(file));
  if (!r) return next(url, ctx);
  const map = Buffer.from(JSON.stringify(r.map)).toString('base64');
  const input = `${r.code}\n//# sourceMappingURL=data:application/json;base64,${map}`;
  const out = await transform(input, { loader: 'ts', format: 'esm', target: 'node20', supported: { 'import-attributes': true }, sourcemap: 'inline', sourcefile: file });
  return { format: 'module', source: out.code, shortCircuit: true };
}
