// dmalab's grader command line.
//   tsx grader/cli.ts watch [EXERCISE] [--poll] [--json] [--web [--port N]] [--root DIR]  (npm start)
//   tsx grader/cli.ts verify [--solutions|--stubs|--mutants|--proofs] [--json] [--junit FILE]
//                            [--classroom FILE] [--only ID,...] [--seed X] [--seeds N] [--root DIR]
//                                                                             (npm run verify)
//   tsx grader/cli.ts reset EXERCISE [--root DIR]
//   tsx grader/cli.ts hint EXERCISE | lesson EXERCISE | list | stubs | html [--out DIR]
import { parseArgs } from 'node:util';
import { CourseError, find_exercise, load_course } from './course.ts';
import { DEFAULT_SEED, derive_seeds, parse_seed } from './lib/seed.ts';

const HELP = `dmalab grader

  npm start [-- EXERCISE] [--poll] [--json]   watch exercises/, grade on every save
            [--web [--port N]]                and serve the course in a browser (127.0.0.1)
  npm run verify                              grade every exercise as it stands
  npm run verify -- --solutions | --stubs | --mutants | --proofs
                  [--json] [--junit FILE] [--classroom FILE] [--only 01-x,02-y]
                  [--details]                 every failing test in full
                  [--seed X] [--seeds N]      the machines' seed (default 0x5eed); N seeds from it
  npm run reset -- EXERCISE                   restore the stub (your file is backed up)
  npm run list                                the exercises: done, was done, not done
  npm run grader -- hint EXERCISE [N|CODE] | lesson EXERCISE [SECTION] | stubs
  npm run lessons [-- --out DIR]              the lessons as web pages (default .dmalab/html/)

  --root DIR    the course root (default: this repository; or DMALAB_ROOT)
  --timeout S   watchdog for each hidden test, in seconds (watch: 3, verify: 60)
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      root: { type: 'string' },
      json: { type: 'boolean', default: false },
      junit: { type: 'string' },
      out: { type: 'string' },
      classroom: { type: 'string' },
      solutions: { type: 'boolean', default: false },
      stubs: { type: 'boolean', default: false },
      mutants: { type: 'boolean', default: false },
      proofs: { type: 'boolean', default: false },
      only: { type: 'string' },
      poll: { type: 'boolean', default: false },
      web: { type: 'boolean', default: false },
      port: { type: 'string' },
      timeout: { type: 'string' },
      workers: { type: 'string' },
      details: { type: 'boolean', default: false },
      seed: { type: 'string' },
      seeds: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [cmd = 'watch', ...rest] = positionals;
  if (values.help || cmd === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const course = await load_course(values.root);
  const timeout_ms = values.timeout ? Math.round(Number(values.timeout) * 1000) : undefined;
  switch (cmd) {
    case 'verify': {
      const { verify_command } = await import('./verify-cli.ts');
      const modes = values.proofs
        ? (['solutions', 'stubs', 'mutants'] as const)
        : ([values.solutions && 'solutions', values.stubs && 'stubs', values.mutants && 'mutants'].filter(Boolean) as ('solutions' | 'stubs' | 'mutants')[]);
      return verify_command(course, {
        modes: modes.length ? [...modes] : ['exercises'],
        json: values.json,
        junit: values.junit,
        classroom: values.classroom,
        only: values.only?.split(',').map((s) => find_exercise(course, s.trim()).id),
        timeout_ms,
        workers: values.workers ? Number(values.workers) : undefined,
        details: values.details,
        seeds: seeds_option(values.seed, values.seeds),
      });
    }
    case 'watch': {
      const { watch } = await import('./watch.ts');
      return watch(course, {
        exercise: rest[0] ? find_exercise(course, rest[0]).id : undefined,
        poll: values.poll,
        json: values.json,
        timeout_ms,
        web: values.web || values.port ? { port: port_option(values.port) } : undefined,
      });
    }
    case 'reset': {
      if (!rest[0]) throw new CourseError('usage: reset EXERCISE');
      const { reset } = await import('./progress.ts');
      const ex = find_exercise(course, rest[0]);
      const r = reset(course, ex);
      process.stdout.write(`restored exercises/${ex.id}/ from the pristine stub (${r.source})` + (r.backups.length ? `; your version is in ${r.backups.join(', ')}` : '') + '\n');
      return 0;
    }
    case 'hint': {
      const ex = find_exercise(course, rest[0] ?? '');
      const { render_markdown } = await import('./lesson.ts');
      // The sequence, or with a code the hints that answer it first (what `h` shows for it).
      const { hint_codes, hint_order, hint_text } = await import('./hints.ts');
      const code = rest[1] && !/^\d+$/.test(rest[1]) ? rest[1] : undefined;
      const order = code ? hint_order(ex, code) : ex.hints.filter((h) => !hint_codes(h).length).map(hint_text);
      const n = rest[1] && !code ? Number(rest[1]) : order.length;
      order.slice(0, n).forEach((h, i) => process.stdout.write(`hint ${i + 1}/${order.length}: ` + render_markdown(h, { color: undefined }).trim() + '\n'));
      return 0;
    }
    case 'lesson': {
      // The whole lesson, or one section of it: `lesson 04 unmapping`.
      const ex = find_exercise(course, rest[0] ?? '');
      const { render_lesson, section_range, slug } = await import('./lesson.ts');
      const r = render_lesson(course, ex.lesson);
      const { start, end } = section_range(r, rest[1] ? slug(rest.slice(1).join(' ')) : undefined);
      process.stdout.write(r.lines.slice(start, end).join('\n') + '\n');
      return 0;
    }
    case 'html': {
      const { build_lessons_html } = await import('./lessons-html.ts');
      const { join, resolve } = await import('node:path');
      const out = resolve(values.out ?? join(course.root, '.dmalab', 'html'));
      const built = build_lessons_html(course.root, out);
      process.stdout.write(`${built.length} lessons written to ${out}/; open file://${join(out, 'index.html')} in a browser\n`);
      return 0;
    }
    case 'list': {
      const { load_progress } = await import('./progress.ts');
      const { exercise_list } = await import('./ui/exercise-list.ts');
      const { COLOR, PLAIN, use_color } = await import('./ui/format.ts');
      process.stdout.write(exercise_list(course, load_progress(course), use_color() ? COLOR : PLAIN).join('\n') + '\n');
      return 0;
    }
    case 'stubs': {
      const { snapshot_stubs } = await import('./materialise.ts');
      const done = snapshot_stubs(course);
      process.stdout.write(`grader/stubs/: ${done.length} stubs written from HEAD (${done.join(', ') || 'none'})\n`);
      return 0;
    }
    case 'try': {
      // The playground runs under tsx with the call-site hooks, not vitest: grader/try.ts.
      process.stderr.write(`use: npm run try -- ${rest[0] ?? 'NN'} [--shape S] [--seed X] [--solution]\n`);
      return 2;
    }
    default:
      process.stderr.write(`unknown command '${cmd}'\n\n${HELP}`);
      return 2;
  }
}

/** --port N: a TCP port (0: any free one). */
function port_option(p: string | undefined): number | undefined {
  if (p === undefined) return undefined;
  const n = Number(p);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CourseError(`--port ${p}: not a port (0 to 65535)`);
  return n;
}

/** --seed X and --seeds N: N seeds derived from X (default 0x5eed), X first. */
function seeds_option(seed: string | undefined, count: string | undefined): number[] {
  const base = seed === undefined ? DEFAULT_SEED : parse_seed(seed);
  if (base === undefined) throw new CourseError(`--seed ${seed}: not a seed (0x1a2b, or a decimal number below 2^32)`);
  const n = count === undefined ? 1 : Number(count);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new CourseError(`--seeds ${count}: not a number of seeds (1 to 10000)`);
  return derive_seeds(base, n);
}

// Exit explicitly once output is flushed: vitest's and tsx's handles can keep the process
// alive for seconds after the work is done.
const exit = (code: number) => process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
main(process.argv.slice(2)).then(exit, (e: unknown) => {
  if (e instanceof CourseError) {
    process.stderr.write(`dmalab: ${e.message}\n`);
    exit(2);
  } else {
    process.stderr.write(`dmalab: ${(e as Error)?.stack ?? e}\n`);
    exit(1);
  }
});
