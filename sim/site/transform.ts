// Rewrites a driver's source so each call to a kernel function records where it was made,
// the way the kernel records a return address: `dma_map_single(dev, buf, len, dir)` becomes
// `dma_map_single(dev, buf, len, __dmalab_s(17, dir))` (the last argument is evaluated last,
// so nested calls in earlier arguments cannot overwrite the site), and a call without
// arguments `f()` becomes `(__dmalab_s(17, 0), f())`. Lines never move; a source map maps the
// columns back. A V8 stack capture per call would cost 2-5 us; this costs a store.

export interface SiteTransform { code: string; map: SourceMap; sites: number }
export interface SourceMap { version: 3; file: string; sources: string[]; sourcesContent: string[]; names: string[]; mappings: string }

const HEADERS = /^#(linux|asm|drivers|dmalab)\//;

/** Identifiers bound by value imports from kernel headers. */
export function kernel_imports(src: string): Set<string> {
  const names = new Set<string>();
  const re = /import\s+(type\s+)?\{([^}]*)\}\s*from\s*['"]([^'"]+)['"]/g;
  for (let m; (m = re.exec(src));) {
    if (m[1] || !HEADERS.test(m[3]!) || m[3] === '#dmalab/site') continue;
    for (const part of m[2]!.split(',')) {
      const p = part.trim();
      if (!p || p.startsWith('type ')) continue;
      const as = p.split(/\s+as\s+/);
      names.add((as[1] ?? as[0])!.trim());
    }
  }
  return names;
}

interface Tok { t: 'id' | 'str' | 'num' | 'punct' | 'tmpl'; v: string; at: number }

/** A small JS/TS tokenizer: enough to find calls, brackets and top-level commas. */
function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const n = src.length;
  let prev_sig = '';
  while (i < n) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    if (c === '/' && src[i + 1] === '/') { while (i < n && src[i] !== '\n') i++; continue; }
    if (c === '/' && src[i + 1] === '*') { const e = src.indexOf('*/', i + 2); i = e < 0 ? n : e + 2; continue; }
    const start = i;
    if (/[A-Za-z_$]/.test(c)) {
      while (i < n && /[\w$]/.test(src[i]!)) i++;
      out.push({ t: 'id', v: src.slice(start, i), at: start });
      prev_sig = 'id';
      continue;
    }
    if (/[0-9]/.test(c)) {
      while (i < n && /[\w.]/.test(src[i]!)) i++;
      out.push({ t: 'num', v: src.slice(start, i), at: start });
      prev_sig = 'num';
      continue;
    }
    if (c === '"' || c === "'") {
      i++;
      while (i < n && src[i] !== c) { if (src[i] === '\\') i++; i++; }
      i++;
      out.push({ t: 'str', v: src.slice(start, i), at: start });
      prev_sig = 'str';
      continue;
    }
    if (c === '`') {
      // Template literal: skip ${ ... } parts with brace counting (and strings inside).
      i++;
      while (i < n && src[i] !== '`') {
        if (src[i] === '\\') { i += 2; continue; }
        if (src[i] === '$' && src[i + 1] === '{') {
          let depth = 1;
          i += 2;
          while (i < n && depth) {
            const d = src[i]!;
            if (d === '{') depth++;
            else if (d === '}') depth--;
            else if (d === '"' || d === "'" || d === '`') {
              const q = d;
              i++;
              while (i < n && src[i] !== q) { if (src[i] === '\\') i++; i++; }
            }
            i++;
          }
          continue;
        }
        i++;
      }
      i++;
      out.push({ t: 'tmpl', v: src.slice(start, i), at: start });
      prev_sig = 'str';
      continue;
    }
    if (c === '/' && !(prev_sig === 'id' || prev_sig === 'num' || prev_sig === 'str' || prev_sig === ')' || prev_sig === ']')) {
      // A regular expression literal.
      i++;
      let cls = false;
      while (i < n && (src[i] !== '/' || cls) && src[i] !== '\n') {
        if (src[i] === '\\') i++;
        else if (src[i] === '[') cls = true;
        else if (src[i] === ']') cls = false;
        i++;
      }
      i++;
      while (i < n && /[a-z]/.test(src[i]!)) i++;
      out.push({ t: 'str', v: src.slice(start, i), at: start });
      prev_sig = 'str';
      continue;
    }
    // Multi-char punctuators that matter: => ?. ...
    const two = src.slice(i, i + 2);
    if (two === '=>' || two === '?.' ) { out.push({ t: 'punct', v: two, at: start }); i += 2; prev_sig = two; continue; }
    out.push({ t: 'punct', v: c, at: start });
    prev_sig = c;
    i++;
  }
  return out;
}

/** Index of the token closing the bracket opened at toks[open]. */
function close_of(toks: Tok[], open: number): number {
  const pair: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
  const want = pair[toks[open]!.v]!;
  let depth = 0;
  for (let k = open; k < toks.length; k++) {
    const v = toks[k]!.v;
    if (toks[k]!.t !== 'punct') continue;
    if (v === '(' || v === '[' || v === '{') depth++;
    else if (v === ')' || v === ']' || v === '}') { depth--; if (depth === 0) return v === want ? k : -1; }
  }
  return -1;
}

/** The index of the `{` opening the body of a function whose parameter list starts at or
 *  after toks[from] (past type parameters), skipping object types in its return type; -1. */
function body_brace(toks: Tok[], from: number): number {
  let k = from;
  while (k < toks.length && toks[k]!.v !== '(') k++;
  const close = k < toks.length ? close_of(toks, k) : -1;
  if (close < 0) return -1;
  const in_type = new Set([':', '|', '&', '<', ',', '(', '[', '=>', '?', '=']);
  for (let m = close + 1; m < toks.length; m++) {
    const v = toks[m]!.v;
    if (v === ';') return -1;
    if (v !== '{') continue;
    if (!in_type.has(toks[m - 1]!.v)) return m;
    const end = close_of(toks, m);
    if (end < 0) return -1;
    m = end;
  }
  return -1;
}

interface Edit { at: number; text: string }

export function transform_sites(src: string, file: string): SiteTransform | null {
  const names = kernel_imports(src);
  if (!names.size) return null;
  // Layouts made with struct_layout(): their .get()/.set() are kernel calls too (a descriptor's
  // field store is where a report about it points).
  const layouts = new Set<string>();
  if (names.has('struct_layout'))
    for (const m of src.matchAll(/\b(?:const|let)\s+([A-Za-z_$][\w$]*)\s*=\s*struct_layout\s*\(/g)) layouts.add(m[1]!);
  const toks = tokenize(src);
  const edits: Edit[] = [];
  const sites: [number, number, string][] = [];
  // Enclosing function names by brace depth.
  const fns: { name: string; depth: number }[] = [];
  let depth = 0, pending = '', pending_at = -1;
  const line_starts = [0];
  for (let i = 0; i < src.length; i++) if (src[i] === '\n') line_starts.push(i + 1);
  const pos = (at: number): [number, number] => {
    let lo = 0, hi = line_starts.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (line_starts[mid]! <= at) lo = mid; else hi = mid - 1; }
    return [lo + 1, at - line_starts[lo]! + 1];
  };
  for (let k = 0; k < toks.length; k++) {
    const tk = toks[k]!;
    if (tk.t === 'punct') {
      if (tk.v === '{') {
        depth++;
        if (pending && k === pending_at) { fns.push({ name: pending, depth }); pending = ''; }
      } else if (tk.v === '}') {
        if (fns.length && fns[fns.length - 1]!.depth === depth) fns.pop();
        depth--;
      }
      continue;
    }
    if (tk.t !== 'id') continue;
    // Skip whole import / export-from declarations (not `export function ...`, `export const ...`).
    const export_list = tk.v === 'export' && (toks[k + 1]?.v === '{' || toks[k + 1]?.v === '*' || (toks[k + 1]?.v === 'type' && toks[k + 2]?.v === '{'));
    if ((tk.v === 'import' || export_list) && depth === 0 && toks[k + 1]?.v !== '(') {
      let m = k + 1;
      while (m < toks.length && toks[m]!.v !== ';' && !(toks[m - 1]?.v === 'from' && toks[m]!.t === 'str')) m++;
      if (toks[m - 1]?.v === 'from' || toks[m]?.v === ';') { k = m; continue; }
    }
    const prev = toks[k - 1];
    // function NAME ( ... ) {   /   NAME = (...) => {   /   NAME = function
    // The body's brace, not one of an object type in the parameters or the return type.
    if (tk.v === 'function' && toks[k + 1]?.t === 'id') { pending = toks[k + 1]!.v; pending_at = body_brace(toks, k + 2); continue; }
    if ((prev?.v === 'const' || prev?.v === 'let') && toks[k + 1]?.v === '=') {
      const look = toks.slice(k + 2, k + 40);
      const arrow = look.findIndex((x) => x.v === '=>');
      if (look[0]?.v === 'function') { pending = tk.v; pending_at = body_brace(toks, k + 3); }
      else if (arrow >= 0) { pending = tk.v; pending_at = toks[k + 3 + arrow]?.v === '{' ? k + 3 + arrow : -1; }
    }
    const method = (tk.v === 'get' || tk.v === 'set') && prev?.v === '.' && layouts.has(toks[k - 2]?.v ?? '');
    if (!names.has(tk.v) && !method) continue;
    if (!method && prev && (prev.v === '.' || prev.v === '?.' || prev.v === 'function')) continue;
    let j = k + 1;
    if (toks[j]?.v === '<') {
      let d = 0;
      for (; j < toks.length; j++) {
        if (toks[j]!.v === '<') d++;
        else if (toks[j]!.v === '>') { d--; if (d === 0) { j++; break; } }
        else if (toks[j]!.v === ';' || toks[j]!.v === '{') { j = -1; break; }
      }
      if (j < 0) continue;
    }
    if (toks[j]?.v !== '(') continue;
    const close = close_of(toks, j);
    if (close < 0) continue;
    // Start of the last top-level argument.
    let last = -1, d = 0;
    for (let m = j + 1; m < close; m++) {
      const v = toks[m]!.v, t = toks[m]!.t;
      if (t === 'punct' && (v === '(' || v === '[' || v === '{')) d++;
      else if (t === 'punct' && (v === ')' || v === ']' || v === '}')) d--;
      else if (d === 0 && t === 'punct' && v === ',' && m + 1 < close) last = m;
    }
    const id = sites.length;
    const [line, col] = pos(tk.at);   // a method call: at the method's name, as V8 reports it
    sites.push([line, col, fns.length ? fns[fns.length - 1]!.name : '<module>']);
    if (j + 1 === close) {
      edits.push({ at: tk.at, text: `(__dmalab_s(__dmalab_b + ${id}, 0), ` });
      edits.push({ at: toks[close]!.at + 1, text: ')' });
    } else {
      const arg_start = last >= 0 ? toks[last + 1]!.at : toks[j + 1]!.at;
      // The argument ends at the last token before ')' (or before a trailing comma).
      let end_tok = close - 1;
      if (toks[end_tok]!.v === ',') end_tok--;
      const t_end = toks[end_tok]!;
      edits.push({ at: arg_start, text: `__dmalab_s(__dmalab_b + ${id}, ` });
      edits.push({ at: t_end.at + t_end.v.length, text: ')' });
    }
  }
  if (!sites.length) return null;
  const header = `import { __dmalab_s, __dmalab_sites } from '#dmalab/site'; const __dmalab_b = __dmalab_sites(${JSON.stringify(file)}, ${JSON.stringify(sites)}); `;
  edits.push({ at: 0, text: header });
  edits.sort((a, b) => a.at - b.at);
  let code = '', from = 0;
  for (const e of edits) { code += src.slice(from, e.at) + e.text; from = e.at; }
  code += src.slice(from);
  return { code, map: source_map(src, edits, toks.map((t) => t.at), file), sites: sites.length };
}

// ---- source maps -----------------------------------------------------------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function vlq(n: number): string {
  let v = n < 0 ? (-n << 1) | 1 : n << 1, s = '';
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v) digit |= 32;
    s += B64[digit];
  } while (v);
  return s;
}

/** Insertions only: a segment at the start of every token (and of every line) maps it to
 *  its original place, so columns survive as well as lines. `sources` is the file's base name:
 *  consumers resolve it against the module's own directory. */
function source_map(src: string, edits: Edit[], token_starts: number[], file: string): SourceMap {
  const lines = src.split('\n');
  const starts = [...token_starts].sort((a, b) => a - b);
  let off = 0, e = 0, t = 0, shift = 0;
  let prev_src_line = 0, prev_src_col = 0;
  const out: string[] = [];
  for (let ln = 0; ln < lines.length; ln++) {
    const start = off, end = off + lines[ln]!.length;
    const segs: string[] = [];
    let prev_gen_col = 0, line_shift = 0;
    const points = [start];
    while (t < starts.length && starts[t]! < end) { if (starts[t]! > start) points.push(starts[t]!); t++; }
    for (const p of points) {
      while (e < edits.length && edits[e]!.at <= p) {
        if (edits[e]!.at >= start) line_shift += edits[e]!.text.length;
        shift += edits[e]!.text.length;
        e++;
      }
      const orig_col = p - start;
      const gen = orig_col + line_shift;
      segs.push(vlq(gen - prev_gen_col) + vlq(0) + vlq(ln - prev_src_line) + vlq(orig_col - prev_src_col));
      prev_gen_col = gen; prev_src_line = ln; prev_src_col = orig_col;
    }
    // Edits at the end of the line (after the last token) only shift later lines: none do.
    while (e < edits.length && edits[e]!.at <= end) { shift += edits[e]!.text.length; e++; }
    out.push(segs.join(','));
    off = end + 1;
  }
  void shift;
  const base = file.split('/').pop()!;
  return { version: 3, file: base, sources: [base], sourcesContent: [src], names: [], mappings: out.join(';') };
}
