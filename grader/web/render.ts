// The lessons as HTML: one renderer for the browser view (`npm start -- --web`) and the static
// pages (`npm run lessons`). markdown-it; heading anchors as a code host makes them (lesson.ts's
// slug, deduplicated 'x', 'x-1'), so the grader's lesson pointers land; TypeScript, C and shell
// coloured by highlight.js, the highlighter the terminal pager already uses (grader/ui/highlight.ts:
// one pinned dependency for both, its classed spans styled by its own stylesheet); "lesson 01 §
// Remove" and "§ Unmapping" in the prose become links; a table of contents and previous/next.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import MarkdownIt, { type StateCore } from 'markdown-it';
import { slug } from '../lib/slug.ts';
import { code_language, highlight_html } from '../ui/highlight.ts';

type Token = InstanceType<StateCore['Token']>;
type State = StateCore;

export interface Heading { level: number; text: string; id: string }

/** One lesson file: 'lessons/04-streaming-dma.md' is md '04-streaming-dma.md', num '04'. */
export interface LessonInfo { md: string; html: string; num: string; title: string; headings: Heading[] }

/** Where links to the repository's files go: beside the output (static pages), or to the editor. */
export type LinkMode = { kind: 'static'; out_dir: string } | { kind: 'app' };

interface Env { [k: string | symbol]: unknown; root: string; lessons: LessonInfo[]; current: LessonInfo; links: LinkMode }

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const md = new MarkdownIt({
  html: false,
  linkify: false,
  typographer: false,
  highlight(code: string, info: string) {
    const lang = code_language(info);
    const body = lang ? highlight_html(code, lang) : escape(code);
    return `<pre class="hljs"><code${lang ? ` class="language-${lang}"` : ''}>${body}</code></pre>`;
  },
});

/** Heading ids as a code host makes them: the slug, then 'x-1', 'x-2' for repeats. */
function heading_ids(tokens: Token[]): Heading[] {
  const seen = new Map<string, number>();
  const out: Heading[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type !== 'heading_open') continue;
    const text = tokens[i + 1]?.content ?? '';
    const base = slug(text);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    const id = n ? `${base}-${n}` : base;
    t.attrSet('id', id);
    out.push({ level: Number(t.tag.slice(1)), text, id });
  }
  return out;
}

md.core.ruler.push('dmalab_anchors', (state: State) => {
  heading_ids(state.tokens);
});

/** A heading's words as the prose names them: no backticks or emphasis marks. */
const plain = (s: string) => s.replace(/`|\*\*/g, '').trim();

/** The heading of `l` that `rest` starts with (the longest, whole words), or that a quoted name
 *  equals (or starts, when the quote runs past this piece of text). */
function named_heading(l: LessonInfo, rest: string): { h: Heading; len: number } | undefined {
  if (rest.startsWith('"')) {
    const q = rest.indexOf('"', 1);
    const name = (q > 0 ? rest.slice(1, q) : rest.slice(1)).toLowerCase();
    const h = l.headings.find((x) => (q > 0 ? plain(x.text).toLowerCase() === name : plain(x.text).toLowerCase().startsWith(name)));
    return h && { h, len: q > 0 ? q + 1 : rest.length };
  }
  let best: { h: Heading; len: number } | undefined;
  for (const h of l.headings) {
    const p = plain(h.text);
    if (p.length < 3 || !rest.toLowerCase().startsWith(p.toLowerCase())) continue;
    if (/[\p{L}\p{N}]/u.test(rest[p.length] ?? '')) continue;
    if (!best || p.length > best.len) best = { h, len: p.length };
  }
  return best;
}

const XREF = /\b[Ll]essons? (\d\d)\b('s)?|§ /g;

/** Splits one text token into text and links wherever it names a lesson or a section. */
function xref_tokens(state: State, text: string, env: Env): Token[] | undefined {
  const out: Token[] = [];
  let at = 0;
  const push_text = (s: string) => {
    if (!s) return;
    const t = new state.Token('text', '', 0);
    t.content = s;
    out.push(t);
  };
  for (const m of text.matchAll(XREF)) {
    const start = m.index;
    if (start < at) continue;
    let target: LessonInfo | undefined = env.current;
    let end = start + m[0].length;
    let anchor: string | undefined;
    if (m[1]) {
      target = env.lessons.find((l) => l.num === m[1]);
      if (!target) continue;
      const sec = /^ § /.exec(text.slice(end));
      const h = sec ? named_heading(target, text.slice(end + sec[0].length)) : undefined;
      if (h) {
        anchor = h.h.id;
        end += sec![0].length + h.len;
      }
    } else {
      const h = named_heading(target, text.slice(end));
      if (!h) continue;
      anchor = h.h.id;
      end += h.len;
    }
    push_text(text.slice(at, start));
    const same = target === env.current;
    const href = same ? `#${anchor ?? ''}` : `${target.html}${anchor ? `#${anchor}` : ''}`;
    const open = new state.Token('link_open', 'a', 1);
    open.attrSet('href', href);
    open.attrSet('class', 'xref');
    out.push(open);
    push_text(text.slice(start, end));
    out.push(new state.Token('link_close', 'a', -1));
    at = end;
  }
  if (!out.length) return undefined;
  push_text(text.slice(at));
  return out;
}

md.core.ruler.push('dmalab_xrefs', (state: State) => {
  const env = state.env as unknown as Env;
  if (!env?.lessons) return;
  for (const t of state.tokens) {
    if (t.type !== 'inline' || !t.children) continue;
    const kids: Token[] = [];
    let in_link = 0;
    for (const c of t.children) {
      if (c.type === 'link_open') {
        in_link++;
        c.attrSet('href', rewrite_href(String(c.attrGet('href') ?? ''), env));
      } else if (c.type === 'link_close') in_link--;
      const split = c.type === 'text' && !in_link ? xref_tokens(state, c.content, env) : undefined;
      if (split) kids.push(...split);
      else kids.push(c);
    }
    t.children = kids;
  }
});

/** One href from a lesson: a sibling .md becomes its page; a path into the repository points at
 *  the file beside the static pages, or opens it in the editor from the browser view. */
function rewrite_href(href: string, env: Env): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('#') || !href) return href;
  const lessons_dir = join(env.root, 'lessons');
  const [file, anchor] = href.split('#');
  const target = join(lessons_dir, file!);
  const rel = relative(lessons_dir, target);
  const sibling = !rel.startsWith('..') && !rel.includes('/') && rel.endsWith('.md');
  let out: string;
  if (sibling) out = rel.replace(/\.md$/, '.html');
  else if (env.links.kind === 'static') out = relative(env.links.out_dir, target);
  else return `vscode://file${encodeURI(target)}`;
  return anchor !== undefined ? `${out}#${anchor}` : out;
}

/** The lessons of a course, in order, with their headings (for the TOC and the cross-links). */
export function list_lessons(root: string): LessonInfo[] {
  const dir = join(root, 'lessons');
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.md')).sort();
  } catch {
    // no lessons yet
  }
  return files.map((f) => {
    const src = readFileSync(join(dir, f), 'utf8');
    const headings = heading_ids(md.parse(src, {}));
    const title = plain(headings.find((h) => h.level === 1)?.text ?? f);
    return { md: f, html: f.replace(/\.md$/, '.html'), num: /^(\d\d)-/.exec(f)?.[1] ?? '', title, headings };
  });
}

export interface RenderedLesson { info: LessonInfo; body: string; ids: string[] }

/** A lesson's body as HTML. */
export function render_lesson_html(root: string, lessons: LessonInfo[], info: LessonInfo, links: LinkMode): RenderedLesson {
  const src = readFileSync(join(root, 'lessons', info.md), 'utf8');
  const env: Env = { root, lessons, current: info, links };
  const body = md.render(src, env);
  const ids = [...body.matchAll(/<h\d id="([^"]+)"/g)].map((m) => m[1]!);
  return { info, body, ids };
}

/** A short markdown text (a hint) as inline HTML. */
export function render_inline(src: string): string {
  return md.render(src).trim();
}

/** highlight.js's own light stylesheet, read from the pinned package (no CDN: pages work offline). */
export function highlight_css(): string {
  const require = createRequire(import.meta.url);
  return readFileSync(require.resolve('highlight.js/styles/github.css'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').trim();
}

export const LESSON_CSS = `*{box-sizing:border-box}
body{margin:0;font:16px/1.55 system-ui,sans-serif;color:#1f2328;background:#fff}
.layout{display:grid;grid-template-columns:15rem minmax(0,1fr);min-height:100vh}
.layout.app{grid-template-columns:15rem minmax(0,1fr) 30rem}
#toc{border-right:1px solid #d8dee4;padding:1rem .8rem;font-size:14px;position:sticky;top:0;height:100vh;overflow-y:auto;background:#f6f8fa}
#toc ol{list-style:none;padding:0;margin:0}#toc li{margin:.15rem 0}#toc a{color:#1f2328;text-decoration:none}
#toc a:hover{text-decoration:underline}#toc .current>a{font-weight:600;color:#0969da}
#toc ol ol{margin:.2rem 0 .4rem .7rem;font-size:13px}#toc ol ol a{color:#57606a}
#toc .home{display:block;font-weight:700;margin-bottom:.6rem}
main{max-width:54rem;padding:1rem 2rem 4rem;min-width:0}
pre{background:#f6f8fa;padding:.8rem;overflow-x:auto;border-radius:6px;font-size:13.5px;line-height:1.4}
pre.hljs{background:#f6f8fa}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:90%}
:not(pre)>code{background:#eff1f3;padding:.1em .3em;border-radius:4px}
table{border-collapse:collapse;margin:1rem 0;display:block;overflow-x:auto}td,th{border:1px solid #d0d7de;padding:.3rem .6rem;vertical-align:top}
h1,h2,h3{line-height:1.25}h2{border-bottom:1px solid #d8dee4;padding-bottom:.3rem;margin-top:2rem}
a{color:#0969da}a.xref{text-decoration-style:dotted}
.prevnext{display:flex;justify-content:space-between;font-size:14px;margin:.5rem 0 1rem;gap:1rem}
:target{scroll-margin-top:1rem;background:#fff8c5}`;

/** The table of contents: every lesson, the current one with its sections. */
function toc(lessons: LessonInfo[], cur: LessonInfo | undefined, home: string): string {
  const items = lessons.map((l) => {
    const subs = l === cur ? `<ol>${l.headings.filter((h) => h.level === 2).map((h) => `<li><a href="#${h.id}">${md.renderInline(h.text)}</a></li>`).join('')}</ol>` : '';
    return `<li${l === cur ? ' class="current"' : ''}><a href="${l.html}">${escape(l.title)}</a>${subs}</li>`;
  });
  return `<nav id="toc"><a class="home" href="${home}">dmalab course</a><ol>${items.join('')}</ol></nav>`;
}

function prev_next(lessons: LessonInfo[], cur: LessonInfo): string {
  const i = lessons.indexOf(cur);
  const p = lessons[i - 1], n = lessons[i + 1];
  return `<div class="prevnext"><span>${p ? `<a rel="prev" href="${p.html}">← ${escape(p.title)}</a>` : ''}</span><span>${n ? `<a rel="next" href="${n.html}">${escape(n.title)} →</a>` : ''}</span></div>`;
}

export interface PageOptions {
  /** the browser view: its stylesheet and script, the verdict panel, the timeline */
  app?: boolean;
}

/** A whole page: a lesson (or the index when `r` is undefined) with its TOC and previous/next. */
export function page_html(lessons: LessonInfo[], r: RenderedLesson | { title: string; body: string }, o: PageOptions = {}): string {
  const cur = 'info' in r ? r.info : undefined;
  const title = 'info' in r ? r.info.title : r.title;
  const head = o.app
    ? `<link rel="stylesheet" href="assets/style.css">`
    : `<style>${LESSON_CSS}\n${highlight_css()}</style>`;
  const main = cur ? `${prev_next(lessons, cur)}${r.body}${prev_next(lessons, cur)}` : r.body;
  const app = o.app ? `<aside id="verdict" aria-live="polite"><p class="muted">connecting to the grader…</p></aside>` : '';
  const tail = o.app ? `<section id="timeline" hidden></section><div id="tip" hidden></div><script src="assets/app.js"></script>` : '';
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escape(title)} · dmalab</title><link rel="icon" href="data:,">${head}</head>
<body${cur ? ` data-lesson="lessons/${escape(cur.md)}"` : ''}><div class="layout${o.app ? ' app' : ''}">${toc(lessons, cur, 'index.html')}<main id="lesson">${main}</main>${app}</div>${tail}
</body></html>\n`;
}

/** The index page's body: the lessons, each with its title. */
export function index_body(lessons: LessonInfo[]): { title: string; body: string } {
  const list = lessons.map((l) => `<li><a href="${l.html}">${escape(l.title)}</a></li>`).join('\n');
  return { title: 'dmalab lessons', body: `<h1>dmalab lessons</h1>\n<ul>\n${list}\n</ul>` };
}
