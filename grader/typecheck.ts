// Parent side of typecheck-worker.mjs: one request at a time, the newest wins.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface TypeDiagnostic {
  file: string;
  line: number;
  col: number;
  code: number;
  message: string;
}

const WORKER = fileURLToPath(new URL('./typecheck-worker.mjs', import.meta.url));

export class TypeChecker {
  private cp: ChildProcess | undefined;
  private seq = 0;
  private waiting = new Map<number, (r: { ms: number; diagnostics: TypeDiagnostic[] } | undefined) => void>();

  constructor(private root: string) {}

  private proc(): ChildProcess {
    if (this.cp && this.cp.connected) return this.cp;
    const cp = fork(WORKER, [], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    cp.on('message', (m: { id?: number; ms: number; diagnostics: TypeDiagnostic[] }) => {
      if (m.id === undefined) return;
      this.waiting.get(m.id)?.(m);
      this.waiting.delete(m.id);
    });
    cp.on('exit', () => {
      for (const w of this.waiting.values()) w(undefined);
      this.waiting.clear();
    });
    this.cp = cp;
    return cp;
  }

  /** Type-check files; resolves undefined if superseded by a newer request or on failure. */
  check(files: string[]): Promise<{ ms: number; diagnostics: TypeDiagnostic[] } | undefined> {
    const id = ++this.seq;
    for (const [k, w] of this.waiting) {
      if (k < id) {
        w(undefined);
        this.waiting.delete(k);
      }
    }
    return new Promise((res) => {
      this.waiting.set(id, res);
      try {
        this.proc().send({ id, root: this.root, files });
      } catch {
        res(undefined);
      }
    });
  }

  close(): void {
    this.cp?.kill();
  }
}
