// Provider variants for the DMA engine clients' hidden tests (exercises 11-13): the bundled
// provider (sim/drivers/dma/dmac.ts) loaded and bound, then one op of its registered dma_device
// (or its interrupt handler) overridden before any client binds, each a realistic way a
// controller lets a client down that the API allows (docs/exercises-part2.md, conventions).
import { M, plug_dmac, load_platform, type DmacOptions, type DtNode, type Dmac, type platform_device } from '#sim/testing';
import { dma_cap_clear, DMA_MEMCPY, DMA_TRANS_WRITE_FAILED, type dma_chan, type dma_async_tx_descriptor,
  type dma_cookie_t } from '#linux/dmaengine';
import { readl, writel } from '#linux/io';
import { dmac_driver, type dmac_dev, type dmac_chan } from '../../../sim/drivers/dma/dmac.ts';
import { EIO } from '#linux/errno';

export type Variant = 'bundled' | 'no_memcpy' | 'prep_fails' | 'submit_fails' | 'never_completes' | 'write_error'
  | 'overrun' | 'lazy_terminate' | 'merge_periods';

export interface Ctrl {
  pdev: platform_device;
  hw: Dmac;
  /** The registered dma_device's private struct (its ops are the ones overridden). */
  d: dmac_dev;
  /** What the variant did, for the tests' messages. */
  events: string[];
}

const DMAC_INT_TC_STATUS = 0x004, DMAC_INT_TC_CLEAR = 0x008;

/** Load the bundled provider, plug its controller and bind it (it must bind: a test machine
 *  whose provider is not there is a broken test, not a broken driver). */
export function plug_ctrl(o: DmacOptions = {}, node: DtNode = {}): { pdev: platform_device; hw: Dmac } {
  load_platform(dmac_driver);
  const c = plug_dmac(o, node);
  if (!c.pdev.dev.driver) throw new Error('test machine: the bundled DMA provider did not bind to its controller');
  return c;
}

/** The bound controller's driver data. */
export function ctrl_of(c: { pdev: platform_device; hw: Dmac }): Ctrl {
  return { ...c, d: c.pdev.dev.driver_data as dmac_dev, events: [] };
}

/** Apply a variant to a bound controller, before clients bind. `nth`: which call misbehaves. */
export function apply_variant(c: Ctrl, v: Variant, nth = 1): void {
  const dd = c.d.dd;
  switch (v) {
    case 'bundled':
      return;
    case 'no_memcpy':
      // A slave-only controller: no DMA_MEMCPY capability, no memcpy prep.
      dma_cap_clear(DMA_MEMCPY, dd.cap_mask);
      dd.device_prep_dma_memcpy = null;
      return;
    case 'prep_fails': {
      // Out of hardware descriptors on the nth prep (GFP_NOWAIT pools do run dry).
      let n = 0;
      const m = dd.device_prep_dma_memcpy!, s = dd.device_prep_slave_sg!, cy = dd.device_prep_dma_cyclic!;
      const fails = () => ++n === nth && (c.events.push(`prep #${n} refused`), true);
      dd.device_prep_dma_memcpy = (...a) => (fails() ? null : m(...a));
      dd.device_prep_slave_sg = (...a) => (fails() ? null : s(...a));
      dd.device_prep_dma_cyclic = (...a) => (fails() ? null : cy(...a));
      return;
    }
    case 'submit_fails': {
      // The nth descriptor's tx_submit refuses it with -EIO (it stays on desc_allocated, freed
      // with the channel's resources).
      let n = 0;
      const wrap = (tx: dma_async_tx_descriptor | null) => {
        if (tx && ++n === nth) {
          tx.tx_submit = (_t: dma_async_tx_descriptor): dma_cookie_t => (c.events.push(`submit #${n} refused`), -EIO);
        }
        return tx;
      };
      const m = dd.device_prep_dma_memcpy!, s = dd.device_prep_slave_sg!;
      dd.device_prep_dma_memcpy = (...a) => wrap(m(...a));
      dd.device_prep_slave_sg = (...a) => wrap(s(...a));
      return;
    }
    case 'never_completes':
      // The nth terminal-count interrupt is lost: the transfer ran, nobody is told.
      wrap_irq(c, (orig, irq, ch) => {
        const bit = 1 << ch.id;
        if (readl(c.d.base + DMAC_INT_TC_STATUS) & bit && ++tc_seen.n === nth) {
          c.events.push(`interrupt of channel ${ch.id} dropped`);
          ch_writel(c, bit, DMAC_INT_TC_CLEAR);
          return 1;
        }
        return orig(irq, ch);
      });
      return;
    case 'write_error':
      // The nth transfer ends with a write error reported (as after a slave error response).
      wrap_irq(c, (orig, irq, ch) => {
        const bit = 1 << ch.id;
        if (ch.at && readl(c.d.base + DMAC_INT_TC_STATUS) & bit && ++tc_seen.n === nth) {
          c.events.push(`transfer on channel ${ch.id} failed`);
          const ret = orig(irq, ch);
          const done = ch.desc_completed[ch.desc_completed.length - 1];
          if (done) done.tx_result = { result: DMA_TRANS_WRITE_FAILED, residue: 64 };
          return ret;
        }
        return orig(irq, ch);
      });
      return;
    case 'merge_periods':
      // Interrupt coalescing: every third period's terminal-count interrupt of a cyclic transfer
      // is swallowed, so the next one's callback stands for two periods (what a late tasklet
      // does on virt-dma: vchan_cyclic_callback() keeps one pending pointer).
      wrap_irq(c, (orig, irq, ch) => {
        const bit = 1 << ch.id;
        if (ch.at?.cyclic && readl(c.d.base + DMAC_INT_TC_STATUS) & bit && ++tc_seen.n % 3 === 0) {
          c.events.push(`period interrupt of channel ${ch.id} merged into the next`);
          ch_writel(c, bit, DMAC_INT_TC_CLEAR);
          return 1;
        }
        return orig(irq, ch);
      });
      return;
    case 'overrun': {
      // A broken copier: every memcpy moves 4 bytes more than it was asked to.
      const m = dd.device_prep_dma_memcpy!;
      dd.device_prep_dma_memcpy = (chan: dma_chan, dst: number, src: number, len: number, flags: number) =>
        m(chan, dst, src, len + 4, flags);
      return;
    }
    case 'lazy_terminate': {
      // device_terminate_all returns at once; the hardware stops 50 µs later (the API allows
      // it: dmaengine_synchronize() is what waits).
      const t = dd.device_terminate_all!, sync = dd.device_synchronize!;
      const late = new Set<dma_chan>();
      dd.device_terminate_all = (chan: dma_chan) => {
        late.add(chan);
        M.clock.schedule(50_000, () => {
          if (late.delete(chan)) t(chan);
        });
        return 0;
      };
      dd.device_synchronize = (chan: dma_chan) => {
        if (late.delete(chan)) t(chan);
        sync(chan);
      };
      return;
    }
  }
}

// The interrupt counters of the wrappers above, per controller.
const tc_seen = { n: 0 };

type Handler = (irq: number, ch: dmac_chan) => number;
function wrap_irq(c: Ctrl, f: (orig: Handler, irq: number, ch: dmac_chan) => number): void {
  tc_seen.n = 0;
  for (const desc of M.irq.descs.values()) {
    for (const a of desc.actions) {
      if (a.dev !== c.pdev.dev || !a.handler) continue;
      const orig = a.handler as Handler;
      a.handler = ((irq: number, ch: dmac_chan) => f(orig, irq, ch)) as typeof a.handler;
    }
  }
}

function ch_writel(c: Ctrl, v: number, off: number): void {
  writel(v, c.d.base + off);
}
