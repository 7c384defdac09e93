// Lessons in the terminal: markdown-it's token stream walked into ANSI text. Honours NO_COLOR
// and non-TTY output (plain text), wraps to the terminal's width.
import { existsSync, readFileSync } from 'node:fs';
import MarkdownIt from 'markdown-it';
import { join } from 'node:path';
import type { Course } from './course.ts';
import type { Exercise } from './lib/manifest-types.ts';
import { vislen, wrap } from './ui/fit.ts';
import { COLOR, PLAIN, type Style, use_color } from './ui/format.ts';
import { code_language, highlight_lines } from './ui/highlight.ts';
import { slug } from './lib/slug.ts';

export { slug };

const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
type Token = ReturnType<typeof md.parse>[number];

export interface RenderOptions {
  /** undefined: decide from the terminal and NO_COLOR */
  color?: boolean;
  width?: number;
}

/** The headings of a markdown text, with their anchors (for "lesson § …" pointers). */
export function headings(src: string): { level: number; text: string; anchor: string }[] {
  const toks = md.parse(src, {});
  const out: { level: number; text: string; anchor: string }[] = [];
  toks.forEach((t, i) => {
    if (t.type === 'heading_open') {
      const text = toks[i + 1]?.content ?? '';
      out.push({ level: Number(t.tag.slice(1)), text, anchor: slug(text) });
    }
  });
  return out;
}

function inline(children: Token[] | null, st: Style, color: boolean): string {
  let s = '';
  const links: string[] = [];
  for (const c of children ?? []) {
    switch (c.type) {
      case 'text':
        s += c.content;
        break;
      case 'code_inline':
        s += color ? st.cyan(c.content) : '`' + c.content + '`';
        break;
      case 'strong_open':
        s += color ? '\x1b[1m' : '';
        break;
      case 'strong_close':
        s += color ? '\x1b[22m' : '';
        break;
      case 'em_open':
        s += color ? '\x1b[3m' : '';
        break;
      case 'em_close':
        s += color ? '\x1b[23m' : '';
        break;
      case 'link_open':
        links.push(String(c.attrGet("href") ?? ""));
        s += color ? '\x1b[4m' : '';
        break;
      case 'link_close': {
        const href = links.pop() ?? '';
        s += (color ? '\x1b[24m' : '') + (href && !href.startsWith('#') ? st.dim(` <${href}>`) : '');
        break;
      }
      case 'softbreak':
        s += ' ';
        break;
      case 'hardbreak':
        s += '\n';
        break;
      case 'image':
        s += `[image: ${c.content}]`;
        break;
      default:
        s += c.content ?? '';
    }
  }
  return s;
}

const vis = vislen;

/** Greedy word wrap that ignores ANSI codes when measuring (grader/ui/fit.ts). */
export function wrap_text(text: string, width: number, first: string, rest: string): string {
  return wrap(text, width, first, rest).join('\n');
}

export function render_markdown(src: string, o: RenderOptions = {}): string {
  return render_markdown_lines(src, o).lines.join('\n') + '\n';
}

export interface RenderedLesson {
  lines: string[];
  /** each heading: its anchor, its level, the line it starts at (in document order) */
  sections: { anchor: string; level: number; line: number }[];
}

/** A rendered markdown text as lines, and where each heading starts. */
export function render_markdown_lines(src: string, o: RenderOptions = {}): RenderedLesson {
  const sections: RenderedLesson['sections'] = [];
  const color = o.color ?? use_color();
  const st = color ? COLOR : PLAIN;
  const width = Math.max(40, Math.min(o.width ?? process.stdout.columns ?? 80, 100));
  const toks = md.parse(src, {});
  const out: string[] = [];
  const lists: { ordered: boolean; n: number }[] = [];
  let quote = 0;
  let pending_bullet: string | null = null;
  const prefix = () => '  '.repeat(Math.max(0, lists.length - 1)) + (quote ? st.dim('│ ').repeat(quote) : '');
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    switch (t.type) {
      case 'heading_open': {
        const text = inline(toks[i + 1]!.children, st, color);
        const level = Number(t.tag.slice(1));
        out.push('');
        sections.push({ anchor: slug(toks[i + 1]!.content), level, line: out.join('\n').split('\n').length });
        if (level === 1) out.push(st.bold(text.toUpperCase()), st.dim('═'.repeat(Math.min(width, vis(text)))));
        else if (level === 2) out.push(st.bold(text), st.dim('─'.repeat(Math.min(width, vis(text)))));
        else out.push(st.bold(text));
        i += 2;
        break;
      }
      case 'paragraph_open': {
        const text = inline(toks[i + 1]!.children, st, color);
        const p = prefix();
        if (pending_bullet !== null) {
          out.push(wrap_text(text, width, p + pending_bullet, p + ' '.repeat(vis(pending_bullet))));
          pending_bullet = null;
        } else {
          if (!lists.length && !quote) out.push('');
          out.push(wrap_text(text, width, p, p));
        }
        i += 2;
        break;
      }
      case 'bullet_list_open':
        if (!lists.length && !quote) out.push('');
        lists.push({ ordered: false, n: 0 });
        break;
      case 'ordered_list_open':
        if (!lists.length && !quote) out.push('');
        lists.push({ ordered: true, n: Number(t.attrGet('start') ?? 1) - 1 });
        break;
      case 'bullet_list_close':
      case 'ordered_list_close':
        lists.pop();
        break;
      case 'list_item_open': {
        const l = lists[lists.length - 1]!;
        l.n++;
        pending_bullet = l.ordered ? `${l.n}. ` : '• ';
        break;
      }
      case 'blockquote_open':
        quote++;
        break;
      case 'blockquote_close':
        quote--;
        break;
      case 'fence':
      case 'code_block': {
        const lang = t.info.trim().split(/\s+/)[0] ?? '';
        if (!lists.length && !quote) out.push('');
        out.push(prefix() + st.dim('┌' + (lang ? ` ${lang} ` : '')));
        const code = t.content.replace(/\n$/, '');
        const hl = color ? code_language(t.info) : undefined;
        const lines = hl ? highlight_lines(code, hl) : code.split('\n');
        for (const l of lines) out.push(prefix() + st.dim('│ ') + l);
        out.push(prefix() + st.dim('└'));
        break;
      }
      case 'hr':
        out.push('', st.dim('─'.repeat(Math.min(width, 40))));
        break;
      case 'table_open': {
        const rows: string[][] = [];
        let row: string[] = [];
        for (i++; i < toks.length && toks[i]!.type !== 'table_close'; i++) {
          const x = toks[i]!;
          if (x.type === 'tr_open') row = [];
          else if (x.type === 'inline') row.push(inline(x.children, st, color));
          else if (x.type === 'tr_close') rows.push(row);
        }
        const w = rows[0]?.map((_, c) => Math.max(...rows.map((r) => vis(r[c] ?? '')))) ?? [];
        out.push('');
        rows.forEach((r, ri) => {
          out.push(prefix() + r.map((c, ci) => c + ' '.repeat(Math.max(0, w[ci]! - vis(c)))).join(st.dim(' │ ')));
          if (ri === 0) out.push(prefix() + w.map((n) => '─'.repeat(n)).join(st.dim('─┼─')));
        });
        break;
      }
      case 'html_block':
        out.push(prefix() + t.content.trimEnd());
        break;
      default:
        break;
    }
  }
  const all = out.join('\n').split('\n');
  let lead = 0;
  while (lead < all.length && all[lead] === '') lead++;
  for (const x of sections) x.line = Math.max(0, x.line - lead);
  return { lines: all.slice(lead), sections };
}

/** Render an exercise's lesson. */
export function render_lesson_file(course: Course, ex: Exercise, o: RenderOptions = {}): string {
  return render_lesson(course, ex.lesson, o).lines.join('\n') + '\n';
}

/** A lesson file ('lessons/04-streaming-dma.md', an anchor after '#' is ignored), rendered. */
export function render_lesson(course: Course, lesson: string, o: RenderOptions = {}): RenderedLesson {
  const file = lesson.split('#')[0]!;
  const f = join(course.root, file);
  if (!existsSync(f)) return { lines: [`(no lesson yet: ${file} does not exist)`], sections: [] };
  return render_markdown_lines(readFileSync(f, 'utf8'), o);
}

/** Where `lesson#anchor` starts in a rendered lesson and where its section ends (the next
 *  heading of the same or a higher level); the whole lesson without an anchor it has. */
export function section_range(r: RenderedLesson, anchor: string | undefined): { start: number; end: number } {
  const i = r.sections.findIndex((x) => x.anchor === anchor);
  if (i < 0) return { start: 0, end: r.lines.length };
  const s = r.sections[i]!;
  const next = r.sections.slice(i + 1).find((x) => x.level <= s.level);
  return { start: s.line, end: next ? next.line : r.lines.length };
}
