// Which hint `h` shows next: first those that answer the current first failure's code, then the
// exercise's sequence (its plain hints, from a nudge to nearly the answer), each once; after the
// last, where the solution is.
import type { Exercise, Hint } from './lib/manifest-types.ts';
import type { Verdict } from './verdict.ts';

export function hint_text(h: Hint): string {
  return typeof h === 'string' ? h : h.text;
}

export function hint_codes(h: Hint): string[] {
  return typeof h === 'string' ? [] : h.codes;
}

/** The code of the first failing test's first diagnostic: what the learner is looking at. */
export function first_code(v: Verdict | undefined): string | undefined {
  return v?.tests.find((t) => !t.passed && t.state !== 'skipped')?.diagnostics[0]?.code;
}

/** The hints `h` shows for a verdict, in order. */
export function hint_order(ex: Exercise, code: string | undefined): string[] {
  const answers = code ? ex.hints.filter((h) => hint_codes(h).includes(code)) : [];
  const sequence = ex.hints.filter((h) => hint_codes(h).length === 0);
  return [...answers, ...sequence].map(hint_text);
}

/** What the press after the last hint says. */
export function no_more_hints(ex: Exercise): string {
  return `that was the last one. The reference solution is solutions/${ex.id}/${ex.files[0]}: read it once you have tried, or after you pass.`;
}
