// Heading anchors as code hosts make them, and the sections of a lesson that name a diagnostic
// code: small enough for a hidden test's worker to load without the markdown renderer.
import { readFileSync, statSync } from 'node:fs';

/** GitHub-style heading anchor: 'Who owns the buffer?' → 'who-owns-the-buffer';
 *  punctuation goes, except '-' and '_' ('sync_for_device' stays). */
export function slug(s: string): string {
  return s
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

interface Section {
  anchor: string;
  /** its text outside code blocks and tables */
  prose: string;
  /** its table rows */
  rows: string[];
}

/** Parsed once per version of a file (a warm grader worker lives across lesson edits). */
const sections_cache = new Map<string, { mtime: number; list: Section[] }>();

/** A markdown file's sections (ATX headings outside code fences). */
function sections(file: string): Section[] {
  let mtime = -1;
  try {
    mtime = statSync(file).mtimeMs;
  } catch {
    // No lesson file: no sections.
  }
  const hit = sections_cache.get(file);
  if (hit && hit.mtime === mtime) return hit.list;
  const list: Section[] = [];
  let fenced = false;
  let cur: Section | undefined;
  const src = mtime < 0 ? '' : readFileSync(file, 'utf8');
  for (const line of src.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (fenced) continue;
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) list.push((cur = { anchor: slug(h[1]!), prose: '', rows: [] }));
    else if (cur && line.startsWith('|')) cur.rows.push(line);
    else if (cur) cur.prose += line + '\n';
  }
  sections_cache.set(file, { mtime, list });
  return list;
}

/** Where `file` explains `code`: a lesson's table of codes says it (a row naming the code, with a
 *  link `](#anchor)` or a `§ Name` of this lesson; a row that sends it to another lesson means
 *  this one defers: undefined), else the first section whose prose (not its pasted output, not
 *  a table) names it in backticks; undefined when it does not. */
export function section_naming(file: string, code: string): string | undefined {
  const tick = '`' + code + '`';
  const all = sections(file);
  const exists = (a: string) => all.some((x) => x.anchor === a);
  for (const s of all) {
    for (const row of s.rows) {
      if (!row.includes(tick)) continue;
      const link = /\]\(#([^)]+)\)/.exec(row);
      if (link && exists(link[1]!)) return link[1];
      if (/\blesson \d\d\b|\]\([^)#]+\.md/.test(row)) return undefined;
      const sec = /§ ([^,|]+)/.exec(row);
      const named = sec ? slug(sec[1]!.replace(/"/g, '')) : '';
      if (named && exists(named)) return named;
    }
  }
  return all.find((s) => s.prose.includes(tick))?.anchor;
}
