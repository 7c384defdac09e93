// `npm test`: the unit tests (root vitest.config.ts), then the course proofs for every exercise
// in grader/manifest.ts: each solution passes on SOLUTION_SEEDS seeds, each pristine stub fails
// and each mutant is caught with its expected diagnostic codes on PROOF_SEEDS seeds (every seed,
// not most: a proof that holds on some seeds only fails, naming the seed that replays it). Never
// reads the learner's exercises/ (stubs come from grader/stubs/ or git HEAD). Last line:
// `N passed, N failed`; exit 1 on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, load_course } from '../grader/course.ts';
import { format_verdict_brief } from '../grader/ui/format.ts';
import { DEFAULT_SEED, derive_seeds, seeds_label } from '../grader/lib/seed.ts';
import { verify } from '../grader/verify.ts';

/** Seeds per proof: every shape's hidden tests run on each. CI uses these; a developer's pre-merge run may lower
 * them with DMALAB_SOLUTION_SEEDS / DMALAB_PROOF_SEEDS (the header line says what ran). */
const SOLUTION_SEEDS = seeds_env('DMALAB_SOLUTION_SEEDS', 20);
const PROOF_SEEDS = seeds_env('DMALAB_PROOF_SEEDS', 3);

function seeds_env(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name}=${v}: a whole number of seeds, 1 or more`);
  return n;
}

const args = process.argv.slice(2);
const skip_unit = args.includes('--proofs-only');
const skip_proofs = args.includes('--unit-only');

let passed = 0;
let failed = 0;

function vitest_run(label: string, extra: string[], env: NodeJS.ProcessEnv): void {
  const out = join(REPO_ROOT, '.dmalab', `unit-results-${label}.json`);
  mkdirSync(join(REPO_ROOT, '.dmalab'), { recursive: true });
  rmSync(out, { force: true });
  const r = spawnSync(
    process.execPath,
    [join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--configLoader', 'runner', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...extra],
    { cwd: REPO_ROOT, stdio: 'inherit', env: { ...(process.stdout.isTTY ? { ...process.env, FORCE_COLOR: '1' } : process.env), ...env } },
  );
  let counted = false;
  if (existsSync(out)) {
    const j = JSON.parse(readFileSync(out, 'utf8')) as { numPassedTests: number; numFailedTests: number; testResults: { status: string; assertionResults: unknown[] }[] };
    passed += j.numPassedTests;
    failed += j.numFailedTests;
    // a test file that failed to load has no assertions but must count as a failure
    failed += j.testResults.filter((t) => t.status === 'failed' && t.assertionResults.length === 0).length;
    counted = true;
  }
  if (r.status !== 0 && (!counted || failed === 0)) failed++; // vitest failed without a result
}

if (!skip_unit) {
  console.log('── unit tests (vitest.config.ts)');
  vitest_run('parallel', [], { DMALAB_TEST_PHASE: 'parallel' });
  console.log('── watch-mode tests (alone: they measure time to verdict)');
  vitest_run('watch', ['grader/test/watch.test.ts', 'grader/test/web-watch.test.ts', 'grader/test/spin-watch.test.ts'], {});
  console.log('── the browser view, end to end (chromium)');
  vitest_run('browser', ['grader/test/web-browser.test.ts'], {});
}

if (!skip_proofs) {
  const course = await load_course(REPO_ROOT);
  const solution_seeds = derive_seeds(DEFAULT_SEED, SOLUTION_SEEDS);
  const proof_seeds = derive_seeds(DEFAULT_SEED, PROOF_SEEDS);
  console.log(`── proofs: ${course.exercises.length} exercises × (solution on ${seeds_label(solution_seeds)}, stub and mutants on ${seeds_label(proof_seeds)})`);
  const t0 = performance.now();
  const results = await verify(course, {
    modes: ['solutions', 'stubs', 'mutants'],
    seeds_by_mode: { solutions: solution_seeds, stubs: proof_seeds, mutants: proof_seeds },
    on_result(r) {
      console.log(`${r.ok ? '✓' : '✗'} ${r.what}`);
      if (!r.ok && r.verdict && r.mode === 'solutions') process.stdout.write(format_verdict_brief(r.verdict, '    '));
      if (r.replay) console.log(`    replay: ${r.replay}`);
    },
  });
  console.log(`── proofs: ${results.length} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  for (const r of results) {
    if (r.ok) passed++;
    else failed++;
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.stdout.write('', () => process.exit(failed ? 1 : 0));
