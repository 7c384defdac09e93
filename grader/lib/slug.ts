// Heading anchors as code hosts make them, and the sections of a lesson that name a diagnostic
// code: small enough for a hidden test's worker to load without the markdown renderer.
import { readFileSync } from 'node:fs';

/** GitHub-style heading anchor: 'Who owns the buffer?' → 'who-owns-the-buffer';
 *  punctuation goes, except '-' and '_' ('sync_for_device' stays). */
export function slug(s: string): string {
  return s
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

const sections_cache = new Map<string, { anchor: string; body: string }[]>();

/** A markdown file's sections (ATX headings outside code fences), each with its text. */
function sections(file: string): { anchor: string; body: string }[] {
  let out = sections_cache.get(file);
  if (out) return out;
  out = [];
  let fenced = false;
  let cur: { anchor: string; body: string } | undefined;
  let src = '';
  try {
    src = readFileSync(file, 'utf8');
  } catch {
    // No lesson file: no sections.
  }
  for (const line of src.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const h = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) out.push((cur = { anchor: slug(h[1]!), body: '' }));
    else if (cur) cur.body += line + '\n';
  }
  sections_cache.set(file, out);
  return out;
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
    for (const row of s.body.split('\n')) {
      if (!row.startsWith('|') || !row.includes(tick)) continue;
      const link = /\]\(#([^)]+)\)/.exec(row);
      if (link && exists(link[1]!)) return link[1];
      if (/\blesson \d\d\b|\]\([^)#]+\.md/.test(row)) return undefined;
      const sec = /§ ([^,|]+)/.exec(row);
      if (sec && exists(slug(sec[1]!.replace(/"/g, '')))) return slug(sec[1]!.replace(/"/g, ''));
    }
  }
  for (const s of all) {
    const prose = s.body.replace(/^(```|~~~)[\s\S]*?^(```|~~~)\s*$/gm, '').split('\n').filter((l) => !l.startsWith('|')).join('\n');
    if (prose.includes(tick)) return s.anchor;
  }
  return undefined;
}
