// Call sites: where in the learner's code a kernel function was called ("Mapped at: ...").
//
// The kernel records return addresses; a V8 stack capture costs 2-5 us, too slow for every
// dma_map_single. So driver files are rewritten at load time (sim/site/transform.ts): each call
// to a kernel function first stores a small integer naming that call site in `cur`, and the
// entry point takes it with take_site(). Code that was not rewritten (tests, the playground)
// falls back to a V8 capture, formatted only if a report needs it.
import path from 'node:path';
import { is_driver_source, course_path } from '../site/which.ts';

export interface CallSite { file: string; line: number; col: number; fn: string }
/** A registry id (number > 0), a lazy V8 capture (object), or 0 for "unknown". */
export type Site = number | { stack?: string } | CallSite | 0;

const registry: (CallSite | undefined)[] = [undefined];
let cur = 0;
let capture_on = true;

/** Called once per rewritten module: registers its call sites, returns the id of the first. */
export function __dmalab_sites(file: string, list: [number, number, string][]): number {
  const base = registry.length;
  for (const [line, col, fn] of list) registry.push({ file, line, col, fn });
  return base;
}

/** Rewritten code calls this around the last argument of a kernel call (or before a call
 *  without arguments): it records the site and passes the value through. */
export function __dmalab_s<T>(id: number, v: T): T {
  cur = id;
  return v;
}

/** Forget any site left by learner code (harness boundaries). */
export function clear_site(): void {
  cur = 0;
}

export function set_capture(on: boolean): void {
  capture_on = on;
}

/** The site of the current kernel call. `entry` is the exported function the learner called,
 *  so a fallback capture starts at its caller. */
export function take_site(entry: Function): Site {
  const s = cur;
  if (s) {
    cur = 0;
    return s;
  }
  if (!capture_on) return 0;
  const o: { stack?: string } = {};
  const lim = Error.stackTraceLimit;
  Error.stackTraceLimit = 12;
  Error.captureStackTrace(o, entry);
  Error.stackTraceLimit = lim;
  return o;
}

/** take_site(entry), taken on first use: for a check that needs the site only when it reports or
 *  traces something (a V8 capture costs microseconds; take_site also consumes the rewritten
 *  code's site, so it is taken once). */
export class LazySite {
  private s: Site | undefined;
  constructor(private readonly entry: Function) {}
  site(): Site {
    return (this.s ??= take_site(this.entry));
  }
}

// An exception from deep inside the sim must still carry the driver frames that called it.
if (Error.stackTraceLimit < 40) Error.stackTraceLimit = 40;

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/** Is this file the learner's (a driver), rather than the sim, the harness or node? */
function is_driver_file(file: string): boolean {
  return is_driver_source(file);
}

const FRAME = /^\s*at (?:(.*?) \()?(?:file:\/\/)?(\/[^()]*?):(\d+):(\d+)\)?$/;

/** Parse a V8 stack into the driver's frames (innermost first). */
export function driver_frames(stack: string | undefined): CallSite[] {
  const out: CallSite[] = [];
  for (const l of (stack ?? '').split('\n')) {
    const m = FRAME.exec(l);
    if (!m) continue;
    const file = m[2]!;
    if (!is_driver_file(file)) continue;
    out.push({ file: course_path(file), line: +m[3]!, col: +m[4]!, fn: clean_fn(m[1]) });
  }
  return out;
}

function clean_fn(f: string | undefined): string {
  if (!f) return '<anonymous>';
  return f.replace(/^(async |new )/, '').replace(/^(Object|Module)\./, '').replace(/ \[as [^\]]+\]$/, '');
}

/** Resolve a site to where it is in the learner's source, or null if unknown. */
export function resolve_site(s: Site): CallSite | null {
  if (typeof s === 'number') return s > 0 ? registry[s] ?? null : null;
  if ('file' in s) return s;
  return driver_frames(s.stack)[0] ?? null;
}

/** 'exercises/04-streaming-dma/driver.ts:41:17' */
export function site_str(c: CallSite): string {
  return `${c.file}:${c.line}:${c.col}`;
}

export const REPO_ROOT = ROOT;
