// Which lesson section a failing hidden test points to: the first failing diagnostic's, unless
// the test's own lesson (the one the learner is reading) explains that code too.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { section_naming } from '../lib/slug.ts';
import { lesson_for } from '../tests/lib/harness.ts';

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
