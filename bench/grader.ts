// `npm run bench:grader`: save-to-verdict latency of watch mode, and the cold one-shot time.
//
// Starts `watch --json` on a scratch copy of the course, saves one exercise 30 times
// (alternating its solution and a buggy version: its first mutant), and measures from the
// write to the matching `verdict` event. Then times a cold `verify --solutions`.
// Targets (2-core machine): p50 <= 150 ms, p95 <= 300 ms.
//   npm run bench:grader [-- --root DIR] [--exercise ID] [--saves N] [--gap MS] [--verbose]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CourseError, REPO_ROOT, find_exercise, hash_files, load_course } from '../grader/course.ts';
import { apply_edits } from '../grader/materialise.ts';
import { remove_scratch, scratch_course } from '../grader/scratch.ts';
import { FIXTURE, Watcher, cli } from '../grader/test/helpers.ts';

const { values } = parseArgs({
  options: {
    root: { type: 'string' },
    exercise: { type: 'string' },
    saves: { type: 'string', default: '30' },
    gap: { type: 'string', default: '250' },
    keep: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});

let src = values.root ?? REPO_ROOT;
let course = await load_course(src);
if (course.exercises.length === 0) {
  console.log('(the course has no exercises yet: benchmarking the fixture course grader/test/fixtures/course)');
  src = FIXTURE;
}
// `--exercise 10` or `10-nic-rings`, as verify's --only takes; an unknown one is an error, not a silent
// default. Looked up before the scratch copy is made, so a typo leaves nothing behind.
let id: string | undefined;
try {
  id = values.exercise !== undefined ? find_exercise(course, values.exercise).id : undefined;
} catch (e) {
  if (!(e instanceof CourseError)) throw e;
  console.error(`bench:grader: ${e.message}`);
  process.exit(2);
}
const root = scratch_course(src, 'dmalab-bench-');
course = await load_course(root);
const ex = course.exercises.find((e) => e.id === id) ?? course.exercises.find((e) => e.mutants.length > 0) ?? course.exercises[0]!;
const m = ex.mutants[0];
const file = m?.file ?? ex.files[0]!;
const good = readFileSync(join(root, 'solutions', ex.id, file), 'utf8');
const bad = m ? apply_edits(ex, m, good) : good.replace(/\n/, '\nthrow new Error("bench");\n');
for (const f of ex.files) writeFileSync(join(root, 'exercises', ex.id, f), readFileSync(join(root, 'solutions', ex.id, f)));
const target = join(root, 'exercises', ex.id, file);
const exdir = join(root, 'exercises');

const t_start = performance.now();
const w = new Watcher(root, [ex.id]);
await w.wait((e) => e.event === 'verdict', 0, 60_000);
const first_verdict = performance.now() - t_start;
await new Promise((r) => setTimeout(r, 1500)); // let the type checker warm up, as a learner reads

const n = Number(values.saves);
const lat: number[] = [];
const wrong: string[] = [];
for (let i = 0; i < n; i++) {
  const content = i % 2 === 0 ? bad : good;
  const from = w.mark();
  writeFileSync(target, content);
  const t0 = performance.now();
  const h = hash_files(exdir, ex);
  const v = await w.wait((e) => e.event === 'verdict' && e.hash === h, from, 30_000);
  lat.push(performance.now() - t0);
  if (v.passed !== (i % 2 === 1)) wrong.push(`save ${i}: expected ${i % 2 === 1 ? 'pass' : 'fail'}`);
  await new Promise((r) => setTimeout(r, Number(values.gap)));
}
await w.quit();

if (values.verbose) console.log(`  each save (ms): ${lat.map((x, i) => `${i % 2 ? 'good' : 'bad'} ${x.toFixed(0)}`).join(', ')}`);
const sorted = [...lat].sort((a, b) => a - b);
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

const c0 = performance.now();
const r = cli(['verify', '--solutions', '--root', root]);
const cold = performance.now() - c0;
if (!values.keep) remove_scratch(root);

console.log(`grader bench: ${src === FIXTURE ? 'fixture course' : 'course'} · exercise ${ex.id} · ${n} saves (${m ? `solution / mutant ${m.id}` : 'solution / throw'}) · gap ${values.gap} ms`);
console.log(`  watcher start to first verdict: ${first_verdict.toFixed(0)} ms`);
console.log(`  save to verdict: p50 ${pct(50).toFixed(0)} ms · p95 ${pct(95).toFixed(0)} ms · min ${sorted[0]!.toFixed(0)} · max ${sorted.at(-1)!.toFixed(0)}  (targets: p50 <= 150, p95 <= 300)`);
console.log(`  cold verify --solutions (${course.exercises.length} exercises): ${cold.toFixed(0)} ms (exit ${r.code}: ${r.stdout.trim().split('\n').pop()})`);
if (wrong.length) console.log(`  WRONG VERDICTS: ${wrong.join('; ')}`);
process.exit(wrong.length ? 1 : 0);
