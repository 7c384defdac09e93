// Where a test worker spinning in JavaScript is stuck, read before the watchdog kills it. A loop
// that never calls the kernel (`while (true) {}`) cannot be seen from inside; from outside,
// SIGUSR1 opens the worker's inspector (started with --inspect-port=127.0.0.1:0: loopback, a
// free port, nothing listening until the signal), Debugger.pause stops the loop between two
// instructions, and the paused call frames say where. Driver files run as Vite-transformed code
// (sim/site/ rewrote their calls): each frame is mapped back through that module's source map.
import type { ChildProcess } from 'node:child_process';
import { SourceMap } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cdp_connect } from './cdp.ts';

/** The inspector flag a worker needs so that SIGUSR1 opens it on loopback at a free port. */
export const INSPECT_ON_SIGNAL = '--inspect-port=127.0.0.1:0';

export interface StuckFrame {
  /** absolute path (or the script's URL when it is not a file) */
  file: string;
  line: number;
  col: number;
  fn?: string;
}

interface Script {
  url: string;
  sourceMapURL?: string;
  map?: SourceMap | null;
}

interface CallFrame {
  functionName: string;
  location: { scriptId: string; lineNumber: number; columnNumber: number };
}

/** The stack of a process stuck in JavaScript, innermost first; [] if it cannot be read within
 *  `deadline_ms` (the caller kills the process either way). Measured 100-200 ms on an idle
 *  2-core machine, 700-800 ms at a load average of 25. */
export async function where_stuck(cp: ChildProcess, deadline_ms = 2500): Promise<StuckFrame[]> {
  const stderr = cp.stderr;
  if (!stderr || cp.pid === undefined) return [];
  let off: (() => void) | undefined;
  let session: Awaited<ReturnType<typeof cdp_connect>> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const work = (async () => {
    const url = new Promise<string>((res) => {
      let seen = '';
      const on = (d: Buffer | string) => {
        seen += String(d);
        const m = /Debugger listening on (ws:\/\/\S+)/.exec(seen);
        if (m) res(m[1]!);
      };
      stderr.on('data', on);
      off = () => stderr.off('data', on);
    });
    cp.kill('SIGUSR1');
    session = await cdp_connect(await url);
    const scripts = new Map<string, Script>();
    let paused!: (frames: CallFrame[]) => void;
    const frames = new Promise<CallFrame[]>((res) => (paused = res));
    session.on((method, p) => {
      if (method === 'Debugger.scriptParsed') scripts.set(p.scriptId, { url: p.url, sourceMapURL: p.sourceMapURL });
      else if (method === 'Debugger.paused') paused(p.callFrames);
    });
    await session.call('Debugger.enable');
    await session.call('Debugger.pause');
    return (await frames).slice(0, 24).map((f) => map_frame(f, scripts.get(f.location.scriptId)));
  })();
  const deadline = new Promise<StuckFrame[]>((res) => (timer = setTimeout(() => res([]), deadline_ms)));
  try {
    return await Promise.race([work.catch(() => [] as StuckFrame[]), deadline]);
  } finally {
    clearTimeout(timer);
    off?.();
    session?.close();
  }
}

function map_frame(f: CallFrame, s: Script | undefined): StuckFrame {
  const fn = f.functionName || undefined;
  const { lineNumber: line, columnNumber: col } = f.location;
  const file = s ? to_path(s.url) : '';
  const raw = { file, line: line + 1, col: col + 1, ...(fn ? { fn } : {}) };
  if (!s?.sourceMapURL?.startsWith('data:')) return raw;
  if (s.map === undefined) s.map = decode_map(s.sourceMapURL);
  const e = s.map?.findEntry(line, col) as { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
  if (!e?.originalSource || e.originalLine === undefined) return raw;
  const src = to_path(e.originalSource);
  return { file: isAbsolute(src) || !file ? src : resolve(dirname(file), src), line: e.originalLine + 1, col: (e.originalColumn ?? 0) + 1, ...(fn ? { fn } : {}) };
}

function decode_map(data_url: string): SourceMap | null {
  try {
    const comma = data_url.indexOf(',');
    const body = data_url.slice(comma + 1);
    const json = /;base64$/.test(data_url.slice(0, comma)) ? Buffer.from(body, 'base64').toString('utf8') : decodeURIComponent(body);
    return new SourceMap(JSON.parse(json));
  } catch {
    return null;
  }
}

function to_path(u: string): string {
  if (u.startsWith('file://')) {
    try {
      return fileURLToPath(u);
    } catch {
      return u;
    }
  }
  return u;
}
