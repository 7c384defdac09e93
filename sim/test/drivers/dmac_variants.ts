// Broken versions of the bundled provider (sim/drivers/dma/dmac.ts) for the engine checker's
// provider rules: each replaces one op of the registered dma_device (or wraps its interrupt
// handler) with the mistake lesson 14's bug zoo describes, the way the grader's provider
// variants override ops of a registered device before any client binds.
import { readl, writel } from '#linux/io';
import { spin_lock_irqsave, spin_unlock_irqrestore } from '#linux/spinlock';
import { list_del } from '#linux/list';
import type { platform_device } from '#linux/platform_device';
import { DMA_COMPLETE, type dma_chan, type dma_tx_state, type dma_cookie_t, type dma_status } from '#linux/dmaengine';
import { dma_cookie_status, dma_set_residue, dmaengine_desc_get_callback_invoke } from '#drivers/dma/dmaengine';
import { vchan_cookie_complete, vchan_find_desc, vchan_get_all_descriptors, vchan_dma_desc_free_list, to_virt_chan,
  type virt_dma_desc } from '#drivers/dma/virt-dma';
import { M } from '../../kernel/machine.ts';
import type { dmac_dev, dmac_chan, dmac_txd } from '../../drivers/dma/dmac.ts';

const CH_CONTROL = 0x0c, CH_CONFIG = 0x10, CTL_SIZE_MASK = 0xfff, CTL_SWIDTH = 18, CFG_E = 1, CFG_H = 1 << 18;

function dd_of(ctrl: platform_device): dmac_dev {
  return ctrl.dev.driver_data as dmac_dev;
}

/** issue_pending that, finding more than one descriptor issued, "completes" the next one
 *  while the first still runs (the handler completing the wrong descriptor). */
export function variant_complete_queued(ctrl: platform_device): void {
  const dd = dd_of(ctrl).dd;
  const orig = dd.device_issue_pending!;
  dd.device_issue_pending = (chan: dma_chan) => {
    orig(chan);
    const c = to_virt_chan<dmac_chan>(chan);
    const flags = spin_lock_irqsave(c.lock);
    const next = c.desc_issued[0];
    if (c.at && next) {
      list_del(next.node);
      vchan_cookie_complete(next);
    }
    spin_unlock_irqrestore(c.lock, flags);
  };
}

/** The interrupt handler calls the client back itself (hard-IRQ context), before the tasklet. */
export function variant_callback_in_irq(ctrl: platform_device): void {
  for (const desc of M.irq.descs.values()) {
    for (const a of desc.actions) {
      if (a.dev !== ctrl.dev || !a.handler) continue;
      const orig = a.handler;
      a.handler = (irq: number, c: dmac_chan) => {
        const ret = orig(irq, c);
        for (const vd of c.desc_completed) {
          dmaengine_desc_get_callback_invoke(vd.tx, vd.tx_result);
          vd.tx.callback = null;
          vd.tx.callback_result = null;
        }
        return ret;
      };
    }
  }
}

/** tx_status from vchan_find_desc() alone: the active descriptor is on no list, so 0. */
export function variant_residue_queued_only(ctrl: platform_device): void {
  const dd = dd_of(ctrl).dd;
  dd.device_tx_status = (chan: dma_chan, cookie: dma_cookie_t, state: dma_tx_state | null): dma_status => {
    const ret = dma_cookie_status(chan, cookie, state);
    if (ret === DMA_COMPLETE || !state) return ret;
    const vd = vchan_find_desc(to_virt_chan(chan), cookie) as dmac_txd | null;
    dma_set_residue(state, vd ? vd.bytes : 0);
    return ret;
  };
}

/** tx_status that counts the current LLI's TRANSFER_SIZE and forgets the LLIs after it. */
export function variant_residue_current_seg_only(ctrl: platform_device): void {
  const dd = dd_of(ctrl).dd;
  dd.device_tx_status = (chan: dma_chan, cookie: dma_cookie_t, state: dma_tx_state | null): dma_status => {
    const c = to_virt_chan<dmac_chan>(chan);
    const ret = dma_cookie_status(chan, cookie, state);
    if (ret === DMA_COMPLETE || !state) return ret;
    if (c.at && c.at.tx.cookie === cookie) {
      const control = readl(c.base + CH_CONTROL);
      dma_set_residue(state, (control & CTL_SIZE_MASK) << ((control >>> CTL_SWIDTH) & 7));
    } else {
      const vd = vchan_find_desc(c, cookie) as dmac_txd | null;
      dma_set_residue(state, vd ? vd.bytes : 0);
    }
    return ret;
  };
}

/** terminate_all that empties the lists and frees the descriptors but leaves the channel
 *  running. */
export function variant_terminate_lists_only(ctrl: platform_device): void {
  dd_of(ctrl).dd.device_terminate_all = (chan: dma_chan): number => {
    const c = to_virt_chan<dmac_chan>(chan);
    const head: virt_dma_desc[] = [];
    const flags = spin_lock_irqsave(c.lock);
    c.at = null;
    vchan_get_all_descriptors(c, head);
    spin_unlock_irqrestore(c.lock, flags);
    vchan_dma_desc_free_list(c, head);
    return 0;
  };
}

/** terminate_all that stops the channel but drops the active descriptor without
 *  vchan_terminate_vdesc(): nobody frees it. */
export function variant_no_terminate_vdesc(ctrl: platform_device): void {
  dd_of(ctrl).dd.device_terminate_all = (chan: dma_chan): number => {
    const c = to_virt_chan<dmac_chan>(chan);
    const head: virt_dma_desc[] = [];
    const flags = spin_lock_irqsave(c.lock);
    if (c.at) {
      writel(readl(c.base + CH_CONFIG) & ~(CFG_E | CFG_H), c.base + CH_CONFIG);
      c.at = null;
    }
    vchan_get_all_descriptors(c, head);
    spin_unlock_irqrestore(c.lock, flags);
    vchan_dma_desc_free_list(c, head);
    return 0;
  };
}
