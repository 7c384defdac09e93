// node grader/boot.mjs bench/web.ts [N]: how long after the terminal (the watcher's --json verdict
// line) the browser page shows the same verdict, over N saves (default 20) of the fixture course
// alternating a failing and a passing driver. Needs /usr/bin/chromium. Prints p50/p95 in ms.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { hash_files } from '../grader/course.ts';
import type { Exercise } from '../grader/lib/manifest-types.ts';
import { remove_scratch } from '../grader/scratch.ts';
import { Watcher, fixture_copy } from '../grader/test/helpers.ts';

const n = Number(process.argv[2] ?? 20);
const root = fixture_copy();
const file = join(root, 'exercises', '01-add', 'driver.ts');
const good = readFileSync(join(root, 'solutions', '01-add', 'driver.ts'), 'utf8');
const ex = { id: '01-add', files: ['driver.ts'] } as Exercise;
const w = new Watcher(root, ['--web', '--port', '0']);
const url = (await w.wait((e) => e.event === 'web', 0, 60_000)).url as string;
await w.wait((e) => e.event === 'verdict', 0, 60_000);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage();
await page.goto(url);
await page.waitForSelector('body[data-verdict]');
const ms: number[] = [];
for (let i = 0; i < n; i++) {
  const from = w.mark();
  writeFileSync(file, i % 2 ? good : good.replace('a + b', `a - b + ${i}`));
  const hash = hash_files(join(root, 'exercises'), ex);
  const v = await w.wait((e) => e.event === 'verdict' && e.hash === hash, from, 60_000);
  await page.waitForSelector(`body[data-hash="${hash}"]`);
  const at = await page.evaluate(() => (window as unknown as { __dmalab: { rendered_at: number } }).__dmalab.rendered_at);
  ms.push(at - v._wall);
}
await browser.close();
await w.quit();
remove_scratch(root);
const s = [...ms].sort((a, b) => a - b);
const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
console.log(JSON.stringify({ saves: n, p50_ms: q(0.5), p95_ms: q(0.95), max_ms: s.at(-1), all: ms }));
process.exit(0);
