// Print the verdict the grader would show for a driver file, as `npm start` lays it out, in
// plain text (for lessons, which paste real output):
//   node grader/boot.mjs scripts/show-verdict.ts 01-mmio-and-probe path/to/driver.ts [--details N]
// The file is graded from a scratch copy of the course; nothing in exercises/ is touched.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { find_exercise, load_course, paths } from '../grader/course.ts';
import { Engine } from '../grader/runner/engine.ts';
import { scratch_course, remove_scratch } from '../grader/scratch.ts';
import { format_verdict_body, headline, PLAIN } from '../grader/ui/format.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { details: { type: 'string', default: '2' } } });
const [id, file] = positionals;
if (!id || !file) {
  process.stderr.write('usage: node grader/boot.mjs scripts/show-verdict.ts EXERCISE DRIVER.ts [--details N]\n');
  process.exit(2);
}
const root = scratch_course(process.cwd(), 'dmalab-show-');
const course = await load_course(root);
const ex = find_exercise(course, id);
copyFileSync(file, join(paths.exercises(course), ex.id, ex.files[0]!));
const engine = await Engine.create(course, { timeout_ms: 30000 });
const [v] = await engine.run([{ exercise: ex, variant: { kind: 'exercise' }, target: paths.exercises(course) }]);
process.stdout.write(` ${ex.id}  ${headline(v!)}\n`);
process.stdout.write(format_verdict_body(v!, PLAIN, { details: Number(values.details) }));
await engine.close();
remove_scratch(root);
process.exit(0);
