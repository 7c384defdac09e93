// Types of the exercise manifest (docs/contracts.md §1).

export interface MutantEdit {
  find: string;
  replace: string;
}

export interface Mutant {
  /** 'unmap-wrong-size' */
  id: string;
  /** 'unmaps with len / 2' */
  description: string;
  /** default: the exercise's files[0] */
  file?: string;
  /** applied to the solution in order; each `find` must occur exactly once */
  edits: MutantEdit[];
  /** diagnostic codes the failing tests must report (all of them, among the failing tests) */
  expect: string[];
}

export type Hint = string | { text: string; codes: string[] };

export interface Exercise {
  /** '04-streaming-dma' */
  id: string;
  /** 'Streaming DMA' */
  title: string;
  /** 'lessons/04-streaming-dma.md' */
  lesson: string;
  /** ['driver.ts'], relative to exercises/<id>/ and solutions/<id>/ */
  files: string[];
  /** 'grader/tests/04-streaming-dma.test.ts' */
  test: string;
  /** Markdown. The plain ones are the exercise's sequence, from a nudge to nearly the answer; one
   *  that names `codes` answers those diagnostics, and `h` shows it first when the first failure
   *  has one of them (grader/hints.ts). */
  hints: Hint[];
  /** the bug zoo */
  mutants: Mutant[];
  /** points for GitHub Classroom's results file (default 1) */
  points?: number;
}
