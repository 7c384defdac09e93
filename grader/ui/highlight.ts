// Code blocks coloured for the terminal. highlight.js (pinned in package.json; see
// grader/README.md for why) turns TypeScript, C and shell into classed <span>s; here the spans
// become ANSI colours, one line at a time so each line can carry its own prefix. The browser
// view (grader/web/render.ts) uses the same spans as they are, with highlight.js's stylesheet.
import { createRequire } from 'node:module';
import type { HLJSApi, LanguageFn } from 'highlight.js';

// Loaded on the first coloured code block, not with the watcher: the verdict never needs it.
let hljs: HLJSApi | undefined;
function highlighter(): HLJSApi {
  if (hljs) return hljs;
  const require = createRequire(import.meta.url);
  const h = require('highlight.js/lib/core') as HLJSApi;
  for (const lang of ['typescript', 'c', 'bash', 'json']) h.registerLanguage(lang, require(`highlight.js/lib/languages/${lang}`) as LanguageFn);
  return (hljs = h);
}

const ALIASES: Record<string, string> = { ts: 'typescript', typescript: 'typescript', js: 'typescript', javascript: 'typescript',
  c: 'c', h: 'c', sh: 'bash', bash: 'bash', shell: 'bash', console: 'bash', json: 'json' };

/** SGR codes per highlight.js class (16 colours, readable on dark and light backgrounds). */
const SGR: Record<string, string> = {
  keyword: '35', literal: '35', type: '36', built_in: '36', string: '32', regexp: '32', number: '33',
  comment: '2', title: '34', meta: '33', 'variable.constant_': '33', symbol: '33', subst: '',
};

/** The language highlight.js knows a fence's info string by, or undefined (no colour). */
export function code_language(info: string): string | undefined {
  return ALIASES[info.trim().split(/\s+/)[0]?.toLowerCase() ?? ''];
}

const ENTITY: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&#x27;': "'", '&#39;': "'" };

/** `code` as highlight.js's classed HTML (escaped; for the web pages). */
export function highlight_html(code: string, lang: string): string {
  return highlighter().highlight(code, { language: lang, ignoreIllegals: true }).value;
}

/** `code` as lines of ANSI-coloured text (no trailing reset left open at a line's end). */
export function highlight_lines(code: string, lang: string): string[] {
  const html = highlighter().highlight(code, { language: lang, ignoreIllegals: true }).value;
  const lines: string[] = [''];
  const stack: string[] = [];
  const style = () => stack.filter(Boolean).at(-1) ?? '';
  const text = (s: string) => {
    s.split('\n').forEach((piece, i) => {
      if (i > 0) lines.push('');
      if (!piece) return;
      const sgr = style();
      lines[lines.length - 1] += sgr ? `\x1b[${sgr}m${piece}\x1b[0m` : piece;
    });
  };
  for (const m of html.matchAll(/<span class="([^"]*)">|<\/span>|([^<]+)/g)) {
    if (m[1] !== undefined) {
      const cls = m[1].split(' ');
      const name = cls[0]!.replace(/^hljs-/, '');
      stack.push(SGR[`${name}.${cls[1] ?? ''}`] ?? SGR[name] ?? '');
    } else if (m[2] !== undefined) {
      text(m[2].replace(/&(lt|gt|amp|quot|#x27|#39);/g, (e) => ENTITY[e]!));
    } else {
      stack.pop();
    }
  }
  return lines;
}
