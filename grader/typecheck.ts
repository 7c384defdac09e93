// Parent side of typecheck-worker.mjs (the build step of a grade): one request at a time, the
// newest wins. The worker is started at once, so its cold start overlaps vitest's.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface TypeDiagnostic {
  /** absolute path */
  file: string;
  line: number;
  col: number;
  /** TypeScript's number: 2345 is printed TS2345 */
  code: number;
  message: string;
}

/** A check's outcome; `error` when the checker itself failed (the build could not be checked). */
export type TypeCheckResult = { ms: number; diagnostics: TypeDiagnostic[]; error?: undefined } | { ms: number; diagnostics?: undefined; error: string };

const WORKER = fileURLToPath(new URL('./typecheck-worker.mjs', import.meta.url));

export class TypeChecker {
  private cp: ChildProcess | undefined;
  private seq = 0;
  private waiting = new Map<number, (r: TypeCheckResult | undefined) => void>();
  /** a check has completed: the sim's headers are parsed, a check costs tens of ms */
  warm = false;
  private last: Promise<unknown> = Promise.resolve();

  constructor(private root: string) {
    this.proc();
  }

  private proc(): ChildProcess {
    if (this.cp && this.cp.connected) return this.cp;
    const cp = fork(WORKER, [], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], execArgv: [] });
    cp.on('message', (m: TypeCheckResult & { id?: number }) => {
      if (m.id === undefined) return;
      if (m.error === undefined) this.warm = true;
      this.waiting.get(m.id)?.(m);
      this.waiting.delete(m.id);
    });
    cp.on('exit', (code, signal) => {
      for (const w of this.waiting.values()) w({ ms: 0, error: `the type checker stopped (${signal ?? `exit ${code}`})` });
      this.waiting.clear();
    });
    this.cp = cp;
    return cp;
  }

  /** Type-check files (absolute paths); resolves undefined when a newer request supersedes it. */
  check(files: string[]): Promise<TypeCheckResult | undefined> {
    const id = ++this.seq;
    for (const [k, w] of this.waiting) {
      if (k < id) {
        w(undefined);
        this.waiting.delete(k);
      }
    }
    const p = new Promise<TypeCheckResult | undefined>((res) => {
      this.waiting.set(id, res);
      try {
        this.proc().send({ id, root: this.root, files });
      } catch (e) {
        this.waiting.delete(id);
        res({ ms: 0, error: `the type checker could not start: ${(e as Error).message}` });
      }
    });
    this.last = p;
    return p;
  }

  /** Resolves when the last request is answered (the worker runs one check at a time). */
  idle(): Promise<void> {
    return this.last.then(() => {});
  }

  close(): void {
    this.cp?.kill();
  }
}
