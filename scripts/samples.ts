// The grader output pasted in the lessons and the README, regenerated from real runs. A fenced
// block whose info string names a sample (```text sample=01-stub) gets the output of the recipe
// of that name below: the driver graded (the stub, the solution, a bug-zoo mutant, or the
// solution with edits), shown as the watcher's screen or as one test in full (what `d` pages
// through, and `verify --details` prints).
//   node grader/boot.mjs scripts/samples.ts            rewrite every sample block
//   node grader/boot.mjs scripts/samples.ts --check    exit 1 if one is out of date (or unknown)
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, find_exercise, load_course, paths } from '../grader/course.ts';
import type { Exercise } from '../grader/lib/manifest-types.ts';
import { apply_edits, pristine_files } from '../grader/materialise.ts';
import { Engine } from '../grader/runner/engine.ts';
import { remove_scratch, scratch_course } from '../grader/scratch.ts';
import { wrap_block } from '../grader/ui/fit.ts';
import { PLAIN, format_test_detail, format_verdict_brief } from '../grader/ui/format.ts';
import { verdict_screen } from '../grader/ui/screen.ts';
import type { Verdict } from '../grader/verdict.ts';

type Driver = 'stub' | 'solution' | { mutant: string } | { edits: [string, string][] };
interface Sample {
  exercise: string;
  driver: Driver;
  /** the watcher's screen; or one test in full: the first failing one whose name matches, with its
   *  ✗ line (`head`), and its dmesg and trace tails (0: none, as when only its diagnostics matter) */
  view: 'screen' | { test: string; head?: boolean; dmesg?: number; trace?: number } | { brief: string };
  /** the terminal (default 80×24); a test in full is not wrapped unless cols is given (as
   *  `verify --details` prints it, the kernel's lines whole) */
  cols?: number;
  rows?: number;
}

const E01 = '01-mmio-and-probe';
const diag_only = (test: string) => ({ test, head: false, dmesg: 0, trace: 0 });

export const SAMPLES: Record<string, Sample> = {
  // lesson 00
  '01-stub': { exercise: E01, driver: 'stub', view: 'screen' },
  '01-no-release-regions': { exercise: E01, driver: { mutant: 'no-release-regions' }, view: 'screen' },
  '01-wrong-offset': { exercise: E01, driver: { mutant: 'wrong-offset' }, view: { test: 'computes n!.*\\(x86\\)', dmesg: 0, trace: 3 } },
  '01-polls-status': { exercise: E01, driver: { edits: [['  if (!wait_for_completion_timeout(edu.fact_done, msecs_to_jiffies(100)))\n    return -ETIMEDOUT;',
    '  while (readl(edu.bar + EDU_REG_STATUS) & EDU_STATUS_IRQFACT) { } // bit 7 stays set\n  void msecs_to_jiffies;']] }, view: 'screen' },
  '01-type-error': { exercise: E01, driver: { edits: [['msecs_to_jiffies(100)', 'msecs_to_jiffies("100")']] }, view: 'screen' },
  '01-js-loop': { exercise: E01, driver: { edits: [['  reinit_completion(edu.fact_done);\n', '  reinit_completion(edu.fact_done);\n  for (let i = 0; i < 1000; i--) { }\n']] }, view: 'screen' },
  '01-no-drvdata': { exercise: E01, driver: { edits: [['        pci_set_drvdata(pdev, edu);\n', '']] }, view: { test: 'binds to edu and unbinds.*\\(x86\\)', dmesg: 0, trace: 0 } },
  '01-read-after-iounmap': { exercise: E01, driver: { edits: [['  pci_iounmap(pdev, edu.bar);\n  pci_release_regions', '  pci_iounmap(pdev, edu.bar);\n  readl(edu.bar + EDU_REG_ID);\n  pci_release_regions']] },
    view: { test: 'binds to edu and unbinds.*\\(x86\\)', dmesg: 0, trace: 0 } },
  // lesson 01
  '01-no-enable': { exercise: E01, driver: { mutant: 'no-enable' }, view: diag_only('') },
  '01-sleep-in-irq': { exercise: E01, driver: { mutant: 'sleep-in-irq' }, view: diag_only('') },
  '01-irq-not-mine': { exercise: E01, driver: { mutant: 'irq-not-mine' }, view: diag_only('shared') },
  '01-no-ack': { exercise: E01, driver: { mutant: 'no-ack' }, view: diag_only('') },
  '01-sleep-kmalloc': { exercise: E01, driver: { edits: [["import { dev_info } from '#linux/device';", "import { dev_info } from '#linux/device';\nimport { kmalloc, kfree, GFP_KERNEL } from '#linux/slab';"],
    ['  complete(edu.fact_done);\n  return IRQ_HANDLED;', '  kfree(kmalloc(64, GFP_KERNEL));\n  complete(edu.fact_done);\n  return IRQ_HANDLED;']] }, view: diag_only('') },
  '01-nobody-cared': { exercise: E01, driver: { edits: [['  if (!(status & EDU_IRQ_FACT)) return IRQ_NONE;', '  if (!(status & EDU_STATUS_IRQFACT)) return IRQ_NONE;']] }, view: diag_only('') },
  '01-unwind-skips-iounmap': { exercise: E01, driver: { mutant: 'unwind-skips-iounmap' }, view: { test: 'every failure in probe.*\\(x86\\)', dmesg: 0, trace: 0 } },
  '01-remove-no-release': { exercise: E01, driver: { mutant: 'no-release-regions' }, view: diag_only('') },
  '01-no-free-irq': { exercise: E01, driver: { mutant: 'no-free-irq' }, view: diag_only('') },
  // lesson 02
  '02-no-mask': { exercise: '02-dma-addresses', driver: { mutant: 'no-mask' }, view: diag_only('memory above 256 MiB is all that is free \\(x86') },
  // lesson 03
  '03-cpu-pointer': { exercise: '03-coherent-dma', driver: { mutant: 'cpu-pointer-to-device' }, view: diag_only('move the data both ways \\(arm64\\)') },
  '03-read-before-irq': { exercise: '03-coherent-dma', driver: { mutant: 'read-before-irq' }, view: { brief: 'move the data both ways \\(x86\\)' } },
  '03-unwind-skips-free': { exercise: '03-coherent-dma', driver: { mutant: 'unwind-skips-free' }, view: { brief: 'every failure in probe.*\\(x86\\)' } },
  // lesson 04
  '04-direction': { exercise: '04-streaming-dma', driver: { mutant: 'direction-from-device-view' }, view: { brief: 'edu_dma\\(\\) moves 4096.*\\((x86|x86-iommu|arm64)\\)$' } },
  '04-read-before-unmap': { exercise: '04-streaming-dma', driver: { mutant: 'read-before-unmap' }, view: { brief: 'returns the message.s length.*\\(arm64\\)' } },
  // lesson 06
  '06-reply-not-aligned': { exercise: '06-what-you-can-map', driver: { mutant: 'reply-not-aligned' }, view: { brief: 'the reply survives.*\\(arm64' } },
  // lesson 05
  '05-tx-no-sync-for-device': { exercise: '05-sync-and-ownership', driver: { mutant: 'tx-no-sync-for-device' }, view: diag_only('reuses the one TX mapping.*\\(arm64\\)') },
  '05-no-sync-for-cpu': { exercise: '05-sync-and-ownership', driver: { mutant: 'no-sync-for-cpu' }, view: { test: 'reuses the one RX mapping.*\\(arm64\\)', dmesg: 0, trace: 0 } },
  // README
  '04-unmap-whole-buffer': { exercise: '04-streaming-dma', driver: { mutant: 'unmap-whole-buffer' }, view: 'screen' },
};

/** Where samples are pasted. */
function documents(): string[] {
  return [...readdirSync(join(REPO_ROOT, 'lessons')).filter((f) => f.endsWith('.md')).map((f) => join(REPO_ROOT, 'lessons', f)), join(REPO_ROOT, 'README.md')];
}

const FENCE = /^```(\w*) sample=([\w.-]+)\n[\s\S]*?^```$/gm;

async function render_all(names: Set<string>): Promise<Map<string, string>> {
  const root = scratch_course(REPO_ROOT, 'dmalab-samples-');
  const out = new Map<string, string>();
  try {
    const course = await load_course(root);
    const engine = await Engine.create(course, { timeout_ms: 3000 });
    try {
      for (const name of names) {
        const s = SAMPLES[name]!;
        const ex = find_exercise(course, s.exercise);
        writeFileSync(paths.exercise_file(course, ex), driver_source(course, ex, s.driver));
        const [v] = await engine.run([{ exercise: ex, variant: { kind: 'exercise' }, target: paths.exercises(course) }]);
        out.set(name, render(course, ex, v!, s, name));
      }
    } finally {
      await engine.close();
    }
  } finally {
    remove_scratch(root);
  }
  return out;
}

function driver_source(course: Awaited<ReturnType<typeof load_course>>, ex: Exercise, d: Driver): string {
  // The stub as committed in this repository (the scratch copy has no git).
  if (d === 'stub') return pristine_files({ ...course, root: REPO_ROOT }, ex).find((f) => f.file === ex.files[0])!.content.toString('utf8');
  const solution = readFileSync(paths.solution_file(course, ex), 'utf8');
  if (d === 'solution') return solution;
  if ('mutant' in d) {
    const m = ex.mutants.find((x) => x.id === d.mutant);
    if (!m) throw new Error(`no mutant ${ex.id}/${d.mutant}`);
    return apply_edits(ex, m, solution);
  }
  return apply_edits(ex, { id: 'sample', description: '', edits: d.edits.map(([find, replace]) => ({ find, replace })), expect: [] }, solution);
}

function render(course: Awaited<ReturnType<typeof load_course>>, ex: Exercise, v: Verdict, s: Sample, name: string): string {
  if (s.view === 'screen') {
    const cols = s.cols ?? 80;
    // A course with nothing done yet, as a learner first sees it.
    const next = course.exercises[course.exercises.indexOf(ex) + 1];
    return verdict_screen(course, ex, v, { done: 0, status: '', notice: '', cols, rows: s.rows ?? 24, next }, PLAIN).replace(/\n$/, '');
  }
  if ('brief' in s.view) {
    // verify's one line per failing test and per diagnostic, for the tests that match.
    const re = new RegExp(s.view.brief);
    return format_verdict_brief({ ...v, errors: [], tests: v.tests.filter((t) => re.test(t.name)) }, '').replace(/\n$/, '');
  }
  const re = new RegExp(s.view.test);
  const t = v.tests.find((x) => !x.passed && x.state !== 'skipped' && re.test(x.name));
  if (!t) throw new Error(`sample ${name}: no failing test matches /${s.view.test}/ in ${ex.id}`);
  const body = format_test_detail(t, PLAIN, '   ', { dmesg: s.view.dmesg ?? 5, trace: s.view.trace ?? 10 });
  const text = (s.view.head === false ? '' : ` ✗ ${t.name}\n`) + body;
  return (s.cols ? wrap_block(text, s.cols, 4) : text.replace(/\n$/, '').split('\n')).join('\n');
}

const check = process.argv.includes('--check');
const docs = documents().map((f) => ({ f, src: readFileSync(f, 'utf8') }));
const wanted = new Set<string>();
const unknown: string[] = [];
for (const d of docs) {
  for (const m of d.src.matchAll(FENCE)) {
    if (SAMPLES[m[2]!]) wanted.add(m[2]!);
    else unknown.push(`${d.f}: sample=${m[2]}`);
  }
}
if (unknown.length) {
  process.stderr.write(`unknown samples (scripts/samples.ts has no recipe):\n  ${unknown.join('\n  ')}\n`);
  process.exit(2);
}
const rendered = await render_all(wanted);
let stale = 0;
for (const d of docs) {
  const next = d.src.replace(FENCE, (_all, lang: string, name: string) => '```' + `${lang} sample=${name}\n${rendered.get(name)}\n` + '```');
  if (next === d.src) continue;
  stale++;
  if (check) process.stdout.write(`out of date: ${d.f.slice(REPO_ROOT.length + 1)}\n`);
  else writeFileSync(d.f, next);
}
process.stdout.write(`${wanted.size} samples, ${check ? `${stale} files out of date` : `${stale} files rewritten`}\n`);
process.exit(check && stale ? 1 : 0);
