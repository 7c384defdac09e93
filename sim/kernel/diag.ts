// The diagnostics log: every complaint the machine makes, printed to dmesg in the kernel's
// shape (a WARN block for dma-debug and WARN_ON, plain lines for dev_warn, "dmalab:" for
// our own rules) and kept as structured records for the grader (docs/contracts.md §3).
import { CODES, type Code, type Origin } from './codes.ts';
import { resolve_site, site_str, type CallSite, type Site } from './site.ts';
import { M } from './machine.ts';
import ARM64_SITES from '../dma/kernel-6.1-arm64-bug-sites.json' with { type: 'json' };

export interface Diagnostic {
  code: Code;
  origin: Origin;
  /** The text as printed, one entry per line, without timestamps. */
  lines: string[];
  sites: { label: string; site: CallSite }[];
  lesson: string;
  time_ns: number;
  /** How many times this happened at the same call sites, saying the same thing (printed once). */
  count: number;
}

export interface ReportOpts {
  /** Where in the learner's code, labelled: [['Unmapped at', site], ['Mapped at', site]]. The
   *  first one is the current call (it goes into the WARNING's call trace). */
  sites?: [string, Site][];
  /** Print a WARN block: 'kernel/dma/debug.c:984 check_unmap+0x1f4/0x69b'. */
  warn?: string;
  /** dma-debug: print "DMA-API: Mapped at:" and this site after the WARN block. */
  mapped_at?: Site;
  /** Print and record only once per this key (WARN_ONCE, dev_warn_once). */
  once?: string;
  /** Do not collapse repeats (each occurrence is its own record). */
  distinct?: boolean;
  /** dmalab's explanation of a kernel message: printed after it (as "dmalab: ..." lines) and
   *  kept with it. */
  notes?: string[];
  /** The lines already say where (a list of leaks with their sites): do not repeat them. */
  sites_in_text?: boolean;
  /** The WARN fires in the kernel's own path (unbind, a notifier), not in a driver call: its
   *  call trace has no driver frame, though the sites still say where things were taken. */
  kernel_path?: boolean;
  /** The driver's call the WARN fired in, when it is not the first site (its trace frame). */
  frame?: Site;
  /** Who says it, when that depends on the machine (a check one architecture makes and another
   *  does not): overrides the code's origin. */
  origin?: Origin;
}

export class DiagLog {
  readonly list: Diagnostic[] = [];
  /** dma-debug's error_count: every err_printk, printed or not. */
  dma_error_count = 0;
  private seen = new Map<string, Diagnostic>();
  private onces = new Set<string>();

  report(code: Code, lines: string[], o: ReportOpts = {}): Diagnostic | null {
    const info = CODES[code];
    if (info.origin === 'dma-debug') this.dma_error_count++;
    if (o.once) {
      if (this.onces.has(o.once)) return null;
      this.onces.add(o.once);
    }
    const sites: { label: string; site: CallSite }[] = [];
    for (const [label, s] of o.sites ?? []) {
      const c = resolve_site(s);
      if (c) sites.push({ label, site: c });
    }
    if (o.mapped_at !== undefined && !sites.some((s) => s.label === 'Mapped at')) {
      const c = resolve_site(o.mapped_at);
      if (c) sites.push({ label: 'Mapped at', site: c });
    }
    // A repeat is the same complaint from the same lines: a loop that leaks on every turn is
    // one record with a count, but two different complaints under one code (a bad-pointer free
    // and a double free) stay two. Numbers (addresses, sizes) do not make it different.
    const shape = (lines[0] ?? '').replace(/0x[0-9a-f]+|\d+/gi, '#').replace(/# bytes\b/g, '# byte');
    const key = `${code}|${sites[0] ? site_str(sites[0].site) : ''}|${sites[1] ? site_str(sites[1].site) : ''}|${shape}`;
    const prev = o.distinct ? undefined : this.seen.get(key);
    if (prev) {
      prev.count++;
      return prev;
    }
    const d: Diagnostic = { code, origin: o.origin ?? info.origin, lines: [...lines, ...(o.notes ?? [])], sites, lesson: info.lesson, time_ns: M.clock.now, count: 1 };
    this.list.push(d);
    this.seen.set(key, d);
    this.print(d, o);
    return d;
  }

  private print(d: Diagnostic, o: ReportOpts): void {
    const out: string[] = [];
    const cur = o.kernel_path ? undefined : o.frame !== undefined ? resolve_site(o.frame) ?? undefined : d.sites[0]?.site;
    const own = d.lines.slice(0, d.lines.length - (o.notes?.length ?? 0));
    if (o.warn) {
      out.push('------------[ cut here ]------------');
      out.push(...own);
      out.push(...warn_block(o.warn, cur));
    } else if (d.origin === 'dmalab') {
      out.push(...own);
      if (!o.sites_in_text) for (const s of d.sites) out.push(`dmalab:   ${s.label}: ${site_str(s.site)} (${s.site.fn})`);
    } else {
      out.push(...own);
    }
    if (o.mapped_at !== undefined) {
      const c = resolve_site(o.mapped_at);
      out.push('DMA-API: Mapped at:');
      if (c) out.push(` ${frame(c)}`);
    }
    for (const n of o.notes ?? []) out.push(n);
    M.printk(d.origin === 'dmalab' ? 4 : 3, out.join('\n'));
  }

  /** Codes reported so far (each once). */
  codes(): Code[] {
    return [...new Set(this.list.map((d) => d.code))];
  }
}

function frame(c: CallSite): string {
  return `${c.fn} (${site_str(c)})`;
}

/** The body of a kernel WARN: location, CPU/task line, a call trace of the learner's frame. */
export function warn_block(where: string, cur: CallSite | undefined): string[] {
  const t = M.sched.task_line();
  const arm = M.shape.arch === 'arm64';
  const out = [`WARNING: CPU: 0 PID: ${t.pid} at ${arch_site(where)}`];
  out.push(`Modules linked in: ${M.modules().join(' ')}`);
  out.push(`CPU: 0 PID: ${t.pid} Comm: ${t.comm} Not tainted 6.1.0-dmalab #1`);
  out.push(arm ? 'Hardware name: linux,dummy-virt (DT)' : 'Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014');
  out.push(arm ? 'Call trace:' : 'Call Trace:');
  const ctx = M.sched.in_hardirq() ? 'IRQ' : 'TASK';
  if (!arm) out.push(` <${ctx}>`);
  if (cur) out.push(` ${frame(cur)}`);
  if (!arm) out.push(` </${ctx}>`);
  out.push('---[ end trace 0000000000000000 ]---');
  return out;
}

/**
 * A WARN site for the machine's architecture. The sites are written as the x86 rig kernel prints
 * them; on arm64 the same file:line sits at other offsets (other code, 4-byte instructions), read
 * from an arm64 build's __bug_table (sim/dma/kernel-6.1-arm64-bug-sites.json). A site inlined in
 * a module, or with no arm64 entry in the same function, stays as it is.
 */
export function arch_site(where: string): string {
  if (M.shape.arch !== 'arm64') return where;
  const m = /^(\S+:\d+) ([\w.]+)\+0x[0-9a-f]+\/0x[0-9a-f]+$/.exec(where);
  if (!m) return where;
  const list = (ARM64_SITES as unknown as Record<string, string[]>)[m[1]!];
  if (!list) return where;
  const same = list.find((f) => f.startsWith(`${m[2]}+`));
  return same ? `${m[1]} ${same}` : where;
}
