// A vitest pool whose worker processes outlive a run.
//
// vitest 4.1 starts a fresh worker for every run (forks: ~250 ms of node start-up and module
// loading before a test runs; measured 500–600 ms per one-file run here, 350 ms with threads).
// This pool hands vitest a process that is already running warm-entry.mjs, and takes it back
// when vitest "stops" it, so a rerun of one hidden test file costs only the import of the
// driver and the sim (measured 25–60 ms). Each run still gets a fresh module graph (vitest
// creates new evaluated-module state per run), so no driver or sim state leaks between runs.
//
// It is also the grader's watchdog: a test that runs longer than `timeout_ms` (a learner's
// infinite loop: vitest's testTimeout cannot interrupt synchronous code) gets its process
// killed; vitest then ends the run with an error, the file is recorded in `timed_out`, and a
// spare process is already warming up for the next run.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PoolOptions, PoolWorker } from 'vitest/node';
import { INSPECT_ON_SIGNAL, type StuckFrame, where_stuck } from './stuck.ts';

const ENTRY = fileURLToPath(new URL('./warm-entry.mjs', import.meta.url));
const SIM_LOADER = fileURLToPath(new URL('./sim-loader-register.mjs', import.meta.url));

interface Proc {
  cp: ChildProcess;
  ready: Promise<void>;
}

export interface WarmPoolOptions {
  /** processes kept warm and idle for the next run (default 1; 0 for one-shot runs) */
  spares?: number;
  /** processes started by prewarm() (default: spares) */
  initial?: number;
  /** wall-clock limit of one test file's run, ms (default 4000) */
  timeout_ms?: number;
  /** where the workers' stdout/stderr go (default: discarded; tests print through vitest) */
  output?: 'inherit' | 'ignore';
}

/** Extra time a run may take to load before its first test starts (see createPoolWorker). */
const LOAD_ALLOWANCE_MS = 2000;

/** What a test worker says about each hidden test as it runs (announce.ts). */
export type TestAnnouncement =
  | { __dmalab_test__: 'start'; file: string; id: string; name: string }
  | {
      __dmalab_test__: 'end';
      file: string;
      id: string;
      name: string;
      state: 'passed' | 'failed' | 'skipped';
      ms: number;
      errors: { name?: string; message?: string; stack?: string; expected?: true }[];
      meta: Record<string, unknown>;
    };

/** The tests of one test file as the worker announced them: running (started, not ended) or
 *  ended, with their outcome. */
export type TestProgress = Map<string, { name: string; running: true } | (Extract<TestAnnouncement, { __dmalab_test__: 'end' }> & { running?: false })>;

function is_announcement(m: unknown): m is TestAnnouncement {
  return typeof m === 'object' && m !== null && '__dmalab_test__' in m;
}

export class WarmPool {
  readonly name = 'dmalab-warm';
  private idle: Proc[] = [];
  private active = new Set<ChildProcess>();
  private closed = false;
  timeout_ms: number;
  spares: number;
  /** test files whose run was killed by the watchdog, with the limit that was hit */
  timed_out = new Map<string, number>();
  /** for those, the worker's stack when the watchdog paused it (stuck.ts), innermost first */
  stuck = new Map<string, StuckFrame[]>();
  /** per test file, what its worker announced about each test (see announce.ts); it outlives
   *  a killed worker, so the watchdog's verdict can say which test hung */
  progress = new Map<string, TestProgress>();
  /** counts, for tests and the bench */
  stats = { spawned: 0, killed: 0, reused: 0 };

  constructor(private opts: WarmPoolOptions = {}) {
    this.timeout_ms = opts.timeout_ms ?? 4000;
    this.spares = opts.spares ?? 1;
  }

  private spawn(): Proc {
    const cp = fork(ENTRY, [], {
      // The simulator is loaded natively (compiled once per worker, hot across runs): see
      // sim-loader.mjs; the engine marks it external for vitest. The inspector stays closed
      // unless the watchdog opens it (stuck.ts).
      execArgv: [...process.execArgv.filter((a) => !a.startsWith('--import') && !a.startsWith('--inspect')), '--import', SIM_LOADER, INSPECT_ON_SIGNAL],
      // stderr is read for the inspector's address (stuck.ts)
      stdio: ['ignore', this.opts.output === 'inherit' ? 'inherit' : 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
      env: process.env,
    });
    if (this.opts.output === 'inherit') cp.stderr!.pipe(process.stderr);
    else cp.stderr!.resume();
    this.stats.spawned++;
    cp.on('message', (m: unknown) => {
      if (!is_announcement(m)) return;
      let p = this.progress.get(m.file);
      if (!p) this.progress.set(m.file, (p = new Map()));
      if (m.__dmalab_test__ === 'start') p.set(m.id, { name: m.name, running: true });
      else p.set(m.id, { ...m, running: false });
    });
    const ready = new Promise<void>((res) => {
      const on = (m: unknown) => {
        if ((m as { __dmalab_ready__?: boolean })?.__dmalab_ready__) {
          cp.off('message', on);
          res();
        }
      };
      cp.on('message', on);
      cp.once('exit', () => res());
    });
    cp.once('exit', () => {
      this.idle = this.idle.filter((p) => p.cp !== cp);
      const was_active = this.active.delete(cp);
      this.running.delete(cp);
      // a worker lost mid-run (watchdog, stale run): have a replacement warming up
      if (was_active && this.spares > 0) setImmediate(() => this.prewarm(this.spares));
    });
    return { cp, ready };
  }

  /** Start the spare processes now, so the first run does not pay for them. */
  prewarm(n = this.opts.initial ?? this.spares): void {
    if (this.closed) return;
    while (this.idle.length < n) this.idle.push(this.spawn());
  }

  private take(): Proc {
    let p: Proc | undefined;
    while ((p = this.idle.shift())) {
      if (alive(p.cp)) break;
    }
    if (p) this.stats.reused++;
    // The process goes back to the idle list after the run (hot code, no new spawn needed);
    // new spares are spawned only to replace processes that die.
    const proc = p ?? this.spawn();
    this.active.add(proc.cp);
    return proc;
  }

  private give_back(cp: ChildProcess): void {
    this.active.delete(cp);
    if (this.closed || !alive(cp)) return;
    if (this.idle.length >= Math.max(this.spares, this.opts.initial ?? 0, 1)) {
      cp.kill('SIGKILL');
      return;
    }
    this.idle.push({ cp, ready: Promise.resolve() });
  }

  /** processes with a test file in flight, and since when */
  running = new Map<ChildProcess, number>();

  /** Kill every process that is running a test file now (a stale or hung run). A process that
   *  is still starting is left alone: killing it would only cost a new one. */
  kill_active(): number {
    let n = 0;
    for (const cp of this.running.keys()) {
      if (alive(cp)) {
        cp.kill('SIGKILL');
        this.stats.killed++;
        n++;
      }
    }
    return n;
  }

  get busy(): boolean {
    return this.active.size > 0;
  }

  close(): void {
    this.closed = true;
    for (const p of this.idle) p.cp.kill('SIGKILL');
    for (const cp of this.active) cp.kill('SIGKILL');
    this.idle = [];
    this.active.clear();
  }

  /** The object vitest's `pool` option takes. */
  initializer() {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const pool = this;
    return {
      name: this.name,
      createPoolWorker(_options: PoolOptions): PoolWorker {
        let proc: Proc | undefined;
        // [event, vitest's callback, what is registered on the process]
        let listeners: [string, (arg: any) => void, (arg: any) => void][] = [];
        let timer: NodeJS.Timeout | undefined;
        // a process may go back to the idle list only between runs, after a clean "stopped"
        let pending = 0;
        const clear = () => {
          if (timer) clearTimeout(timer);
          timer = undefined;
        };
        return {
          name: pool.name,
          cacheFs: true,
          on(event, cb) {
            // the tests' announcements are the pool's (above), not vitest's
            const fn = event === 'message' ? (m: unknown) => { if (!is_announcement(m)) cb(m); } : cb;
            listeners.push([event, cb, fn]);
            proc!.cp.on(event, fn);
          },
          off(event, cb) {
            for (const [e, c, fn] of listeners) if (e === event && c === cb) proc?.cp.off(event, fn);
            listeners = listeners.filter(([e, c]) => !(e === event && c === cb));
          },
          send(message) {
            const cp = proc!.cp;
            if (!alive(cp)) {
              // killed between vitest's steps: answer for it, or vitest waits for ever
              const fake = fake_reply(message.type);
              if (fake) setImmediate(() => { for (const [e, cb] of [...listeners]) if (e === 'message') cb(fake); });
              return;
            }
            if (message.type === 'start' || message.type === 'stop') {
              // If the process dies (killed by the watchdog or as stale) before answering,
              // answer for it: vitest would otherwise wait for a reply that never comes.
              const reply = message.type === 'start' ? 'started' : 'stopped';
              // Both listeners go once the reply came (a warm worker serves many runs: listeners
              // left behind would pile up).
              const on_exit = () => {
                cp.off('message', on_reply);
                const fake = { __vitest_worker_response__: true, type: reply, ...(reply === 'started' ? { error: { message: 'dmalab: test worker stopped' } } : {}) };
                for (const [e, cb] of [...listeners]) if (e === 'message') cb(fake);
              };
              const on_reply = (m: any) => {
                if (m?.__vitest_worker_response__ && m.type === reply) {
                  cp.off('message', on_reply);
                  cp.off('exit', on_exit);
                }
              };
              cp.on('message', on_reply);
              cp.once('exit', on_exit);
            }
            if (message.type === 'stop') {
              pending++;
              const stopped = (m: any) => {
                if (m?.__vitest_worker_response__ && m.type === 'stopped') {
                  pending--;
                  cp.off('message', stopped);
                }
              };
              cp.on('message', stopped);
            }
            if (message.type === 'run' || message.type === 'collect') {
              pending++;
              pool.running.set(cp, performance.now());
              const files = message.context.files.map((f) => f.filepath);
              const limit = pool.timeout_ms;
              // Past the limit: read where it is stuck (a few hundred ms at most), then kill it.
              let stopping = false;
              const kill = () => {
                if (!alive(cp) || stopping) return;
                stopping = true;
                for (const f of files) pool.timed_out.set(f, limit);
                void where_stuck(cp).then((frames) => {
                  for (const f of files) pool.stuck.set(f, frames);
                  if (!alive(cp)) return;
                  pool.stats.killed++;
                  cp.kill('SIGKILL');
                });
              };
              // The limit is for the learner's code, not for loading it, and it is per test: it
              // restarts as each test starts, so a loop is stopped within the limit of its test's
              // start while a heavy suite (exercise 10's many shapes) may take longer in all.
              // Loading (a cold worker, a first compile) gets LOAD_ALLOWANCE_MS more, which still
              // stops a loop at a driver's top level.
              clear();
              timer = setTimeout(kill, limit + LOAD_ALLOWANCE_MS);
              const test_started = (m: unknown) => {
                if (!is_announcement(m) || m.__dmalab_test__ !== 'start' || !files.includes(m.file)) return;
                clear();
                timer = setTimeout(kill, limit);
              };
              cp.on('message', test_started);
              const done = (m: any) => {
                if (m?.__vitest_worker_response__ && m.type === 'testfileFinished') {
                  pending--;
                  pool.running.delete(cp);
                  clear();
                  cp.off('message', done);
                  cp.off('message', test_started);
                }
              };
              cp.on('message', done);
            }
            if (alive(cp)) cp.send(message);
          },
          deserialize: (d) => d,
          async start() {
            proc = pool.take();
            await proc.ready;
          },
          async stop() {
            clear();
            if (!proc) return;
            for (const [e, , fn] of listeners) proc.cp.off(e, fn);
            listeners = [];
            if (pending > 0 && alive(proc.cp)) {
              pool.stats.killed++;
              proc.cp.kill('SIGKILL'); // force-stopped mid-run: not reusable
            }
            pool.give_back(proc.cp);
            proc = undefined;
          },
        };
      },
    };
  }
}

function fake_reply(type: string): object | undefined {
  const error = { message: 'dmalab: test worker stopped', name: 'Error' };
  if (type === 'start') return { __vitest_worker_response__: true, type: 'started', error };
  if (type === 'stop') return { __vitest_worker_response__: true, type: 'stopped' };
  if (type === 'run' || type === 'collect') return { __vitest_worker_response__: true, type: 'testfileFinished', error };
  return undefined;
}

function alive(cp: ChildProcess): boolean {
  return cp.exitCode === null && cp.signalCode === null && cp.connected;
}
