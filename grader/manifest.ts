// The one list of dmalab's exercises, in course order (docs/contracts.md §1).
// Exercise authors add entries to `exercises` below; the grader, the lesson renderer and CI read
// it. Types live in grader/lib/manifest-types.ts so fixture courses can share them.
import type { Exercise } from './lib/manifest-types.ts';

export type { Exercise, Mutant, MutantEdit } from './lib/manifest-types.ts';

export const exercises: Exercise[] = [
  // {
  //   id: '04-streaming-dma',
  //   title: 'Streaming DMA',
  //   lesson: 'lessons/04-streaming-dma.md',
  //   files: ['driver.ts'],
  //   test: 'grader/tests/04-streaming-dma.test.ts',
  //   hints: ['A nudge…', '…nearly the answer.'],
  //   mutants: [
  //     { id: 'unmap-wrong-size', description: 'unmaps with len / 2',
  //       edits: [{ find: 'dma_unmap_single(dev, handle, len,', replace: 'dma_unmap_single(dev, handle, len / 2,' }],
  //       expect: ['DMA_UNMAP_WRONG_SIZE'] },
  //   ],
  // },
];
