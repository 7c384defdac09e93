// Helpers for the grader's tests: scratch courses and the CLI as a child process.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../course.ts';
import { scratch_course } from '../scratch.ts';

export const FIXTURE = join(REPO_ROOT, 'grader', 'test', 'fixtures', 'course');
export const BOOT = join(REPO_ROOT, 'grader', 'boot.mjs');
export const CLI = join(REPO_ROOT, 'grader', 'cli.ts');

/** The solution of `id` with each find replaced; each find must occur exactly once (else it throws, naming it). */
export function broken(id: string, edits: [string, string][]): string {
  let s = readFileSync(join(REPO_ROOT, 'solutions', id, 'driver.ts'), 'utf8');
  for (const [find, replace] of edits) {
    const n = s.split(find).length - 1;
    if (n !== 1) throw new Error(`"${find}" occurs ${n} times in solutions/${id}/driver.ts, not once`);
    s = s.replace(find, () => replace);
  }
  return s;
}

export function fixture_copy(): string {
  return scratch_course(FIXTURE, 'dmalab-test-');
}

export function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BOOT, CLI, ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 300_000, maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, events: parse_ndjson(r.stdout) };
}

export function parse_ndjson(s: string): Record<string, any>[] {
  return s
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);
}

/** A `watch --json` process whose events can be awaited. */
export class Watcher {
  cp: ChildProcess;
  events: Record<string, any>[] = [];
  stderr = '';
  private waiters: { pred: (e: Record<string, any>) => boolean; res: (e: Record<string, any>) => void; from: number }[] = [];
  exited: Promise<number | null>;

  constructor(root: string, extra: string[] = []) {
    this.cp = spawn(process.execPath, [BOOT, CLI, 'watch', '--json', '--root', root, ...extra], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let buf = '';
    this.cp.stdout!.setEncoding('utf8');
    this.cp.stdout!.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.startsWith('{')) continue;
        const e = JSON.parse(line) as Record<string, any>;
        e._at = performance.now();
        e._wall = Date.now();
        this.events.push(e);
        for (const w of [...this.waiters]) {
          if (this.events.length - 1 >= w.from && w.pred(e)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.res(e);
          }
        }
      }
    });
    this.cp.stderr!.on('data', (d) => (this.stderr += String(d)));
    this.exited = new Promise((res) => this.cp.on('exit', (c) => res(c)));
  }

  /** Index to wait from: events after now. */
  mark(): number {
    return this.events.length;
  }

  wait(pred: (e: Record<string, any>) => boolean, from = 0, timeout_ms = 20_000): Promise<Record<string, any>> {
    const found = this.events.slice(from).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error(`timed out waiting; events: ${JSON.stringify(this.events.slice(from)).slice(0, 2000)}\nstderr: ${this.stderr}`)), timeout_ms);
      this.waiters.push({ pred, from, res: (e) => (clearTimeout(t), res(e)) });
    });
  }

  send(line: string): void {
    this.cp.stdin!.write(line + '\n');
  }

  async quit(): Promise<number | null> {
    if (this.cp.exitCode === null) {
      this.send('q');
      const t = setTimeout(() => this.cp.kill('SIGKILL'), 5000);
      const c = await this.exited;
      clearTimeout(t);
      return c;
    }
    return this.cp.exitCode;
  }
}
