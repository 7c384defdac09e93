// Print the screen `npm start` would show for a driver file, in plain text (for lessons, which
// paste real output):
//   node grader/boot.mjs scripts/show-verdict.ts 01-mmio-and-probe path/to/driver.ts
//        [--cols 80] [--rows 24] [--details] [--timeout-ms 3000]
// --details prints what `d` pages through (every failure in full) instead of the screen.
// The file is graded from a scratch copy of the course; nothing in exercises/ is touched.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { find_exercise, load_course, paths } from '../grader/course.ts';
import { Engine } from '../grader/runner/engine.ts';
import { scratch_course, remove_scratch } from '../grader/scratch.ts';
import { PLAIN } from '../grader/ui/format.ts';
import { details_lines, verdict_screen } from '../grader/ui/screen.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: {
  'timeout-ms': { type: 'string', default: '3000' },
  cols: { type: 'string', default: '80' },
  rows: { type: 'string', default: '24' },
  details: { type: 'boolean', default: false },
}  });
const [id, file] = positionals;
if (!id || !file) {
  process.stderr.write('usage: node grader/boot.mjs scripts/show-verdict.ts EXERCISE DRIVER.ts [--timeout-ms N]\n');
  process.exit(2);
}
const root = scratch_course(process.cwd(), 'dmalab-show-');
const course = await load_course(root);
const ex = find_exercise(course, id);
copyFileSync(file, join(paths.exercises(course), ex.id, ex.files[0]!));
// The watcher's limit (3 s) unless told otherwise.
const engine = await Engine.create(course, { timeout_ms: Number(values['timeout-ms']) });
const [v] = await engine.run([{ exercise: ex, variant: { kind: 'exercise' }, target: paths.exercises(course) }]);
// A course with nothing done yet, as a learner would first see it in a terminal of that size.
const cols = Number(values.cols);
if (values.details && v) process.stdout.write(details_lines(ex, v, PLAIN, cols).join('\n') + '\n');
else process.stdout.write(verdict_screen(course, ex, v, { done: 0, status: '', notice: '', cols, rows: Number(values.rows), next: course.exercises[course.exercises.indexOf(ex) + 1] }, PLAIN));
await engine.close();
remove_scratch(root);
process.exit(0);
