// Lessons in the terminal: markdown-it's token stream walked into ANSI text. Honours NO_COLOR
// and non-TTY output (plain text), wraps to the terminal's width.
import { existsSync, readFileSync } from 'node:fs';
import MarkdownIt from 'markdown-it';
import { type Course, paths } from './course.ts';
import type { Exercise } from './lib/manifest-types.ts';
import { COLOR, PLAIN, type Style, use_color } from './ui/format.ts';
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

const ANSI = /\x1b\[[0-9;]*m/g;
const vis = (s: string) => s.replace(ANSI, '').length;

/** Greedy word wrap that ignores ANSI codes when measuring. */
export function wrap_text(text: string, width: number, first: string, rest: string): string {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = first;
    let pre = first;
    const words = para.split(/ +/);
    for (const w of words) {
      if (vis(line) > vis(pre) && vis(line) + 1 + vis(w) > width) {
        out.push(line);
        line = rest + w;
        pre = rest;
      } else {
        line += (vis(line) > vis(pre) ? ' ' : '') + w;
      }
    }
    out.push(line);
    first = rest;
  }
  return out.join('\n');
}

export function render_markdown(src: string, o: RenderOptions = {}): string {
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
        for (const l of t.content.replace(/\n$/, '').split('\n')) out.push(prefix() + st.dim('│ ') + (color ? st.cyan(l) : l));
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
  return out.join('\n').replace(/^\n+/, '') + '\n';
}

/** Render an exercise's lesson; with an anchor (`lesson.md#who-owns`) start at that section. */
export function render_lesson_file(course: Course, ex: Exercise, o: RenderOptions = {}): string {
  const f = paths.lesson(course, ex);
  if (!existsSync(f)) return `(no lesson yet: ${ex.lesson} does not exist)\n`;
  return render_markdown(readFileSync(f, 'utf8'), o);
}
