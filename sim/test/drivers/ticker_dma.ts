// A small dmaengine provider for the test-only ticker controller (sim/test/hw/ticker.ts), the
// way a learner's provider on virt-dma would read: slave_sg and cyclic, pause/resume, residue
// from the hardware's countdown, terminate and synchronize. It moves no data (the ticker does
// not); the framework tests use it to watch cookies, callbacks and states.
import { platform_get_irq, devm_platform_ioremap_resource, platform_set_drvdata, platform_get_drvdata,
  type platform_device, type platform_driver } from '#linux/platform_device';
import { readl, writel, type iomem } from '#linux/io';
import { devm_request_irq, IRQ_HANDLED, IRQ_NONE } from '#linux/interrupt';
import { spin_lock, spin_unlock, spin_lock_irqsave, spin_unlock_irqrestore } from '#linux/spinlock';
import { IS_ERR, PTR_ERR } from '#linux/err';
import { EINVAL } from '#linux/errno';
import { dev_err } from '#linux/device';
import { sg_dma_len, type scatterlist } from '#linux/scatterlist';
import { list_del } from '#linux/list';
import { dma_device_zero, dma_cap_set, dma_async_device_register, dma_async_device_unregister, is_slave_direction,
  DMA_SLAVE, DMA_CYCLIC, DMA_PRIVATE, DMA_MEM_TO_DEV, DMA_DEV_TO_MEM, DMA_COMPLETE, DMA_IN_PROGRESS, DMA_PAUSED,
  DMA_SLAVE_BUSWIDTH_1_BYTE, DMA_SLAVE_BUSWIDTH_2_BYTES, DMA_SLAVE_BUSWIDTH_4_BYTES, DMA_RESIDUE_GRANULARITY_BURST,
  type dma_device, type dma_chan, type dma_async_tx_descriptor, type dma_slave_config, type dma_tx_state,
  type dma_cookie_t, type dma_status } from '#linux/dmaengine';
import { of_dma_controller_register, of_dma_controller_free, of_dma_xlate_by_chan_id } from '#linux/of_dma';
import { dma_cookie_status, dma_set_residue } from '#drivers/dma/dmaengine';
import { vchan_init, vchan_tx_prep, vchan_issue_pending, vchan_next_desc, vchan_cookie_complete, vchan_cyclic_callback,
  vchan_terminate_vdesc, vchan_get_all_descriptors, vchan_dma_desc_free_list, vchan_find_desc, vchan_synchronize,
  vchan_free_chan_resources, to_virt_chan, type virt_dma_chan, type virt_dma_desc } from '#drivers/dma/virt-dma';

const TK_LEN = 0x00, TK_LEFT = 0x04, TK_CTRL = 0x08, TK_PERIOD = 0x0c, TK_STATUS = 0x10;
const TK_START = 1, TK_PAUSE = 2, TK_ABORT = 4, TK_IRQ_EN = 8, TK_CYCLIC = 16;
const TK_DONE = 2, TK_PERIOD_IRQ = 8;
const BUSWIDTHS = 1 << DMA_SLAVE_BUSWIDTH_1_BYTE | 1 << DMA_SLAVE_BUSWIDTH_2_BYTES | 1 << DMA_SLAVE_BUSWIDTH_4_BYTES;

export interface tk_desc extends virt_dma_desc { len: number; period: number; cyclic: boolean; dir: number }
export interface tk_chan extends virt_dma_chan {
  tk: tk_dev; id: number; base: iomem; cur: tk_desc | null; paused: boolean; cfg: dma_slave_config;
}
export interface tk_dev { ddev: dma_device; base: iomem; chans: tk_chan[]; freed: number }

function to_tk_chan(chan: dma_chan): tk_chan {
  return to_virt_chan<tk_chan>(chan);
}

/** The descriptor's memory would be kfree()d here; the count lets tests see it happen. */
function tk_desc_free(vd: virt_dma_desc): void {
  to_tk_chan(vd.tx.chan).tk.freed++;
}

/** Hand the next issued descriptor to the hardware (vc.lock held). */
function tk_start(c: tk_chan): void {
  const vd = vchan_next_desc(c);
  if (!vd) {
    c.cur = null;
    return;
  }
  list_del(vd.node);
  const d = vd as tk_desc;
  c.cur = d;
  writel(d.len, c.base + TK_LEN);
  writel(d.cyclic ? d.period : 0, c.base + TK_PERIOD);
  writel(TK_START | TK_IRQ_EN | (d.cyclic ? TK_CYCLIC : 0), c.base + TK_CTRL);
}

function tk_irq(_irq: number, c: tk_chan): number {
  const status = readl(c.base + TK_STATUS);
  if (!(status & (TK_DONE | TK_PERIOD_IRQ))) return IRQ_NONE;
  writel(status & (TK_DONE | TK_PERIOD_IRQ), c.base + TK_STATUS);
  spin_lock(c.lock);
  const d = c.cur;
  if (d) {
    if (d.cyclic) {
      vchan_cyclic_callback(d);
    } else if (status & TK_DONE) {
      vchan_cookie_complete(d);
      tk_start(c);
    }
  }
  spin_unlock(c.lock);
  return IRQ_HANDLED;
}

function tk_prep_slave_sg(chan: dma_chan, sgl: scatterlist[] | scatterlist, sg_len: number, dir: number,
  flags: number): dma_async_tx_descriptor | null {
  if (!is_slave_direction(dir)) return null;
  const list = Array.isArray(sgl) ? sgl : [sgl];
  let len = 0;
  for (let i = 0; i < sg_len; i++) len += sg_dma_len(list[i]!);
  const d = { len, period: 0, cyclic: false, dir } as tk_desc;
  return vchan_tx_prep(to_tk_chan(chan), d, flags);
}

function tk_prep_cyclic(chan: dma_chan, _buf: number, buf_len: number, period_len: number, dir: number,
  flags: number): dma_async_tx_descriptor | null {
  if (!is_slave_direction(dir) || !period_len || buf_len % period_len) return null;
  const d = { len: buf_len, period: period_len, cyclic: true, dir } as tk_desc;
  return vchan_tx_prep(to_tk_chan(chan), d, flags);
}

function tk_issue_pending(chan: dma_chan): void {
  const c = to_tk_chan(chan);
  const flags = spin_lock_irqsave(c.lock);
  if (vchan_issue_pending(c) && !c.cur) tk_start(c);
  spin_unlock_irqrestore(c.lock, flags);
}

function tk_tx_status(chan: dma_chan, cookie: dma_cookie_t, txstate: dma_tx_state | null): dma_status {
  const c = to_tk_chan(chan);
  let ret = dma_cookie_status(chan, cookie, txstate);
  if (ret === DMA_COMPLETE || !txstate) return ret;
  const flags = spin_lock_irqsave(c.lock);
  if (c.cur && c.cur.tx.cookie === cookie) {
    dma_set_residue(txstate, readl(c.base + TK_LEFT));
  } else {
    const vd = vchan_find_desc(c, cookie) as tk_desc | null;
    dma_set_residue(txstate, vd ? vd.len : 0);
  }
  if (c.paused && ret === DMA_IN_PROGRESS) ret = DMA_PAUSED;
  spin_unlock_irqrestore(c.lock, flags);
  return ret;
}

function tk_config(chan: dma_chan, cfg: dma_slave_config): number {
  const c = to_tk_chan(chan);
  for (const w of [cfg.src_addr_width, cfg.dst_addr_width]) if (w && !(BUSWIDTHS & (1 << w))) return -EINVAL;
  c.cfg = { ...cfg };
  return 0;
}

function tk_pause(chan: dma_chan): number {
  const c = to_tk_chan(chan);
  const flags = spin_lock_irqsave(c.lock);
  writel(readl(c.base + TK_CTRL) | TK_PAUSE, c.base + TK_CTRL);
  c.paused = true;
  spin_unlock_irqrestore(c.lock, flags);
  return 0;
}

function tk_resume(chan: dma_chan): number {
  const c = to_tk_chan(chan);
  const flags = spin_lock_irqsave(c.lock);
  writel(readl(c.base + TK_CTRL) & ~TK_PAUSE, c.base + TK_CTRL);
  c.paused = false;
  spin_unlock_irqrestore(c.lock, flags);
  return 0;
}

function tk_terminate_all(chan: dma_chan): number {
  const c = to_tk_chan(chan);
  const head: virt_dma_desc[] = [];
  const flags = spin_lock_irqsave(c.lock);
  if (c.cur) {
    vchan_terminate_vdesc(c.cur);
    c.cur = null;
    writel(TK_ABORT, c.base + TK_CTRL);
  }
  c.paused = false;
  vchan_get_all_descriptors(c, head);
  spin_unlock_irqrestore(c.lock, flags);
  vchan_dma_desc_free_list(c, head);
  return 0;
}

function tk_synchronize(chan: dma_chan): void {
  vchan_synchronize(to_tk_chan(chan));
}
function tk_free_chan_resources(chan: dma_chan): void {
  vchan_free_chan_resources(to_tk_chan(chan));
}

function tk_probe(pdev: platform_device): number {
  const base = devm_platform_ioremap_resource(pdev, 0);
  if (IS_ERR(base)) return PTR_ERR(base);
  const ddev = dma_device_zero();
  const tk: tk_dev = { ddev, base, chans: [], freed: 0 };
  dma_cap_set(DMA_SLAVE, ddev.cap_mask);
  dma_cap_set(DMA_CYCLIC, ddev.cap_mask);
  dma_cap_set(DMA_PRIVATE, ddev.cap_mask);
  ddev.dev = pdev.dev;
  ddev.src_addr_widths = BUSWIDTHS;
  ddev.dst_addr_widths = BUSWIDTHS;
  ddev.directions = 1 << DMA_MEM_TO_DEV | 1 << DMA_DEV_TO_MEM;
  ddev.residue_granularity = DMA_RESIDUE_GRANULARITY_BURST;
  ddev.descriptor_reuse = true;
  ddev.max_burst = 16;
  ddev.device_prep_slave_sg = tk_prep_slave_sg;
  ddev.device_prep_dma_cyclic = tk_prep_cyclic;
  ddev.device_issue_pending = tk_issue_pending;
  ddev.device_tx_status = tk_tx_status;
  ddev.device_config = tk_config;
  ddev.device_pause = tk_pause;
  ddev.device_resume = tk_resume;
  ddev.device_terminate_all = tk_terminate_all;
  ddev.device_synchronize = tk_synchronize;
  ddev.device_free_chan_resources = tk_free_chan_resources;
  for (let i = 0; i < 4; i++) {
    const irq = platform_get_irq(pdev, i);
    if (irq < 0) return irq;
    const c = { tk, id: i, base: base + 0x20 * i, cur: null, paused: false, cfg: {}, desc_free: tk_desc_free } as unknown as tk_chan;
    const ret = devm_request_irq(pdev.dev, irq, tk_irq, 0, 'ticker-dma', c);
    if (ret) return ret;
    vchan_init(c, ddev);
    tk.chans.push(c);
  }
  platform_set_drvdata(pdev, tk);
  let ret = dma_async_device_register(ddev);
  if (ret) return ret;
  ret = of_dma_controller_register(pdev.dev.of_node ?? null, of_dma_xlate_by_chan_id, ddev);
  if (ret) {
    dev_err(pdev.dev, 'failed to register the DMA controller with the device tree\n');
    dma_async_device_unregister(ddev);
    return ret;
  }
  return 0;
}

function tk_remove(pdev: platform_device): number {
  const tk = platform_get_drvdata<tk_dev>(pdev);
  of_dma_controller_free(pdev.dev.of_node!);
  dma_async_device_unregister(tk.ddev);
  return 0;
}

export const ticker_dma_driver: platform_driver = {
  probe: tk_probe,
  remove: tk_remove,
  driver: { name: 'ticker-dma', of_match_table: [{ compatible: 'dmalab,ticker-dma' }] },
};
