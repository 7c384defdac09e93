// Text fitted to a terminal: measured without its colour codes, wrapped with a hanging indent or
// cut to one row, so a screen of N lines takes exactly N rows.

const ANSI = /\x1b\[[0-9;]*m/g;

export function vislen(s: string): number {
  return s.replace(ANSI, '').length;
}

export function strip_ansi(s: string): string {
  return s.replace(ANSI, '');
}

/** The first `n` visible characters of `s` and the rest (colour codes stay with the text). */
function split_at(s: string, n: number): [string, string] {
  let seen = 0;
  let i = 0;
  while (i < s.length && seen < n) {
    if (s[i] === '\x1b') {
      const m = /^\x1b\[[0-9;]*m/.exec(s.slice(i));
      if (m) {
        i += m[0].length;
        continue;
      }
    }
    i++;
    seen++;
  }
  // Codes right after the cut (a colour's end) belong to the head.
  while (s[i] === '\x1b') {
    const m = /^\x1b\[[0-9;]*m/.exec(s.slice(i));
    if (!m) break;
    i += m[0].length;
  }
  return [s.slice(0, i), s.slice(i)];
}

/** One row: `s` cut to `width` columns, ending in '…' when something was cut. */
export function cut(s: string, width: number): string {
  if (vislen(s) <= width) return s;
  const [head] = split_at(s, Math.max(0, width - 1));
  return head + (s.includes('\x1b[') ? '\x1b[0m' : '') + '…';
}

/**
 * Greedy word wrap to `width` columns: the first row starts with `first`, the others with
 * `rest` (a hanging indent). A word longer than a row is broken. Newlines start new paragraphs
 * (with `rest`).
 */
export function wrap(text: string, width: number, first = '', rest = first): string[] {
  const out: string[] = [];
  let pre = first;
  for (const para of text.split('\n')) {
    let line = pre;
    let fresh = true;
    // Split on single spaces so runs of them ("[    0.000000]") survive.
    for (let w of para.split(' ')) {
      if (!fresh && vislen(line) + 1 + vislen(w) > width) {
        out.push(line);
        line = rest;
        fresh = true;
      }
      // A word that does not fit a row of its own: break it.
      while (vislen(line) + (fresh ? 0 : 1) + vislen(w) > width && width - vislen(line) - (fresh ? 0 : 1) > 8) {
        const [head, tail] = split_at(w, width - vislen(line) - (fresh ? 0 : 1));
        out.push(line + (fresh ? '' : ' ') + head);
        line = rest;
        fresh = true;
        w = tail;
      }
      line += (fresh ? '' : ' ') + w;
      fresh = false;
    }
    out.push(line);
    pre = rest;
  }
  return out;
}

/** Every line of a block wrapped, each under its own indentation plus `hang` columns. */
export function wrap_block(text: string, width: number, hang = 2): string[] {
  const out: string[] = [];
  for (const line of text.replace(/\n$/, '').split('\n')) {
    const lead = /^ */.exec(strip_ansi(line))![0];
    out.push(...wrap(line.slice(lead.length), width, lead, lead + ' '.repeat(hang)));
  }
  return out;
}

/** The last row of a block that was cut short says so. */
export function mark_cut(line: string, width: number): string {
  return cut(line, width - 2) + ' …';
}
