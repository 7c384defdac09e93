// The engine side of the benchmark: a DMA_MEMCPY client as a driver writes one (prepare, a
// completion callback, submit, issue, wait), so its calls go through the call-site rewriting a
// real driver file gets, the checker's hooks and the bundled provider (sim/drivers/dma/dmac.ts).
import { dmaengine_prep_dma_memcpy, dmaengine_submit, dma_submit_error, dma_async_issue_pending,
  DMA_PREP_INTERRUPT, DMA_CTRL_ACK, type dma_chan } from '#linux/dmaengine';
import { DECLARE_COMPLETION, reinit_completion, complete, wait_for_completion_timeout, type completion } from '#linux/completion';
import { msecs_to_jiffies } from '#linux/jiffies';

const done = (c: completion) => complete(c);

/** n memcpys of len bytes from bus address src to dst, one at a time, each waited for by its
 *  callback; returns the number that failed. */
export function engine_copy_loop(chan: dma_chan, dst: number, src: number, len: number, n: number): number {
  const c = DECLARE_COMPLETION();
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const tx = dmaengine_prep_dma_memcpy(chan, dst, src, len, DMA_PREP_INTERRUPT | DMA_CTRL_ACK);
    if (!tx) { failed++; continue; }
    reinit_completion(c);
    tx.callback = done;
    tx.callback_param = c;
    if (dma_submit_error(dmaengine_submit(tx))) { failed++; continue; }
    dma_async_issue_pending(chan);
    if (!wait_for_completion_timeout(c, msecs_to_jiffies(1000))) failed++;
  }
  return failed;
}
