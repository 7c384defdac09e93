// How a hidden test finds the driver under test (docs/contracts.md §2).
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { DEFAULT_SEED, parse_seed } from './seed.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The directory holding the `NN-name/` folders of the driver under test, in order:
 * the grader's per-file override (proof runs), vitest's `inject('dmalab_target')`, the
 * environment variable `DMALAB_TARGET`, else `exercises/`.
 */
export function target_root(): string {
  const forced = (globalThis as { __dmalab_target?: string }).__dmalab_target;
  if (forced) return forced;
  let provided: string | undefined;
  try {
    provided = inject('dmalab_target');
  } catch {
    provided = undefined; // not running under vitest
  }
  const t = provided || process.env.DMALAB_TARGET;
  if (t) return isAbsolute(t) ? t : resolve(process.cwd(), t);
  return join(REPO_ROOT, 'exercises');
}

/**
 * The seed every machine of this hidden test file is built with, in order: the grader's per-file
 * value (each seed of `verify --seeds N` is a target of its own), vitest's
 * `inject('dmalab_seed')`, the environment variable `DMALAB_SEED` (0x1a2b or decimal), else 0x5eed.
 */
export function test_seed(): number {
  const forced = (globalThis as { __dmalab_seed?: number }).__dmalab_seed;
  if (typeof forced === 'number') return forced;
  let provided: number | undefined;
  try {
    provided = inject('dmalab_seed');
  } catch {
    provided = undefined; // not running under vitest
  }
  if (typeof provided === 'number') return provided;
  const env = process.env.DMALAB_SEED;
  if (env) {
    const s = parse_seed(env);
    if (s === undefined) throw new Error(`dmalab: DMALAB_SEED=${env} is not a seed (0x1a2b or a decimal number below 2^32)`);
    return s;
  }
  return DEFAULT_SEED;
}

/** The path of one file of the driver under test. */
export function target_file(exerciseId: string, file = 'driver.ts'): string {
  return join(target_root(), exerciseId, file);
}

/** What the grader expects a file under test to export (grader/stub-exports.ts writes it into
 *  the generated test file). */
interface ExpectedExports {
  file: string;
  stub: string;
  names: Record<string, number>;
}

/**
 * Import the driver under test: `const drv = await load_driver<typeof import(...)>('04-streaming-dma')`.
 * Each test file gets a fresh module (the grader runs every file in a fresh module graph).
 * Under the grader, a name the stub exports and the driver does not is one error here (a
 * hidden test that reads `drv.edu_driver` would otherwise fail each test with a TypeError).
 */
export async function load_driver<T = Record<string, unknown>>(exerciseId: string, file = 'driver.ts'): Promise<T> {
  const path = target_file(exerciseId, file);
  if (!existsSync(path)) {
    throw new Error(`dmalab: ${path} does not exist (was it deleted or renamed?)`);
  }
  const mod = (await import(/* @vite-ignore */ path)) as Record<string, unknown>;
  const want = (globalThis as { __dmalab_exports?: Record<string, ExpectedExports> }).__dmalab_exports?.[file];
  if (want) check_exports(mod, want);
  return mod as T;
}

function check_exports(mod: Record<string, unknown>, want: ExpectedExports): void {
  const missing = Object.keys(want.names).filter((n) => !(n in mod));
  if (missing.length === 0) return;
  const one = missing.length === 1;
  const lines = missing.map((n) => want.names[n]);
  const others = Object.keys(mod).filter((n) => !(n in want.names));
  const e = new Error(
    `dmalab: ${want.file} does not export ${missing.join(', ')}, which the grader looks for ` +
      `(the stub exports ${one ? 'it' : 'them'} at line${one ? '' : 's'} ${lines.join(', ')} of ${want.stub})` +
      (others.length ? `; it exports ${others.join(', ')}` : ''),
  );
  e.name = 'DmalabExportError';
  throw e;
}
