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
  /** from a nudge to nearly the answer (markdown) */
  hints: string[];
  /** the bug zoo */
  mutants: Mutant[];
  /** points for GitHub Classroom's results file (default 1) */
  points?: number;
}
