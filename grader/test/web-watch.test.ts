// `npm start -- --web`: the watcher serves the fixture course, and every grade reaches a page
// listening on the event stream, as the terminal (here: --json) gets it; a hint asked for from
// the page is recorded as seen in .dmalab/progress.json, the one thing the page writes.
import { request } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hash_files } from '../course.ts';
import type { Exercise } from '../lib/manifest-types.ts';
import { remove_scratch } from '../scratch.ts';
import { Watcher, fixture_copy } from './helpers.ts';

const root = fixture_copy();
const exdir = join(root, 'exercises');
const file = join(exdir, '01-add', 'driver.ts');
const SOLUTION = readFileSync(join(root, 'solutions', '01-add', 'driver.ts'), 'utf8');
const ex01 = { id: '01-add', files: ['driver.ts'] } as Exercise;
let w: Watcher;
let url: URL;

/** A page's event stream: each state as it arrives, with when. */
class Stream {
  states: { at: number; s: Record<string, any> }[] = [];
  private buf = '';
  private req = request({ host: url.hostname, port: url.port, path: '/events', headers: { Host: url.host } }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf('\n\n')) >= 0) {
        const frame = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (frame.startsWith('event: state') && data) this.states.push({ at: performance.now(), s: JSON.parse(data) });
      }
    });
  });
  constructor() {
    this.req.end();
  }
  async wait(pred: (s: Record<string, any>) => boolean, ms = 20_000): Promise<{ at: number; s: Record<string, any> }> {
    for (const t0 = performance.now(); performance.now() - t0 < ms; await new Promise((r) => setTimeout(r, 5))) {
      const hit = this.states.find((x) => pred(x.s));
      if (hit) return hit;
    }
    throw new Error(`no such state; got ${JSON.stringify(this.states.map((x) => x.s.status))}`);
  }
  close(): void {
    this.req.destroy();
  }
}

beforeAll(async () => {
  w = new Watcher(root, ['--web', '--port', '0']);
  const e = await w.wait((x) => x.event === 'web', 0, 60_000);
  url = new URL(e.url);
  await w.wait((x) => x.event === 'verdict', 0, 60_000);
}, 90_000);

afterAll(async () => {
  expect(await w.quit()).toBe(0);
  remove_scratch(root);
});

describe('watch --web', () => {
  test('the URL is printed and remembered; the page is the current exercise\'s lesson', async () => {
    expect(url.hostname).toBe('127.0.0.1');
    expect(JSON.parse(readFileSync(join(root, '.dmalab', 'web.json'), 'utf8')).url).toBe(url.href);
    const s = new Stream();
    const first = await s.wait((x) => !!x.verdict);
    expect(first.s.exercise.id).toBe('01-add');
    expect(first.s.exercise.lesson.href).toBe('01-add.html');
    expect(first.s.verdict.passed).toBe(false);
    s.close();
  });

  test('each grade is pushed as the terminal gets it: failing (with its lesson link and codes), then passing', async () => {
    const s = new Stream();
    await s.wait((x) => !!x.verdict);
    const from = w.mark();
    writeFileSync(file, SOLUTION.replace('a + b', 'a - b'));
    const bad = hash_files(exdir, ex01);
    const term = await w.wait((e) => e.event === 'verdict' && e.hash === bad, from);
    const page = await s.wait((x) => x.verdict?.hash === bad);
    expect(page.s.verdict.passed).toBe(false);
    const failing = page.s.verdict.tests.filter((t: { passed: boolean }) => !t.passed);
    expect(failing.length).toBeGreaterThan(0);
    expect(page.s.lesson?.href ?? failing[0].lesson?.href ?? '').toMatch(/^01-add\.html/);
    // The page is told in the same turn as the terminal: well within 100 ms.
    expect(page.at - term._at).toBeLessThan(100);
    writeFileSync(file, SOLUTION);
    const good = hash_files(exdir, ex01);
    const ok = await s.wait((x) => x.verdict?.hash === good && x.verdict.passed);
    expect(ok.s.verdict.headline).toMatch(/all \d+ hidden tests pass/);
    s.close();
  }, 40_000);

  test('a hint asked for from the page is shown and recorded as seen', async () => {
    const s = new Stream();
    const from = w.mark();
    writeFileSync(file, SOLUTION.replace('a + b', 'a * b'));
    const bad = hash_files(exdir, ex01);
    await w.wait((e) => e.event === 'verdict' && e.hash === bad, from);
    await s.wait((x) => x.verdict?.hash === bad);
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: '/api/hint', method: 'POST', headers: { Host: url.host, 'Content-Type': 'application/json' } }, (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve(b));
      });
      req.on('error', reject);
      req.end('{}');
    });
    expect(JSON.parse(body).hint).toMatchObject({ n: 1 });
    await w.wait((e) => e.event === 'hint', from);
    expect(JSON.parse(readFileSync(join(root, '.dmalab', 'progress.json'), 'utf8')).exercises['01-add'].hints_seen).toBe(1);
    s.close();
  }, 40_000);

  test('a driver that does not build: the page shows each type error at its line, and no test', async () => {
    const s = new Stream();
    const from = w.mark();
    writeFileSync(file, SOLUTION.replace('a + b', 'a + String(b)'));
    const bad = hash_files(exdir, ex01);
    await w.wait((e) => e.event === 'verdict' && e.hash === bad, from);
    const page = await s.wait((x) => x.verdict?.hash === bad);
    expect(page.s.verdict).toMatchObject({ passed: false, tests: [], errors: [{ kind: 'build', code: 'TS2322', file: 'exercises/01-add/driver.ts' }] });
    expect(page.s.verdict.headline).toMatch(/build failed/);
    s.close();
  }, 40_000);
});
