// Verdicts in the terminal: the kernel's words, the learner's call sites as path:line:col.
import type { ErrorInfo, TestVerdict, Verdict, VerdictDiagnostic } from '../verdict.ts';

export interface Style {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
  cyan(s: string): string;
}

const wrap = (a: number, b: number) => (s: string) => `\x1b[${a}m${s}\x1b[${b}m`;
export const COLOR: Style = { red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), dim: wrap(2, 22), bold: wrap(1, 22), cyan: wrap(36, 39) };
export const PLAIN: Style = { red: (s) => s, green: (s) => s, yellow: (s) => s, dim: (s) => s, bold: (s) => s, cyan: (s) => s };

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function use_color(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return !!stream.isTTY;
}

export function hex(n: number): string {
  return '0x' + n.toString(16);
}

export function progress_bar(done: number, total: number, width = 10): string {
  const n = total ? Math.round((done / total) * width) : 0;
  return `[${'#'.repeat(n)}${'-'.repeat(width - n)}] ${done}/${total}`;
}

function loc(e: { file?: string | null; line?: number | null; col?: number | null }): string {
  return e.file ? `${e.file}:${e.line ?? 0}:${e.col ?? 0}` : '';
}

export function format_error(e: ErrorInfo, st: Style, ind: string): string {
  const lines: string[] = [];
  const where = loc(e);
  switch (e.kind) {
    case 'syntax':
      lines.push(`${st.red('syntax error')} ${where ? st.bold(where) + ': ' : ''}${first_line(e.message)}`);
      lines.push(...rest_lines(e.message).map((l) => st.dim(l)));
      break;
    case 'build':
      lines.push(`${st.red('✗')} ${build_line(e, st)}`);
      lines.push(...rest_lines(e.message).map((l) => st.dim('  ' + l.trim())));
      break;
    case 'timeout':
      lines.push(`${st.red('⏱')} ${e.message}`);
      break;
    case 'export':
      lines.push(`${st.yellow('!')} ${e.message}`);
      break;
    case 'missing':
      lines.push(`${st.yellow('!')} ${e.message} — restore it, or \`npm run reset -- <exercise>\``);
      break;
    case 'exception':
      lines.push(`${st.red('Oops:')} ${first_line(e.message)}`);
      for (const f of e.frames ?? []) lines.push(`  at ${f.method ? f.method + ' ' : ''}${st.bold(loc(f))}`);
      break;
    default:
      lines.push(`${st.red('✗')} ${first_line(e.message)}${where ? ' ' + st.bold(where) : ''}`);
      lines.push(...rest_lines(e.message).slice(0, 8).map((l) => st.dim(l)));
  }
  return lines.map((l) => ind + l + '\n').join('');
}

/** A type error as the build prints it: `path:line:col TS2345 message` (its first line). */
export function build_line(e: ErrorInfo, st: Style = PLAIN): string {
  return `${e.file ? st.bold(loc(e)) + ' ' : ''}${e.code ? e.code + ' ' : ''}${first_line(e.message)}`;
}

function first_line(s: string): string {
  return s.split('\n')[0] ?? '';
}
function rest_lines(s: string): string[] {
  return s.split('\n').slice(1).filter((l) => l.trim() !== '').slice(0, 12);
}

export interface DetailOptions {
  dmesg?: number;
  trace?: number;
}

/** Runs of identical lines as one line with a count: "... taken at x.ts:73:17 (×4)". */
export function collapse_repeats(lines: string[]): string[] {
  const out: { line: string; n: number }[] = [];
  for (const l of lines) {
    const prev = out.at(-1);
    if (prev?.line === l) prev.n++;
    else out.push({ line: l, n: 1 });
  }
  return out.map((x) => (x.n > 1 ? `${x.line} (×${x.n})` : x.line));
}

/** Codes in order, each once, with how often: "KFREE_MAPPED (×2), DMA_LEAK_AT_UNBIND". */
export function codes_line(codes: string[]): string {
  const n = new Map<string, number>();
  for (const c of codes) n.set(c, (n.get(c) ?? 0) + 1);
  return [...n].map(([c, k]) => (k > 1 ? `${c} (×${k})` : c)).join(', ');
}

/** One diagnostic: the kernel's lines, then the call sites its lines do not already name. */
export function diagnostic_lines(d: VerdictDiagnostic, st: Style): string[] {
  const p = diagnostic_parts(d, st);
  return [...p.text, ...(p.count ? [p.count] : []), ...p.sites];
}

/** A diagnostic's text (continuation lines indented), how often it happened, its call sites. */
export function diagnostic_parts(d: VerdictDiagnostic, st: Style): { text: string[]; count?: string; sites: string[] } {
  const text = collapse_repeats(d.lines).map((l, i) => (i === 0 ? l : '    ' + l));
  // dmalab records a repeat once (the kernel would print each): say how often.
  const count = (d.count ?? 1) > 1 ? st.dim(`    happened ${d.count} times from these lines (the first is shown)`) : undefined;
  const sites = unique_sites(d.sites, d.lines).map((p) => `${p.label}: ${st.bold(p.where)}${p.fn ? ` (${p.fn})` : ''}${p.n > 1 ? ` (×${p.n})` : ''}`);
  return { text, count, sites };
}

type SiteLike = { label: string; file: string; line: number; col: number; fn?: string };

/**
 * Each place said once: a leak list names its sites in its lines, and a site such as dma-debug's
 * "Mapped at" may repeat what a more specific one ("Leaked (single, 4096 bytes) mapped at")
 * already said; the same label at the same place is counted. (`npm run try` lists them so too.)
 */
export function unique_sites(all: readonly SiteLike[], lines: readonly string[]): { label: string; where: string; fn?: string; n: number }[] {
  const sites: { label: string; where: string; fn?: string; n: number }[] = [];
  for (const s of all) {
    const where = `${s.file}:${s.line}:${s.col}`;
    if (lines.some((l) => l.includes(where))) continue;
    const same = sites.find((p) => p.label === s.label && p.where === where);
    if (same) {
      same.n++;
      continue;
    }
    const label = s.label.toLowerCase();
    if (sites.some((p) => p.where === where && p.label.toLowerCase().includes(label))) continue;
    sites.push({ label: s.label, where, fn: s.fn && s.fn !== '<anonymous>' ? s.fn : undefined, n: 1 });
  }
  return sites;
}

/** One failing test in full: message, diagnostics with sites, data, dmesg, trace, seed/shape. */
export function format_test_detail(t: TestVerdict, st: Style, ind = '   ', o: DetailOptions = {}): string {
  const out: string[] = [];
  const r = t.report;
  if (t.error && t.error.kind !== 'assertion') out.push(format_error(t.error, st, ind).trimEnd().replace(new RegExp('^' + ind), ''));
  else if (t.message) out.push(...t.message.split('\n').filter(Boolean).slice(0, 6).map((l) => st.yellow(l)));
  for (const d of t.diagnostics) out.push(...diagnostic_lines(d, st));
  // A data check the test also reported as a finding is already printed above.
  const said = t.diagnostics.flatMap((d) => d.lines);
  for (const dl of r?.data ?? []) if (!said.some((l) => l.includes(dl))) out.push(`${st.red('→')} ${dl}`);
  const nd = o.dmesg ?? 5;
  const nt = o.trace ?? 10;
  if (nd > 0 && r?.dmesg?.length) {
    out.push(st.dim(`dmesg (last ${Math.min(nd, r.dmesg.length)}):`));
    out.push(...r.dmesg.slice(-nd).map((l) => st.dim('  ' + l)));
  }
  if (nt > 0 && r?.trace?.length) {
    out.push(st.dim(`trace (last ${Math.min(nt, r.trace.length)} events):`));
    out.push(...r.trace.slice(-nt).map((l) => st.dim('  ' + l)));
  }
  if (r) {
    const lesson = test_lesson(t);
    out.push(st.dim(`seed ${hex(r.seed)} · machine ${r.shape}${lesson ? ` · read ${lesson}` : ''}`));
  }
  return out.map((l) => ind + l + '\n').join('');
}

/** The lesson section for a failing test: the report's (the hidden test chose it: the first
 *  diagnostic that failed the test, else the test's own section), else the first diagnostic's. */
export function test_lesson(t: TestVerdict): string | undefined {
  return t.report?.lesson ?? t.diagnostics.find((d) => d.lesson)?.lesson;
}

/** The body of a verdict: errors, then each test with ✓/✗ and details for the failing ones
 *  (the first `details` of them, default 2; Infinity for all). */
export function format_verdict_body(v: Verdict, st: Style, o: DetailOptions & { details?: number } = {}): string {
  let s = '';
  for (const e of v.errors) s += format_error(e, st, ' ');
  if (v.errors.some((e) => e.kind === 'build')) s += st.dim(' no hidden test ran: the tests run once the driver builds') + '\n';
  let shown = 0;
  for (const t of v.tests) {
    if (t.passed) {
      s += ` ${st.green('✓')} ${t.name}\n`;
    } else if (t.state === 'skipped') {
      s += ` ${st.dim('- ' + t.name + ' (skipped)')}\n`;
    } else {
      s += ` ${st.red('✗')} ${t.name}\n`;
      if (shown++ < (o.details ?? 2)) s += format_test_detail(t, st, '   ', o);
      else if (t.diagnostics.length) s += `   ${st.dim(codes_line(t.diagnostics.map((d) => d.code)))}\n`;
      else if (t.message) s += `   ${st.dim(first_line(t.message))}\n`;
    }
  }
  return s;
}

/** Short form for `verify`: errors and failing tests, first lines only. */
export function format_verdict_brief(v: Verdict, ind = '  '): string {
  let s = '';
  for (const e of v.errors) s += e.kind === 'build' ? `${ind}build: ${build_line(e)}\n` : `${ind}${e.kind}: ${first_line(e.message)}${e.file && e.line && !e.message.includes(loc(e)) ? ` (${loc(e)})` : ''}\n`;
  for (const t of v.tests.filter((x) => !x.passed && x.state !== 'skipped')) {
    s += `${ind}✗ ${t.name}${t.message ? ': ' + first_line(t.message) : ''}\n`;
    for (const d of t.diagnostics) {
      const fn = d.sites?.[0]?.fn;
      s += `${ind}    ${d.code}${d.file ? ` at ${loc(d)}${fn ? ` (${fn})` : ''}` : ''}: ${first_line(d.message)}\n`;
    }
  }
  return s;
}

export function headline(v: Verdict): string {
  if (v.passed) return `✓ all ${v.tests.length} hidden tests pass`;
  const e = v.errors[0];
  if (e?.kind === 'syntax') return '✗ does not compile';
  if (e?.kind === 'build') {
    const n = v.errors.filter((x) => x.kind === 'build' && x.code).length;
    return n ? `✗ build failed: ${n} type error${n === 1 ? '' : 's'}` : '✗ build failed';
  }
  if (e?.kind === 'export') return '✗ an export is missing';
  if (e?.kind === 'timeout') return `✗ timed out after ${v.timed_out_s ?? '?'} s`;
  if (e?.kind === 'missing') return '✗ file missing';
  const bad = v.tests.filter((t) => !t.passed).length;
  if (v.tests.length === 0) return '✗ the hidden tests did not run';
  return `✗ ${bad} of ${v.tests.length} hidden tests fail`;
}
