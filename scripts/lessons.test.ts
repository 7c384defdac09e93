// The lessons are part of the product: their code must compile against the sim, the kernel
// files they cite must be on the checked list, and the diagnostics must point at real sections.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ROOT, lesson_files, ts_blocks, typecheck_blocks, cited_paths, listed_paths, anchors } from './lesson-check.ts';
import { CODES } from '../sim/kernel/codes.ts';
import { build_lessons_html } from '../grader/lessons-html.ts';
import os from 'node:os';

const files = lesson_files();

describe('lessons', () => {
  test('every ```ts block type-checks against the sim\'s API', { timeout: 60000 }, () => {
    const blocks = files.flatMap(ts_blocks);
    expect(typecheck_blocks(blocks)).toEqual([]);
  });

  test('every kernel path a lesson cites is in lessons/kernel-paths.md', () => {
    const listed = listed_paths();
    const missing: string[] = [];
    for (const f of files) {
      for (const p of cited_paths(fs.readFileSync(f, 'utf8'))) if (!listed.has(p)) missing.push(`${path.relative(ROOT, f)}: ${p}`);
    }
    expect(missing).toEqual([]);
  });

  test('every lesson section a diagnostic points at exists (for the lessons written so far)', () => {
    const broken: string[] = [];
    for (const [code, info] of Object.entries(CODES)) {
      const [file, anchor] = info.lesson.split('#');
      const abs = path.join(ROOT, file!);
      if (!fs.existsSync(abs)) continue;
      if (!anchors(abs).has(anchor!)) broken.push(`${code} -> ${info.lesson}`);
    }
    expect(broken).toEqual([]);
  });

  test('every lesson ends with its exercise', () => {
    const without = files.filter((f) => !/^## (The )?[Ee]xercise/m.test(fs.readFileSync(f, 'utf8')) && !path.basename(f).startsWith('00-'));
    expect(without.map((f) => path.relative(ROOT, f))).toEqual([]);
  });

  test('the web pages (npm run lessons): every lesson, with the anchors the terminal uses, and in-page links that land', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalab-html-'));
    try {
      const built = build_lessons_html(ROOT, out);
      expect(built.map((b) => b.file.replace(/\.html$/, '.md'))).toEqual(expect.arrayContaining([...files.map((f) => path.basename(f)), 'kernel-paths.md']));
      const broken: string[] = [];
      for (const b of built) {
        const md = path.join(ROOT, 'lessons', b.file.replace(/\.html$/, '.md'));
        for (const a of anchors(md)) if (!b.ids.includes(a)) broken.push(`${b.file}: no id for #${a}`);
        for (const m of b.html.matchAll(/href="#([^"]+)"/g)) if (!b.ids.includes(m[1]!)) broken.push(`${b.file}: link to missing #${m[1]}`);
      }
      expect(broken).toEqual([]);
      expect(fs.readFileSync(path.join(out, 'index.html'), 'utf8')).toContain('href="01-mmio-and-probe.html"');
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
