// The learner's pdma provider on a test machine (exercise 14): loaded, its controller plugged and
// bound, its private struct found; and the end of every test: the provider unbound with every
// program given back to its pool, no channel held, nothing left mapped or allocated (the leak
// checks of unbind report the rest).
import { plug_pdma, type DtNode, type PdmaOptions, type Pdma, type platform_device, type platform_driver } from '#sim/testing';
import type { dma_chan } from '#linux/dmaengine';
import { Stop, type Run } from './harness.ts';
import { load, plug, expect_bound, unbind } from './platform.ts';

/** What the tests read of the learner's pdma_dev (the design's names). */
export interface PdmaDev {
  ddev: { channels: dma_chan[]; device_pause: unknown; device_resume: unknown };
  pool: { _pages: { in_use: number }[] } | null;
}

export interface Prov { pdev: platform_device; hw: Pdma; d: PdmaDev }

/** Load the provider and plug its controller: it must bind (or the test stops there). */
export function plug_provider(r: Run, drv: platform_driver, o: PdmaOptions = {}, node: DtNode = {}): Prov {
  load(r, drv);
  const c = plug(r, 'pdma', () => plug_pdma(o, node));
  expect_bound(r, c.pdev, drv);
  const d = c.pdev.dev.driver_data as PdmaDev | null;
  if (!d?.ddev?.channels) {
    r.finding('WRONG_RESULT', 'probe succeeded but did not keep its pdma_dev (with its dma_device in d.ddev) with platform_set_drvdata(pdev, d)');
    throw new Stop('no driver data');
  }
  return { ...c, d };
}

/** Program blocks the provider's pool has handed out and not had back. */
export function programs_out(p: Prov): number {
  return p.d.pool?._pages?.reduce((n, pg) => n + pg.in_use, 0) ?? 0;
}

/** No descriptor's program may outlive its descriptor: after the clients are done, none is out. */
export function expect_pool_empty(r: Run, p: Prov, after: string): boolean {
  const n = programs_out(p);
  if (!n) return true;
  r.finding('DMA_POOL_BUSY', `after ${after}, ${n} program block${n === 1 ? ' is' : 's are'} still allocated from the provider's dma_pool: every descriptor's desc_free must dma_pool_free() its program`);
  return false;
}

/** Unbind the provider (its clients first), checking that no channel is still held. */
export function unbind_provider(r: Run, p: Prov): void {
  for (const c of p.d.ddev.channels) {
    if (c.client_count) r.finding('DMAENGINE_CHAN_LEAK', `before the provider's unbind, ${c.name ?? 'a channel'} is still held`);
  }
  unbind(r, p.pdev);
}
