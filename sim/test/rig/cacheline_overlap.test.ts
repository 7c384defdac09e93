// Rig case cacheline-overlap (C-M8, "exceeded 7 overlapping mappings"): ported and compared.
import { describe, expect, test } from 'vitest';
import { diagnostics } from '../../testing/index.ts';
import { measured, normalise, run_rig, kernel_codes } from './rig.ts';
import { edu_overlap_driver } from '../drivers/rig/cacheline_overlap.ts';

/** The WARN blocks of `lines` (cut-here through an optional "Mapped at"), with their index. */
function blocks(lines: string[]): { at: number; text: string[] }[] {
  const out: { at: number; text: string[] }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('------------[ cut here')) continue;
    let j = i + 1;
    while (j < lines.length && !lines[j]!.startsWith('WARNING: ')) j++;
    if (lines[j + 1] === 'DMA-API: Mapped at:') j++;
    out.push({ at: i, text: lines.slice(i, j + 1) });
  }
  return out;
}

describe('rig cacheline-overlap', () => {
  test('x86: EEXIST on x86-64 except SKIP_CPU_SYNC and TO_DEVICE; the 9th map of a line overflows the 3-bit counter', () => {
    const k = measured('cacheline-overlap/cacheline-overlap.txt');
    const r = run_rig(edu_overlap_driver, 'x86');
    const n = { dma: 'mask' } as const;
    const kl = normalise(k.lines, n), sl = normalise(r.lines, n);
    // Step D maps the same cache line nine times from one line of the driver. The kernel prints
    // each EEXIST (all_errors=1); the sim prints an error repeated at the same call sites once
    // and counts the repeats. So: the kernel's lines with D's 2nd..8th EEXIST folded away.
    const d = kl.findIndex((l) => l.includes('CASE D'));
    const eexist = blocks(kl).filter((b) => b.at > d && b.text[1]!.includes('EEXIST'));
    expect(eexist).toHaveLength(8);
    const drop = new Set(eexist.slice(1).flatMap((b) => b.text.map((_, i) => b.at + i)));
    expect(sl).toEqual(kl.filter((_, i) => !drop.has(i)));
    // ... and the folded record knows how often it happened; error_count is the kernel's.
    const loop = diagnostics().filter((x) => x.code === 'DMA_CACHELINE_OVERLAP');
    expect(loop.map((x) => x.count)).toEqual([1, 8]);
    expect(r.m.diag.dma_error_count).toBe(k.error_count);
    // The "exceeded" WARN_ONCE is not a dma-debug error.
    expect(kernel_codes()).toEqual(['DMA_CACHELINE_OVERLAP', 'DMA_CACHELINE_OVERLAP_EXCEEDED']);
    // %pa of the cache-line number: phys >> 6 of the mapping at p + 128.
    const phys = parseInt(/phys 0x([0-9a-f]{16})/.exec(r.all.find((l) => l.includes('CASE A'))!)![1]!, 16);
    expect(r.all).toContain(`DMA-API: exceeded 7 overlapping mappings of cacheline 0x${((phys + 128) / 64).toString(16).padStart(16, '0')}`);
  });
});
