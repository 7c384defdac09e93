// die(): the oops, as the rig's 6.1 kernel prints it (arch/x86/kernel/dumpstack.c,
// arch/arm64/kernel/traps.c), then the panic that `oops=panic` makes of it. The rig kernel has
// neither PREEMPT nor PTI (x86: "Oops: 0000 [#1]"); arm64 is always SMP ("[#1] SMP"). After the
// panic the machine runs no more driver code: the test that crashed it stops, as on the rig.
import { M } from './machine.ts';
import { KernelHalt } from './sched.ts';
import { driver_frames, resolve_site, site_str, type CallSite, type Site } from './site.ts';
import type { Code } from './codes.ts';

export interface DieOpts {
  /** What the fault handler printed before the header ("BUG: unable to handle page fault ...",
   *  "#PF: ..."; "kernel BUG at mm/slub.c:419!"). */
  head: string[];
  /** The header: x86 `str: err [#1]` (str "Oops", "invalid opcode"); arm64 `Internal error: str: esr`. */
  x86: [string, number];
  arm64: [string, number];
  /** The kernel function the CPU was in ("dma_map_page_attrs+0x65/0x1f8"); else the driver's. */
  rip?: string;
  /** x86's CR2 line (the faulting address, 16 hex digits) for a page fault. */
  cr2?: string;
  /** The learner's call that got here (its innermost frame), labelled for the verdict. */
  site?: [string, Site];
  /** The driver's frames, innermost first, when known (a JavaScript exception's stack). */
  frames?: CallSite[];
  /** dmalab's words, printed first: what happened, plainly. */
  notes?: string[];
  /** dmalab's words about a kernel-detected fault, printed after the header line. */
  after?: string[];
  /** The task ends (halt kind for the harness). */
  kind?: 'oops' | 'bug';
  message?: string;
}

function module_name(): string {
  for (const r of M.drivers.drivers.values()) if (r.id === M.owner) return r.name.replace(/-/g, '_');
  return '';
}

/** The driver's frames at this point (innermost first), the recorded call site first. */
function frames_here(site: Site | undefined): CallSite[] {
  const o: { stack?: string } = {};
  const lim = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  Error.captureStackTrace(o);
  Error.stackTraceLimit = lim;
  const fr = driver_frames(o.stack);
  const first = site !== undefined ? resolve_site(site) : null;
  if (first) {
    if (fr[0] && fr[0].file === first.file && fr[0].fn === first.fn) fr[0] = first;
    else fr.unshift(first);
  }
  return fr;
}

/** Print the oops and panic; never returns (the driver's task, and the machine, stop). */
export function die(code: Code, o: DieOpts): never {
  throw die_report(code, o);
}

/** die() without the throw: returns what the harness gets back (a KernelHalt). */
export function die_report(code: Code, o: DieOpts): KernelHalt {
  const arm = M.shape.arch === 'arm64';
  const t = M.sched.task_line();
  const frames = o.frames ?? frames_here(o.site?.[1]);
  const mod = module_name();
  const top = frames[0];
  const rip = o.rip ?? (top ? `${top.fn}${mod ? ` [${mod}]` : ''}` : 'unknown');
  const n = 1;   // oops=panic: there is never a second
  const irq = M.sched.in_interrupt();
  const lines = [...(o.notes ?? []), ...o.head];
  const cpu = `CPU: 0 PID: ${t.pid} Comm: ${t.comm} Not tainted 6.1.0-dmalab #1`;
  const trace = frames.map((f) => ` ${site_str(f)} (${f.fn})`);
  if (arm) {
    const [str, esr] = o.arm64;
    lines.push(`Internal error: ${str}: ${esr.toString(16).padStart(16, '0')} [#${n}] SMP`, ...(o.after ?? []),
      `Modules linked in: ${M.modules().join(' ')}`, cpu, 'Hardware name: linux,dummy-virt (DT)',
      `pc : ${rip}`, 'Call trace:', ...trace, '---[ end trace 0000000000000000 ]---',
      `Kernel panic - not syncing: ${str}: Fatal exception${irq ? ' in interrupt' : ''}`);
  } else {
    const [str, err] = o.x86;
    const ctx = M.sched.in_hardirq() ? 'IRQ' : 'TASK';
    // (No "Hardware name:" line: the rig's tinyconfig kernel has no DMI.)
    lines.push(`${str}: ${(err & 0xffff).toString(16).padStart(4, '0')} [#${n}]`, ...(o.after ?? []), cpu,
      `RIP: 0010:${rip}`, 'Call Trace:', ` <${ctx}>`, ...trace, ` </${ctx}>`,
      `Modules linked in: ${M.modules().join(' ')}`,
      ...(o.cr2 !== undefined ? [`CR2: ${o.cr2}`] : []),
      '---[ end trace 0000000000000000 ]---', `RIP: 0010:${rip}`,
      `Kernel panic - not syncing: Fatal exception${irq ? ' in interrupt' : ''}`, 'Kernel Offset: disabled');
  }
  const sites: [string, CallSite][] = frames.map((f, i) => [i ? 'called from' : (o.site?.[0] ?? 'crashed at'), f]);
  M.diag.report(code, lines, { sites, distinct: true, sites_in_text: true });
  M.panicked = true;
  return new KernelHalt(o.kind ?? 'oops', o.message ?? (o.head[0] ?? code));
}

/** A kernel API entry point given something that is not a number of the kind it takes (C would
 *  not have compiled it): thrown, so it becomes an oops with the learner's frames. */
export class ApiArgError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'ApiArgError';
  }
}

function what_is(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : Number.isInteger(v) ? `${v} (beyond 2^53, not exact)` : `${v}, not an integer`;
  if (typeof v === 'string' && v.startsWith('[object ')) return `an object (made a string by +: ${JSON.stringify(v)})`;
  if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)})`;
  if (typeof v === 'bigint') return `a bigint (${v}n)`;
  if (typeof v === 'function') return `a function (${v.name || 'anonymous'})`;
  return `an ${Array.isArray(v) ? 'array' : 'object'}`;
}

/** Check that `v`, argument `arg` of `fn`, is a safe integer; `kind` says what it should be
 *  ("an `__iomem` address", "a length"). */
export function check_int(fn: string, arg: string, v: unknown, kind: string): void {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return;
  throw new ApiArgError(`${fn}(): ${arg} is ${what_is(v)}, not ${kind}`);
}

export const ADDR = 'a kernel address', IOMEM = 'an `__iomem` address', DMA = 'a `dma_addr_t`', LEN = 'a length';

/** The usual pair: an address and a length. */
export function check_addr_len(fn: string, a: string, av: unknown, akind: string, l: string, lv: unknown): void {
  check_int(fn, a, av, akind);
  check_int(fn, l, lv, LEN);
}

/** A JavaScript exception from driver code, in plain words: what the C equivalent would be. */
function plain(err: Error, fn: string): string {
  const m = err.message;
  const who = fn ? `${fn}()` : 'the driver';
  if (err instanceof ApiArgError) return m;
  let r = /^Cannot (read|set) properties of (null|undefined) \((?:reading|setting) '(.*)'\)/.exec(m);
  if (r) return `${who} ${r[1] === 'read' ? 'read' : 'wrote'} .${r[3]} of ${r[2]}: in C, a NULL pointer dereference`;
  r = /^(.*) is not a function/.exec(m);
  if (r) return `${who} called ${r[1]}, which is not a function (undefined: a missing export or a typo?)`;
  if (/cannot be converted to a BigInt|Cannot convert .* to a BigInt/.test(m)) return `${who} passed a value that is not an integer where a 64-bit number belongs (${m})`;
  if (/Maximum call stack size exceeded/.test(m)) return `${who} recursed without end: the kernel stack would have overflowed`;
  if (/is not defined$/.test(m)) return `${who} used a name that does not exist (${m})`;
  return `${who} threw ${err.name}: ${m}`;
}

/** Checkers that can say why driver code threw (the DMA engine's: a NULL prep used), called
 *  with the exception and the driver's frames before the oops is printed. */
export const oops_hooks: ((err: Error, frames: CallSite[]) => void)[] = [];

/** An exception thrown by driver code: an oops with the driver's own frames and, first, a
 *  dmalab line that says what happened. */
export function exception_oops(e: unknown): KernelHalt {
  const err = e instanceof Error ? e : new Error(String(e));
  const frames = driver_frames(err.stack);
  for (const h of oops_hooks) h(err, frames);
  return die_report('OOPS', {
    notes: [`dmalab: ${plain(err, frames[0]?.fn ?? '')}`,
      `dmalab: (a JavaScript ${err.name} in your driver; the kernel would have stopped the task here)`],
    head: [], x86: ['Oops', 0], arm64: ['Oops', 0], frames, site: ['thrown at', 0],
    message: `${err.name}: ${err.message}`,
  });
}
