// The one list of dmalab's exercises, in course order (docs/contracts.md §1).
// Exercise authors add entries to `exercises` below; the grader, the lesson renderer and CI read
// it. Types live in grader/lib/manifest-types.ts so fixture courses can share them.
import type { Exercise } from './lib/manifest-types.ts';

export type { Exercise, Mutant, MutantEdit } from './lib/manifest-types.ts';

export const exercises: Exercise[] = [
  {
    id: '01-mmio-and-probe',
    title: 'MMIO and probe',
    lesson: 'lessons/01-mmio-and-probe.md',
    files: ['driver.ts'],
    test: 'grader/tests/01-mmio-and-probe.test.ts',
    hints: [
      'Probe is a ladder: `pci_enable_device`, `pci_request_regions`, `pci_iomap`, `request_irq`. Each step that fails jumps to the cleanup of the steps before it, and `remove` runs the same cleanup in the same reverse order.',
      'The handler gets the cookie you passed to `request_irq` (`edu`). On a shared line, read `EDU_REG_IRQ_STATUS` first: if `EDU_IRQ_FACT` is not set, `return IRQ_NONE`. If it is, write that bit to `EDU_REG_IRQ_ACK`, `complete(edu.fact_done)` and `return IRQ_HANDLED`.',
      '`edu_factorial`: `reinit_completion(edu.fact_done)`, `writel(EDU_STATUS_IRQFACT, edu.bar + EDU_REG_STATUS)`, `writel(n, edu.bar + EDU_REG_FACT)`, then `if (!wait_for_completion_timeout(edu.fact_done, msecs_to_jiffies(100))) return -ETIMEDOUT;` and `return readl(edu.bar + EDU_REG_FACT)`.',
      'In probe, after `pci_iomap`: `ret = request_irq(pdev.irq, edu_irq, IRQF_SHARED, DRV_NAME, edu)`; on success `pci_set_drvdata(pdev, edu)` and `return 0`. `remove`: `free_irq(pdev.irq, edu)`, `pci_iounmap(pdev, edu.bar)`, `pci_release_regions(pdev)`, `pci_disable_device(pdev)`.',
    ],
    mutants: [
      { id: 'no-iounmap', description: 'remove() forgets pci_iounmap',
        edits: [{ find: '  free_irq(pdev.irq, edu);\n  pci_iounmap(pdev, edu.bar);\n', replace: '  free_irq(pdev.irq, edu);\n' }],
        expect: ['LEAK_RESOURCES'] },
      { id: 'no-release-regions', description: 'remove() forgets pci_release_regions',
        edits: [{ find: '  pci_iounmap(pdev, edu.bar);\n  pci_release_regions(pdev);\n', replace: '  pci_iounmap(pdev, edu.bar);\n' }],
        expect: ['LEAK_RESOURCES'] },
      { id: 'no-enable', description: 'probe never calls pci_enable_device',
        edits: [{ find: '  let ret = pci_enable_device(pdev);\n  if (ret)\n    return ret;\n', replace: '  let ret = 0;\n' }],
        expect: ['MMIO_DEVICE_DISABLED'] },
      { id: 'wrong-offset', description: 'the factorial register at the wrong offset',
        edits: [{ find: 'const EDU_REG_FACT = 0x08;', replace: 'const EDU_REG_FACT = 0x0c;' }],
        expect: ['WRONG_RESULT'] },
      { id: 'irq-not-mine', description: 'the handler claims every interrupt on the shared line',
        edits: [{ find: '  if (!(status & EDU_IRQ_FACT)) return IRQ_NONE;\n', replace: '' }],
        expect: ['IRQ_HANDLED_NOT_MINE'] },
      { id: 'sleep-in-irq', description: 'the handler sleeps',
        edits: [
          { find: "import { dev_info } from '#linux/device';", replace: "import { dev_info } from '#linux/device';\nimport { msleep } from '#linux/delay';" },
          { find: '  complete(edu.fact_done);\n', replace: '  msleep(1);\n  complete(edu.fact_done);\n' },
        ],
        expect: ['SCHEDULING_WHILE_ATOMIC'] },
      { id: 'no-free-irq', description: 'remove() leaves the interrupt handler installed',
        edits: [{ find: '  free_irq(pdev.irq, edu);\n', replace: '' }],
        expect: ['IRQ_LEAK_AT_UNBIND'] },
      { id: 'no-ack', description: 'the handler never acknowledges the interrupt',
        edits: [{ find: '  writel(status & EDU_IRQ_FACT, edu.bar + EDU_REG_IRQ_ACK);\n', replace: '' }],
        expect: ['IRQ_STORM'] },
      { id: 'unwind-skips-iounmap', description: 'when request_irq fails, probe forgets to unmap the BAR',
        edits: [{ find: '      pci_iounmap(pdev, edu.bar);\n    }\n', replace: '    }\n' }],
        expect: ['LEAK_RESOURCES'] },
    ],
  },
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
