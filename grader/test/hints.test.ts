// Hints follow the failure: every code a bug-zoo mutant expects has a hint that answers it, `h`
// shows that one first, then the exercise's sequence, then where the solution is.
import { describe, expect, test } from 'vitest';
import { CODES } from '../../sim/kernel/codes.ts';
import { first_code, hint_codes, hint_order, hint_text, no_more_hints } from '../hints.ts';
import { exercises } from '../manifest.ts';
import type { Verdict } from '../verdict.ts';

describe('the manifest\'s hints', () => {
  test('every code a mutant of 01–06 expects has at least one hint naming it', () => {
    const missing: string[] = [];
    for (const ex of exercises.filter((e) => /^0[1-6]-/.test(e.id))) {
      const answered = new Set(ex.hints.flatMap(hint_codes));
      for (const m of ex.mutants) for (const c of m.expect) if (!answered.has(c)) missing.push(`${ex.id}: ${c} (mutant ${m.id})`);
    }
    expect([...new Set(missing)]).toEqual([]);
  });

  test('a hint names only codes the machine can give, and says something', () => {
    for (const ex of exercises) {
      for (const h of ex.hints) {
        expect(hint_text(h).length, ex.id).toBeGreaterThan(20);
        for (const c of hint_codes(h)) expect(Object.keys(CODES), `${ex.id}: ${c}`).toContain(c);
      }
    }
  });
});

describe('the order `h` shows them in', () => {
  const ex = exercises.find((e) => e.id === '04-streaming-dma')!;
  const sequence = ex.hints.filter((h) => typeof h === 'string');
  const failing = (code: string): Verdict => ({
    event: 'verdict', exercise: ex.id, variant: 'exercise', passed: false, ms: 1, file_ms: 1, seed: 0x5eed, errors: [],
    tests: [
      { name: 'passes', passed: true, state: 'passed', ms: 1, diagnostics: [] },
      { name: 'fails', passed: false, state: 'failed', ms: 1, diagnostics: [{ code, message: '', file: null, line: null, col: null, origin: 'dma-debug', lines: [], sites: [] }] },
    ],
  });

  test('the hint for the first failure\'s code first, then the sequence, each once', () => {
    const v = failing('DMA_UNMAP_WRONG_SIZE');
    expect(first_code(v)).toBe('DMA_UNMAP_WRONG_SIZE');
    const order = hint_order(ex, first_code(v));
    expect(order[0]).toMatch(/^`dma_unmap_single\(\)` takes the handle, the length and the direction of the map/);
    expect(order.slice(1)).toEqual(sequence);
  });

  test('a passing verdict, or a code no hint answers: the sequence alone', () => {
    expect(hint_order(ex, undefined)).toEqual(sequence);
    expect(hint_order(ex, 'SOFT_LOCKUP')).toEqual(sequence);
  });

  test('after the last: where the solution is', () => {
    expect(no_more_hints(ex)).toContain('solutions/04-streaming-dma/driver.ts');
  });
});
