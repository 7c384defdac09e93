// The pager behind `d` and `l`, and the lesson it opens: at the section the verdict points to,
// code blocks coloured (none with NO_COLOR or on a pipe).
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../course.ts';
import { render_lesson, render_markdown, section_range } from '../lesson.ts';
import { strip_ansi } from '../ui/fit.ts';
import { PLAIN } from '../ui/format.ts';
import { highlight_lines } from '../ui/highlight.ts';
import { Pager, split_keys } from '../ui/pager.ts';

const course = { root: REPO_ROOT, exercises: [] };
const lines = Array.from({ length: 100 }, (_, i) => `line ${i}${i === 70 ? ' needle' : ''}`);
const top = (p: Pager) => strip_ansi(p.render(PLAIN).split('\n')[0]!);

describe('the pager', () => {
  test('space and b page, j/k and arrows scroll, g/G go to the ends, q goes back', () => {
    const p = new Pager(lines, 'x.md', 11, 80);
    expect(top(p)).toBe('line 0');
    expect(p.render(PLAIN).split('\n')).toHaveLength(11);
    p.key(' ');
    expect(top(p)).toBe('line 10');
    p.key('\x1b[B');
    expect(top(p)).toBe('line 11');
    p.key('b');
    expect(top(p)).toBe('line 1');
    p.key('G');
    expect(top(p)).toBe('line 90');
    expect(p.render(PLAIN)).toMatch(/ 91–100 of 100 \(end\) · space\/b page · \/ search · q back · x\.md$/);
    p.key('g');
    expect(top(p)).toBe('line 0');
    expect(p.key('q')).toBe('quit');
  });

  test('/ searches (typed, then Enter), n finds the next match, N the previous', () => {
    const p = new Pager([...lines, 'the second needle', ...lines], 'x.md', 11, 80);
    for (const k of split_keys('/NEEDLE\r')) p.key(k);
    expect(top(p)).toBe('line 70 needle');
    expect(p.render(PLAIN)).toContain('\x1b[7mneedle\x1b[27m');
    p.key('n');
    expect(top(p)).toBe('the second needle');
    p.key('N');
    expect(top(p)).toBe('line 70 needle');
    for (const k of split_keys('/nowhere\r')) p.key(k);
    expect(p.render(PLAIN)).toContain('"nowhere" not found below');
  });

  test('a terminal chunk splits into keys, an escape sequence being one', () => {
    expect(split_keys('a\x1b[6~b\x1b[A')).toEqual(['a', '\x1b[6~', 'b', '\x1b[A']);
  });
});

describe('the lesson `l` opens', () => {
  test('at the section the verdict points to; the section ends at the next heading of its level', () => {
    const r = render_lesson(course, 'lessons/04-streaming-dma.md#unmapping', { color: false, width: 80 });
    const { start, end } = section_range(r, 'unmapping');
    expect(r.lines[start]).toBe('Unmapping');
    expect(r.lines[start + 1]).toMatch(/^─+$/);
    const i = r.sections.findIndex((s) => s.anchor === 'unmapping');
    const next = r.sections.slice(i + 1).find((s) => s.level <= r.sections[i]!.level)!;
    expect(r.lines[end]).toBe(r.lines[next.line]);
    expect(end).toBe(next.line);
    expect(end - start).toBeLessThan(r.lines.length / 2);
    // An anchor the lesson does not have: the whole lesson.
    expect(section_range(r, 'nowhere')).toEqual({ start: 0, end: r.lines.length });
  });

  test('code blocks coloured by language on a terminal; plain text with NO_COLOR or on a pipe', () => {
    const src = '# T\n\n```ts\nconst x: number = readl(bar + 0x08); // read\n```\n\n```c\nstatic int edu_probe(struct pci_dev *pdev) { return -ENOMEM; }\n```\n';
    const color = render_markdown(src, { color: true, width: 80 });
    expect(color).toContain('\x1b[35mconst\x1b[0m'); // a keyword
    expect(color).toContain('\x1b[33m0x08\x1b[0m'); // a number
    expect(color).toContain('\x1b[2m// read\x1b[0m'); // a comment
    expect(color).toContain('\x1b[36mint\x1b[0m'); // a C type
    const plain = render_markdown(src, { color: false, width: 80 });
    expect(plain).not.toContain('\x1b[');
    expect(strip_ansi(color)).toBe(plain);
  });

  test('a comment over several lines keeps its colour on each', () => {
    const out = highlight_lines('/* one\n   two */\nint x;', 'c');
    expect(out).toEqual(['\x1b[2m/* one\x1b[0m', '\x1b[2m   two */\x1b[0m', '\x1b[36mint\x1b[0m x;']);
  });
});
