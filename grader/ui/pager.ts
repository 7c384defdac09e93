// A small `less` for the watcher's `d` (every failure in full) and `l` (the lesson): space and b
// page, j/k and the arrows scroll, g/G go to the ends, / searches (n and N for the next and the
// previous match), q goes back to the verdict. It only draws and moves; the watcher feeds it keys.
import { strip_ansi, cut } from './fit.ts';
import type { Style } from './format.ts';

export type PagerResult = 'draw' | 'quit' | 'none';

export class Pager {
  top = 0;
  private search: string | null = null;
  private term = '';
  private message = '';

  constructor(
    readonly lines: string[],
    /** what the status line calls it: 'lessons/04-streaming-dma.md' */
    readonly title: string,
    public rows: number,
    public cols: number,
    start = 0,
  ) {
    this.top = this.clamp(start);
  }

  /** Rows for text: the last row is the status line. */
  private get page(): number {
    return Math.max(1, this.rows - 1);
  }

  private clamp(n: number): number {
    return Math.max(0, Math.min(n, this.lines.length - this.page));
  }

  key(k: string): PagerResult {
    if (this.search !== null) return this.typing(k);
    this.message = '';
    switch (k) {
      case 'q':
      case '\x1b':
        return 'quit';
      case ' ':
      case 'f':
      case '\x1b[6~':
        return this.go(this.top + this.page);
      case 'b':
      case '\x1b[5~':
        return this.go(this.top - this.page);
      case 'j':
      case '\r':
      case '\n':
      case '\x1b[B':
        return this.go(this.top + 1);
      case 'k':
      case '\x1b[A':
        return this.go(this.top - 1);
      case 'g':
      case '\x1b[H':
        return this.go(0);
      case 'G':
      case '\x1b[F':
        return this.go(this.lines.length);
      case '/':
        this.search = '';
        return 'draw';
      case 'n':
        return this.find(this.top + 1, 1);
      case 'N':
        return this.find(this.top - 1, -1);
      default:
        return 'none';
    }
  }

  private typing(k: string): PagerResult {
    if (k === '\r' || k === '\n') {
      this.term = this.search || this.term;
      this.search = null;
      return this.term ? this.find(this.top + 1, 1) : 'draw';
    }
    if (k === '\x1b' || k === '\u0003') this.search = null;
    else if (k === '\x7f' || k === '\b') this.search = this.search!.slice(0, -1);
    else if (k.length === 1 && k >= ' ') this.search += k;
    return 'draw';
  }

  private go(n: number): PagerResult {
    this.top = this.clamp(n);
    return 'draw';
  }

  /** The next line (from `from`, in direction `dir`) holding the search term, case-insensitive. */
  private find(from: number, dir: 1 | -1): PagerResult {
    if (!this.term) {
      this.message = 'no search yet: / then a word';
      return 'draw';
    }
    const t = this.term.toLowerCase();
    for (let i = from; i >= 0 && i < this.lines.length; i += dir) {
      if (strip_ansi(this.lines[i]!).toLowerCase().includes(t)) {
        this.top = this.clamp(i);
        this.mark = i;
        return 'draw';
      }
    }
    this.message = `"${this.term}" not found ${dir > 0 ? 'below' : 'above'}`;
    return 'draw';
  }

  /** The line the last search landed on (drawn highlighted). */
  private mark = -1;

  render(st: Style): string {
    const shown = this.lines.slice(this.top, this.top + this.page).map((l, i) => {
      const line = cut(l, this.cols);
      return this.top + i === this.mark && this.term ? highlight(line, this.term) : line;
    });
    while (shown.length < this.page) shown.push(st.dim('~'));
    const end = Math.min(this.lines.length, this.top + this.page);
    const status = this.search !== null
      ? `/${this.search}`
      : st.dim(cut(` ${this.top + 1}–${end} of ${this.lines.length}${end >= this.lines.length ? ' (end)' : ''}` +
        `${this.message ? ' · ' + this.message : ''} · space/b page · / search · q back · ${this.title}`, this.cols));
    return shown.join('\n') + '\n' + status;
  }
}

/** The line a search landed on, its colours dropped and the term shown inverse. */
function highlight(colored: string, term: string): string {
  const line = strip_ansi(colored);
  const i = line.toLowerCase().indexOf(term.toLowerCase());
  return i < 0 ? line : line.slice(0, i) + '\x1b[7m' + line.slice(i, i + term.length) + '\x1b[27m' + line.slice(i + term.length);
}

/** Keys from a raw-mode terminal chunk: an escape sequence (an arrow, Page Down) is one key. */
export function split_keys(chunk: string): string[] {
  const out: string[] = [];
  const re = /\x1b\[[0-9;]*[~A-Za-z]|\x1b|[\s\S]/gu;
  for (const m of chunk.matchAll(re)) out.push(m[0]);
  return out;
}
