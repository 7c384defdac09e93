// The lessons are part of the product: their code must compile against the sim, the kernel
// files they cite must be on the checked list, and the diagnostics must point at real sections.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ROOT, lesson_files, ts_blocks, typecheck_blocks, cited_paths, listed_paths, anchors } from './lesson-check.ts';
import { CODES } from '../sim/kernel/codes.ts';

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
});
