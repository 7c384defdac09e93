// Which lesson section a failing hidden test points to: the first failing diagnostic's, unless
// the test's own lesson (the one the learner is reading) explains that code too.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { headings } from '../lesson.ts';
import { section_naming, slug } from '../lib/slug.ts';
import { CODES } from '../../sim/kernel/codes.ts';
import { REPO_ROOT } from '../course.ts';
import { remove_scratch, scratch_course } from '../scratch.ts';
import { lesson_pointer } from '../ui/screen.ts';
import type { Verdict } from '../verdict.ts';
import { lesson_for } from '../tests/lib/harness.ts';
import { cli } from './helpers.ts';

const L03 = 'lessons/03-coherent-dma.md';

describe('lesson_for', () => {
  test('a code from a later lesson that the test\'s own lesson explains points into the own lesson', () => {
    // DMA_UNMAP_IN_FLIGHT belongs to lesson 04 § Unmapping; lesson 03 § Freeing explains it too.
    const got = lesson_for([{ code: 'DMA_UNMAP_IN_FLIGHT', lesson: 'lessons/04-streaming-dma.md#unmapping' }], `${L03}#the-exercise`);
    expect(got).toBe(`${L03}#freeing`);
  });

  test('a code from an earlier lesson that the own lesson explains in its terms points into the own lesson', () => {
    // DEVICE_ADDRESS_CLAMPED belongs to lesson 02; lesson 04 § Checking for errors shows it as what
    // an unchecked DMA_MAPPING_ERROR does.
    const got = lesson_for([{ code: 'DEVICE_ADDRESS_CLAMPED', lesson: 'lessons/02-dma-addresses.md#dma-masks' }], 'lessons/04-streaming-dma.md#the-exercise');
    expect(got).toBe('lessons/04-streaming-dma.md#checking-for-errors');
  });

  test('a code from an earlier lesson the own lesson does not name keeps its own section', () => {
    const got = lesson_for([{ code: 'LEAK_RESOURCES', lesson: 'lessons/01-mmio-and-probe.md#remove' }], `${L03}#the-exercise`);
    expect(got).toBe('lessons/01-mmio-and-probe.md#remove');
  });

  test('a code from a later lesson that the own lesson does not name keeps its section', () => {
    const got = lesson_for([{ code: 'DMA_SYNC_WRONG_DIRECTION', lesson: 'lessons/05-sync-and-ownership.md#which-sync-when' }], `${L03}#the-exercise`);
    expect(got).toBe('lessons/05-sync-and-ownership.md#which-sync-when');
  });

  test('a code whose lesson is not written yet points into the own lesson if it names it, else on', () => {
    expect(lesson_for([{ code: 'IOMMU_FAULT', lesson: 'lessons/08-iommu.md#iommu-faults' }], `${L03}#the-exercise`))
      .toBe(`${L03}#one-allocation-two-addresses`);
    expect(lesson_for([{ code: 'NOT_A_CODE', lesson: 'lessons/08-iommu.md#x' }], `${L03}#the-exercise`)).toBe(`${L03}#the-exercise`);
  });
});

describe('section_naming', () => {
  test('finds the first section whose prose names the code, not one that only pastes output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmalab-slug-'));
    const f = join(dir, '03-x.md');
    writeFileSync(f, [
      '# Title', '', '## Output only', '', '```text', '   1 problem: `FOO_BAR`', '```', '',
      '## Where it is explained', '', 'Freeing too early is `FOO_BAR`.', '', '```ts', '# not a heading', '```', '',
      '## Later', '', 'Again `FOO_BAR`, and `QUX`.', '',
      '## Codes', '', '| code | section |', '|---|---|', '| `QUX` | [Output only](#output-only) |', '| `ZAP` | [Nowhere](#nowhere) |',
      '| `SEC` | § Later |', '| `FAR` | lesson 00 § Timeouts |', '',
    ].join('\n'));
    expect(section_naming(f, 'FOO_BAR')).toBe('where-it-is-explained');
    // A table of codes says where each is explained: its link wins, if the section exists.
    expect(section_naming(f, 'QUX')).toBe('output-only');
    // A row whose link goes nowhere is no explanation; a row naming a section of this lesson
    // is; a row sending the code to another lesson means this one defers (undefined).
    expect(section_naming(f, 'ZAP')).toBeUndefined();
    expect(section_naming(f, 'SEC')).toBe('later');
    expect(section_naming(f, 'FAR')).toBeUndefined();
    expect(section_naming(f, 'BAZ')).toBeUndefined();
  });
});

describe('every code a lesson\'s table explains points into that lesson', () => {
  // The table "What the checker says, and where" of lessons 01–06: a failure of that exercise
  // with one of its codes must land in the section the row names, wherever the code's own
  // lesson is (codes.ts), so a row that the mechanism would not follow fails here.
  const lessons = readdirSync(join(REPO_ROOT, 'lessons')).filter((f) => /^0[1-6]-.*\.md$/.test(f));
  let checked = 0;
  for (const f of lessons) {
    test(f, () => {
      const src = readFileSync(join(REPO_ROOT, 'lessons', f), 'utf8');
      const anchors = new Set(headings(src).map((h) => h.anchor));
      for (const row of src.split('\n').filter((l) => /^\| `[A-Z][A-Z0-9_]+`(, `[A-Z][A-Z0-9_]+`)* \|/.test(l))) {
        // The section of this lesson the row names (a link, or "§ Name" with no other lesson).
        const link = /\]\(#([^)]+)\)/.exec(row)?.[1];
        const sec = /lesson \d\d/.test(row) ? undefined : /§ ([^,|;]+)/.exec(row)?.[1];
        const anchor = link ?? (sec ? slug(sec.replace(/"/g, '').trim()) : undefined);
        if (!anchor || !anchors.has(anchor)) continue;
        for (const [, code] of row.split('|')[1]!.matchAll(/`([A-Z_0-9]+)`/g)) {
          const lesson = (CODES as Record<string, { lesson: string }>)[code!]?.lesson;
          expect(lesson, `${f}: ${code} is not in sim/kernel/codes.ts`).toBeDefined();
          expect(lesson_for([{ code: code!, lesson }], `lessons/${f}#the-exercise`), `${f}: ${code}`).toBe(`lessons/${f}#${anchor}`);
          checked++;
        }
      }
    });
  }
  test('the tables were found', () => expect(checked).toBeGreaterThan(30));
});

describe('exercise 03: coherent memory given back with dma_unmap_single()', () => {
  test('DMA_UNMAP_WRONG_FUNCTION points into lesson 03 § Freeing, not lesson 04', { timeout: 240_000 }, () => {
    const root = scratch_course(REPO_ROOT, 'dmalab-pointer-');
    try {
      let s = readFileSync(join(REPO_ROOT, 'solutions', '03-coherent-dma', 'driver.ts'), 'utf8');
      const edits: [string, string][] = [
        ['import { dma_set_mask_and_coherent, dma_alloc_coherent, dma_free_coherent, DMA_BIT_MASK,', 'import { dma_set_mask_and_coherent, dma_alloc_coherent, dma_free_coherent, DMA_BIT_MASK, dma_unmap_single, DMA_BIDIRECTIONAL,'],
        ['    dma_free_coherent(pdev.dev, EDU_DMA_SIZE, edu.buf, edu.buf_dma);\n  pci_iounmap', '    dma_unmap_single(pdev.dev, edu.buf_dma, EDU_DMA_SIZE, DMA_BIDIRECTIONAL);\n  pci_iounmap'],
      ];
      for (const [find, replace] of edits) {
        expect(s.split(find).length - 1).toBe(1);
        s = s.replace(find, () => replace);
      }
      writeFileSync(join(root, 'exercises', '03-coherent-dma', 'driver.ts'), s);
      const r = cli(['verify', '--root', root, '--json', '--only', '03']);
      const v = r.events.find((e) => e.event === 'verdict') as Verdict;
      expect(v, r.stderr).toBeDefined();
      const first = v.tests.find((t) => !t.passed)!;
      expect(first.diagnostics[0]?.code).toBe('DMA_UNMAP_WRONG_FUNCTION');
      expect(first.report?.lesson).toBe('lessons/03-coherent-dma.md#freeing');
      expect(lesson_pointer({ root: REPO_ROOT, exercises: [] }, v)).toBe('lessons/03-coherent-dma.md § "Freeing"');
    } finally {
      remove_scratch(root);
    }
  });
});
