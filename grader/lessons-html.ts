// Lessons in a browser: `npm run lessons` renders lessons/*.md to .dmalab/html/ with
// markdown-it. Headings get the same anchors a code host gives them (lesson.ts's slug), so the
// grader's "lesson § …" pointers and the lessons' own cross-links work as file:// links; links
// to .md files become links to their .html, links into the repository point at the files.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import MarkdownIt from 'markdown-it';
import { slug } from './lesson.ts';

const md = new MarkdownIt({ html: false, linkify: false, typographer: false });

// Anchors on headings, deduplicated as code hosts do ('x', 'x-1', ...).
md.core.ruler.push('dmalab_anchors', (state) => {
  const seen = new Map<string, number>();
  const toks = state.tokens;
  for (let i = 0; i < toks.length; i++) {
    if (toks[i]!.type !== 'heading_open') continue;
    const base = slug(toks[i + 1]?.content ?? '');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    toks[i]!.attrSet('id', n ? `${base}-${n}` : base);
  }
  return true;
});

/** Rewrites one href from a lesson: sibling .md → .html; repo paths → relative to the output. */
function rewrite_href(href: string, lessons_dir: string, out_dir: string): string {
  if (/^[a-z]+:/i.test(href) || href.startsWith('#')) return href;
  const [file, anchor] = href.split('#');
  const target = join(lessons_dir, file!);
  const rel = relative(lessons_dir, target);
  const html = !rel.startsWith('..') && !rel.includes('/') && rel.endsWith('.md');
  const out = html ? rel.replace(/\.md$/, '.html') : relative(out_dir, target);
  return anchor !== undefined ? `${out}#${anchor}` : out;
}

const CSS = `body{max-width:52rem;margin:2rem auto;padding:0 1rem;font:16px/1.55 system-ui,sans-serif;color:#1f2328}
pre{background:#f6f8fa;padding:.8rem;overflow-x:auto;border-radius:6px;font-size:13.5px;line-height:1.4}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:90%}
:not(pre)>code{background:#eff1f3;padding:.1em .3em;border-radius:4px}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #d0d7de;padding:.3rem .6rem;vertical-align:top}td code{white-space:nowrap}
h1,h2,h3{line-height:1.25}h2{border-bottom:1px solid #d8dee4;padding-bottom:.3rem;margin-top:2rem}
nav{font-size:14px;margin-bottom:1.5rem}nav a{margin-right:1rem}a{color:#0969da}`;

export interface BuiltLesson { file: string; title: string; html: string; ids: string[] }

/** Renders every lesson; returns what it wrote (for the tests and the index). */
export function build_lessons_html(root: string, out_dir: string): BuiltLesson[] {
  const lessons_dir = join(root, 'lessons');
  const files = readdirSync(lessons_dir).filter((f) => f.endsWith('.md')).sort();
  mkdirSync(out_dir, { recursive: true });
  const built: BuiltLesson[] = [];
  for (const f of files) {
    const src = readFileSync(join(lessons_dir, f), 'utf8');
    const env = {};
    const tokens = md.parse(src, env);
    for (const t of tokens) {
      for (const c of t.children ?? []) {
        if (c.type === 'link_open') c.attrSet('href', rewrite_href(String(c.attrGet('href') ?? ''), lessons_dir, out_dir));
      }
    }
    const body = md.renderer.render(tokens, md.options, env);
    const title = /^# (.+)$/m.exec(src)?.[1] ?? f;
    const ids = [...body.matchAll(/<h\d id="([^"]+)"/g)].map((m) => m[1]!);
    built.push({ file: f.replace(/\.md$/, '.html'), title, html: body, ids });
  }
  const nav = `<nav><a href="index.html">all lessons</a></nav>`;
  for (const b of built) writeFileSync(join(out_dir, b.file), page(b.title, nav + b.html));
  const list = built.map((b) => `<li><a href="${b.file}">${escape(b.title)}</a></li>`).join('\n');
  writeFileSync(join(out_dir, 'index.html'), page('dmalab lessons', `<h1>dmalab lessons</h1>\n<ul>\n${list}\n</ul>`));
  return built;
}

function page(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">\n<title>${escape(title)}</title><style>${CSS}</style></head>\n<body>\n${body}\n</body></html>\n`;
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
