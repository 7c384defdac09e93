// The dmaengine provider for the dmalab DMAC (sim/hw/dmac.ts), on virt-dma, in the shape of
// drivers/dma/amba-pl08x.c: each transfer becomes a chain of LLIs (hardware descriptors) in a
// coherent dma_pool, the first one loaded into the channel's registers and the rest fetched by
// the controller itself; a channel's terminal-count interrupt completes the descriptor (or
// reports a period of a cyclic one) and starts the next; residue comes from the controller's
// TRANSFER_SIZE and the LLIs not yet run. A reference to read, not an exercise.
//
// Device tree: compatible = "dmalab,dmac"; #dma-cells = <1>: the peripheral's request line.
import { platform_get_irq, devm_platform_ioremap_resource, platform_set_drvdata, platform_get_drvdata,
  type platform_device, type platform_driver } from '#linux/platform_device';
import { readl, writel, type iomem } from '#linux/io';
import { devm_request_irq, IRQ_HANDLED, IRQ_NONE } from '#linux/interrupt';
import { spin_lock, spin_unlock, spin_lock_irqsave, spin_unlock_irqrestore } from '#linux/spinlock';
import { IS_ERR, PTR_ERR } from '#linux/err';
import { EINVAL, ENOMEM } from '#linux/errno';
import { dev_err, dev_name } from '#linux/device';
import { GFP_NOWAIT } from '#linux/gfp';
import { dma_set_mask_and_coherent, dma_map_resource, dma_unmap_resource, dma_mapping_error, DMA_BIT_MASK,
  DMA_TO_DEVICE, DMA_FROM_DEVICE } from '#linux/dma-mapping';
import { dma_pool_create, dma_pool_alloc, dma_pool_free, dma_pool_destroy, type dma_pool } from '#linux/dmapool';
import { sg_dma_address, sg_dma_len, type scatterlist } from '#linux/scatterlist';
import { list_del } from '#linux/list';
import { put_u32 } from '#dmalab/mem';
import { out } from '#dmalab/ref';
import { dma_device_zero, dma_cap_set, dma_async_device_register, dma_async_device_unregister, dma_get_any_slave_channel,
  is_slave_direction, DMA_MEMCPY, DMA_SLAVE, DMA_CYCLIC, DMA_PRIVATE, DMA_MEM_TO_DEV, DMA_DEV_TO_MEM, DMA_COMPLETE,
  DMA_IN_PROGRESS, DMA_PAUSED, DMA_SLAVE_BUSWIDTH_1_BYTE, DMA_SLAVE_BUSWIDTH_2_BYTES, DMA_SLAVE_BUSWIDTH_4_BYTES,
  DMA_RESIDUE_GRANULARITY_DESCRIPTOR, DMA_TRANS_READ_FAILED, DMA_TRANS_WRITE_FAILED,
  type dma_device, type dma_chan, type dma_async_tx_descriptor, type dma_slave_config, type dma_tx_state,
  type dma_cookie_t, type dma_status } from '#linux/dmaengine';
import { of_dma_controller_register, of_dma_controller_free, type of_dma } from '#linux/of_dma';
import type { of_phandle_args } from '#linux/of';
import { dma_cookie_status, dma_set_residue } from '#drivers/dma/dmaengine';
import { vchan_init, vchan_tx_prep, vchan_issue_pending, vchan_next_desc, vchan_cookie_complete, vchan_cyclic_callback,
  vchan_terminate_vdesc, vchan_get_all_descriptors, vchan_dma_desc_free_list, vchan_find_desc, vchan_synchronize,
  vchan_free_chan_resources, to_virt_chan, type virt_dma_chan, type virt_dma_desc } from '#drivers/dma/virt-dma';

// Registers (sim/hw/dmac.ts has the whole map).
const DMAC_INT_TC_STATUS = 0x004, DMAC_INT_TC_CLEAR = 0x008, DMAC_INT_ERR_STATUS = 0x00c, DMAC_INT_ERR_CLEAR = 0x010,
  DMAC_CONFIG = 0x030, DMAC_CAPS = 0x034, DMAC_CH_BASE = 0x100, DMAC_CH_STRIDE = 0x20;
const CH_SRC = 0x00, CH_DST = 0x04, CH_LLI = 0x08, CH_CONTROL = 0x0c, CH_CONFIG = 0x10;
const CTL_SIZE_MASK = 0xfff, CTL_SBSIZE = 12, CTL_DBSIZE = 15, CTL_SWIDTH = 18, CTL_DWIDTH = 21,
  CTL_SI = 1 << 26, CTL_DI = 1 << 27, CTL_I = 0x80000000;
const CFG_E = 1, CFG_SRC_PERIPH = 1, CFG_DST_PERIPH = 6, CFG_FLOW = 11, CFG_IE = 1 << 14, CFG_ITC = 1 << 15,
  CFG_H = 1 << 18, CFG_ERR_WRITE = 1 << 19;
const FLOW_MEM2MEM = 0, FLOW_MEM2PER = 1, FLOW_PER2MEM = 2;
const CAPS_PAUSE = 1 << 6;
const BURSTS = [1, 4, 8, 16, 32, 64, 128, 256];
const LLI_SIZE = 16, MAX_UNITS = CTL_SIZE_MASK;
const BUSWIDTHS = 1 << DMA_SLAVE_BUSWIDTH_1_BYTE | 1 << DMA_SLAVE_BUSWIDTH_2_BYTES | 1 << DMA_SLAVE_BUSWIDTH_4_BYTES;

/** One hardware descriptor of a transfer: where it is (CPU and bus address), what the driver
 *  wrote into it, and how many bytes it moves. */
interface dmac_lli { cpu: number; dma: number; bytes: number; src: number; dst: number; next: number; control: number }

/** Write an LLI's four words where the controller will fetch them (coherent memory). */
function dmac_lli_store(l: dmac_lli): void {
  put_u32(l.src, l.cpu + 0);
  put_u32(l.dst, l.cpu + 4);
  put_u32(l.next, l.cpu + 8);
  put_u32(l.control, l.cpu + 12);
}

export interface dmac_txd extends virt_dma_desc {
  llis: dmac_lli[];
  /** Total bytes, and the channel configuration it runs with. */
  bytes: number;
  ccfg: number;
  cyclic: boolean;
}

export interface dmac_chan extends virt_dma_chan {
  d: dmac_dev;
  id: number;
  base: iomem;
  /** The descriptor in the hardware, or null. */
  at: dmac_txd | null;
  /** The peripheral request line (from the device tree), -1 for memcpy channels. */
  signal: number;
  cfg: dma_slave_config;
  paused: boolean;
  /** The peripheral's FIFO as this controller addresses it (dma_map_resource()), as
   *  pl330.c's pl330_dma_slave_map() keeps it: mapped once per address and direction. */
  fifo: { phys: number; dma: number; size: number; dir: number } | null;
}

export interface dmac_dev {
  pdev: platform_device;
  dd: dma_device;
  base: iomem;
  pool: dma_pool | null;
  chans: dmac_chan[];
  can_pause: boolean;
}

function to_dmac_chan(chan: dma_chan): dmac_chan {
  return to_virt_chan<dmac_chan>(chan);
}

function width_code(bytes: number): number {
  return bytes === 4 ? 2 : bytes === 2 ? 1 : 0;
}
/** The largest burst code not above maxburst beats (1 if unset). */
function burst_code(maxburst: number | undefined): number {
  let code = 0;
  for (let i = 0; i < BURSTS.length; i++) if (BURSTS[i]! <= (maxburst || 1)) code = i;
  return code;
}

function dmac_desc_free(vd: virt_dma_desc): void {
  const txd = vd as dmac_txd;
  const c = to_dmac_chan(vd.tx.chan);
  for (const l of txd.llis) dma_pool_free(c.d.pool!, l.cpu, l.dma);
  txd.llis = [];
}

/** Append one LLI moving `bytes` from src to dst; the previous one is linked to it. */
function dmac_add_lli(c: dmac_chan, txd: dmac_txd, src: number, dst: number, bytes: number, control: number): boolean {
  const dma = out(0);
  const cpu = dma_pool_alloc(c.d.pool!, GFP_NOWAIT, dma);
  if (!cpu) return false;
  const units = bytes >> ((control >>> CTL_SWIDTH) & 7);
  const l: dmac_lli = { cpu, dma: dma.value, bytes, src, dst, next: 0, control: ((control & ~CTL_SIZE_MASK) | units) >>> 0 };
  dmac_lli_store(l);
  const prev = txd.llis[txd.llis.length - 1];
  if (prev) {
    // Link the previous one to it: only its LLI word changes.
    prev.next = l.dma;
    put_u32(prev.next, prev.cpu + 8);
  }
  txd.llis.push(l);
  txd.bytes += bytes;
  return true;
}

/** The last LLI so far raises the terminal count interrupt (the end, or a period's end). */
function dmac_lli_irq(txd: dmac_txd): void {
  const last = txd.llis[txd.llis.length - 1]!;
  last.control = (last.control | CTL_I) >>> 0;
  dmac_lli_store(last);
}

/** A fresh descriptor; `fail` frees what was built when preparing it goes wrong. */
function dmac_txd_new(ccfg: number, cyclic: boolean): dmac_txd {
  return { llis: [], bytes: 0, ccfg, cyclic } as unknown as dmac_txd;
}
function dmac_prep_fail(c: dmac_chan, txd: dmac_txd): null {
  for (const l of txd.llis) dma_pool_free(c.d.pool!, l.cpu, l.dma);
  return null;
}

/** Split [addr, addr+len) into LLIs of at most MAX_UNITS units each. */
function dmac_fill(c: dmac_chan, txd: dmac_txd, src: number, dst: number, len: number, control: number,
  si: boolean, di: boolean): boolean {
  const max = MAX_UNITS * (1 << ((control >>> CTL_SWIDTH) & 7));
  for (let done = 0; done < len;) {
    const n = Math.min(max, len - done);
    if (!dmac_add_lli(c, txd, si ? src + done : src, di ? dst + done : dst, n, control)) return false;
    done += n;
  }
  return true;
}

function dmac_prep_memcpy(chan: dma_chan, dst: number, src: number, len: number, flags: number): dma_async_tx_descriptor | null {
  const c = to_dmac_chan(chan);
  const align = (src | dst | len) & 3 ? ((src | dst | len) & 1 ? 1 : 2) : 4;
  const w = width_code(align);
  const control = w << CTL_SWIDTH | w << CTL_DWIDTH | burst_code(16) << CTL_SBSIZE | burst_code(16) << CTL_DBSIZE | CTL_SI | CTL_DI;
  const txd = dmac_txd_new(FLOW_MEM2MEM << CFG_FLOW, false);
  if (!len || !dmac_fill(c, txd, src, dst, len, control, true, true)) return dmac_prep_fail(c, txd);
  dmac_lli_irq(txd);
  return vchan_tx_prep(c, txd, flags);
}

function dmac_slave_unmap(c: dmac_chan): void {
  if (c.fifo) dma_unmap_resource(c.d.pdev.dev, c.fifo.dma, c.fifo.size, c.fifo.dir, 0);
  c.fifo = null;
}

/** Map the FIFO's physical address for the controller: behind an IOMMU it needs an IOVA like
 *  any other address the controller reaches. The controller writes a MEM_TO_DEV FIFO. */
function dmac_slave_map(c: dmac_chan, phys: number, size: number, dir: number): number {
  const rdir = dir === DMA_MEM_TO_DEV ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
  if (c.fifo && c.fifo.phys === phys && c.fifo.dir === rdir && c.fifo.size === size) return c.fifo.dma;
  dmac_slave_unmap(c);
  const dma = dma_map_resource(c.d.pdev.dev, phys, size, rdir, 0);
  if (dma_mapping_error(c.d.pdev.dev, dma)) return 0;
  c.fifo = { phys, dma, size, dir: rdir };
  return dma;
}

/** The slave side of a transfer from the channel's config: the FIFO, its width and burst. */
function dmac_slave(c: dmac_chan, dir: number): { fifo: number; control: number; ccfg: number } | null {
  const cfg = c.cfg;
  const to_dev = dir === DMA_MEM_TO_DEV;
  const phys = (to_dev ? cfg.dst_addr : cfg.src_addr) ?? 0;
  const width = (to_dev ? cfg.dst_addr_width : cfg.src_addr_width) ?? 0;
  if (!phys || !(BUSWIDTHS & (1 << width))) {
    dev_err(c.d.pdev.dev, 'channel %d: no FIFO address or a bad bus width (%d) in the slave config\n', c.id, width);
    return null;
  }
  const fifo = dmac_slave_map(c, phys, width, dir);
  if (!fifo) return null;
  const w = width_code(width), b = burst_code(to_dev ? cfg.dst_maxburst : cfg.src_maxburst);
  const control = w << CTL_SWIDTH | w << CTL_DWIDTH | b << CTL_SBSIZE | b << CTL_DBSIZE | (to_dev ? CTL_SI : CTL_DI);
  const ccfg = to_dev ? FLOW_MEM2PER << CFG_FLOW | c.signal << CFG_DST_PERIPH : FLOW_PER2MEM << CFG_FLOW | c.signal << CFG_SRC_PERIPH;
  return { fifo, control, ccfg };
}

function dmac_prep_slave_sg(chan: dma_chan, sgl: scatterlist[] | scatterlist, sg_len: number, dir: number,
  flags: number): dma_async_tx_descriptor | null {
  const c = to_dmac_chan(chan);
  if (!is_slave_direction(dir)) return null;
  const s = dmac_slave(c, dir);
  if (!s) return null;
  const list = Array.isArray(sgl) ? sgl : [sgl];
  const txd = dmac_txd_new(s.ccfg, false);
  const to_dev = dir === DMA_MEM_TO_DEV;
  for (let i = 0; i < sg_len; i++) {
    const a = sg_dma_address(list[i]!), n = sg_dma_len(list[i]!);
    if (!dmac_fill(c, txd, to_dev ? a : s.fifo, to_dev ? s.fifo : a, n, s.control, to_dev, !to_dev)) return dmac_prep_fail(c, txd);
  }
  if (!txd.llis.length) return null;
  dmac_lli_irq(txd);
  return vchan_tx_prep(c, txd, flags);
}

function dmac_prep_cyclic(chan: dma_chan, buf: number, buf_len: number, period_len: number, dir: number,
  flags: number): dma_async_tx_descriptor | null {
  const c = to_dmac_chan(chan);
  if (!is_slave_direction(dir) || !period_len || buf_len % period_len) return null;
  const s = dmac_slave(c, dir);
  if (!s) return null;
  const txd = dmac_txd_new(s.ccfg, true);
  const to_dev = dir === DMA_MEM_TO_DEV;
  for (let p = 0; p < buf_len; p += period_len) {
    const a = buf + p;
    if (!dmac_fill(c, txd, to_dev ? a : s.fifo, to_dev ? s.fifo : a, period_len, s.control, to_dev, !to_dev)) return dmac_prep_fail(c, txd);
    dmac_lli_irq(txd);
  }
  // The ring: the last LLI leads back to the first.
  const last = txd.llis[txd.llis.length - 1]!;
  last.next = txd.llis[0]!.dma;
  dmac_lli_store(last);
  return vchan_tx_prep(c, txd, flags);
}

/** Load the first LLI of the next issued descriptor into the channel and start it (lock held). */
function dmac_start_next_txd(c: dmac_chan): void {
  const vd = vchan_next_desc(c);
  if (!vd) {
    c.at = null;
    return;
  }
  list_del(vd.node);
  const txd = vd as dmac_txd;
  c.at = txd;
  const first = txd.llis[0]!;
  writel(first.src, c.base + CH_SRC);
  writel(first.dst, c.base + CH_DST);
  writel(first.next, c.base + CH_LLI);
  writel(first.control, c.base + CH_CONTROL);
  writel(txd.ccfg | CFG_IE | CFG_ITC | CFG_E, c.base + CH_CONFIG);
}

function dmac_irq(_irq: number, c: dmac_chan): number {
  const bit = 1 << c.id;
  const tc = readl(c.d.base + DMAC_INT_TC_STATUS) & bit, err = readl(c.d.base + DMAC_INT_ERR_STATUS) & bit;
  if (!tc && !err) return IRQ_NONE;
  if (tc) writel(bit, c.d.base + DMAC_INT_TC_CLEAR);
  if (err) writel(bit, c.d.base + DMAC_INT_ERR_CLEAR);
  spin_lock(c.lock);
  const txd = c.at;
  if (txd && err) {
    dev_err(c.d.pdev.dev, 'channel %d: bus error, transfer stopped\n', c.id);
    txd.tx_result.result = readl(c.base + CH_CONFIG) & CFG_ERR_WRITE ? DMA_TRANS_WRITE_FAILED : DMA_TRANS_READ_FAILED;
    txd.tx_result.residue = dmac_residue(c, txd);
    vchan_cookie_complete(txd);
    dmac_start_next_txd(c);
  } else if (txd && txd.cyclic) {
    vchan_cyclic_callback(txd);
  } else if (txd && !(readl(c.base + CH_CONFIG) & CFG_E)) {
    // The last LLI is done (its TC came and the channel stopped).
    vchan_cookie_complete(txd);
    dmac_start_next_txd(c);
  }
  spin_unlock(c.lock);
  return IRQ_HANDLED;
}

function dmac_issue_pending(chan: dma_chan): void {
  const c = to_dmac_chan(chan);
  const flags = spin_lock_irqsave(c.lock);
  if (vchan_issue_pending(c) && !c.at) dmac_start_next_txd(c);
  spin_unlock_irqrestore(c.lock, flags);
}

/** Bytes left of the running descriptor: the current LLI's TRANSFER_SIZE and every LLI after
 *  it (the channel's LLI register names the next one). Lock held. */
function dmac_residue(c: dmac_chan, txd: dmac_txd): number {
  const control = readl(c.base + CH_CONTROL);
  const next = readl(c.base + CH_LLI);
  const shift = (control >>> CTL_SWIDTH) & 7;
  let left = (control & CTL_SIZE_MASK) << shift;
  if (!(readl(c.base + CH_CONFIG) & CFG_E)) return 0;
  const i = next ? txd.llis.findIndex((l) => l.dma === next) : txd.llis.length;
  if (!txd.cyclic) for (let j = Math.max(i, 0); j < txd.llis.length; j++) left += txd.llis[j]!.bytes;
  else if (i > 0) for (let j = i; j < txd.llis.length; j++) left += txd.llis[j]!.bytes;
  return left;
}

function dmac_tx_status(chan: dma_chan, cookie: dma_cookie_t, txstate: dma_tx_state | null): dma_status {
  const c = to_dmac_chan(chan);
  let ret = dma_cookie_status(chan, cookie, txstate);
  if (ret === DMA_COMPLETE || !txstate) return ret;
  const flags = spin_lock_irqsave(c.lock);
  if (c.d.dd.residue_granularity !== DMA_RESIDUE_GRANULARITY_DESCRIPTOR) {
    if (c.at && c.at.tx.cookie === cookie) {
      dma_set_residue(txstate, dmac_residue(c, c.at));
    } else {
      const vd = vchan_find_desc(c, cookie) as dmac_txd | null;
      dma_set_residue(txstate, vd ? vd.bytes : 0);
    }
  }
  if (c.paused && ret === DMA_IN_PROGRESS) ret = DMA_PAUSED;
  spin_unlock_irqrestore(c.lock, flags);
  return ret;
}

function dmac_config(chan: dma_chan, cfg: dma_slave_config): number {
  const c = to_dmac_chan(chan);
  for (const w of [cfg.src_addr_width, cfg.dst_addr_width]) if (w && !(BUSWIDTHS & (1 << w))) return -EINVAL;
  for (const b of [cfg.src_maxburst, cfg.dst_maxburst]) if (b && b > 256) return -EINVAL;
  c.cfg = { ...cfg };
  return 0;
}

function dmac_pause(chan: dma_chan): number {
  const c = to_dmac_chan(chan);
  const flags = spin_lock_irqsave(c.lock);
  if (c.at) writel(readl(c.base + CH_CONFIG) | CFG_H, c.base + CH_CONFIG);
  c.paused = true;
  spin_unlock_irqrestore(c.lock, flags);
  return 0;
}

function dmac_resume(chan: dma_chan): number {
  const c = to_dmac_chan(chan);
  const flags = spin_lock_irqsave(c.lock);
  if (c.at) writel(readl(c.base + CH_CONFIG) & ~CFG_H, c.base + CH_CONFIG);
  c.paused = false;
  spin_unlock_irqrestore(c.lock, flags);
  return 0;
}

function dmac_terminate_all(chan: dma_chan): number {
  const c = to_dmac_chan(chan);
  const head: virt_dma_desc[] = [];
  const flags = spin_lock_irqsave(c.lock);
  if (c.at) {
    // Disabling the channel aborts it: the hardware stops before this returns.
    writel(readl(c.base + CH_CONFIG) & ~(CFG_E | CFG_H), c.base + CH_CONFIG);
    writel(1 << c.id, c.d.base + DMAC_INT_TC_CLEAR);
    vchan_terminate_vdesc(c.at);
    c.at = null;
  }
  c.paused = false;
  vchan_get_all_descriptors(c, head);
  spin_unlock_irqrestore(c.lock, flags);
  vchan_dma_desc_free_list(c, head);
  return 0;
}

function dmac_synchronize(chan: dma_chan): void {
  vchan_synchronize(to_dmac_chan(chan));
}

function dmac_free_chan_resources(chan: dma_chan): void {
  const c = to_dmac_chan(chan);
  vchan_free_chan_resources(c);
  dmac_slave_unmap(c);
  c.signal = -1;
}

/** "dmas = <&dmac N>": any free channel, serving request line N. */
function dmac_xlate(spec: of_phandle_args, ofdma: of_dma): dma_chan | null {
  const d = ofdma.of_dma_data as dmac_dev;
  if (spec.args_count !== 1) return null;
  const chan = dma_get_any_slave_channel(d.dd);
  if (!chan) return null;
  to_dmac_chan(chan).signal = spec.args[0]!;
  return chan;
}

function dmac_probe(pdev: platform_device): number {
  const dev = pdev.dev;
  const base = devm_platform_ioremap_resource(pdev, 0);
  if (IS_ERR(base)) return PTR_ERR(base);
  let ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32));
  if (ret) return ret;
  const caps = readl(base + DMAC_CAPS);
  const d: dmac_dev = { pdev, dd: dma_device_zero(), base, pool: null, chans: [], can_pause: !!(caps & CAPS_PAUSE) };
  d.pool = dma_pool_create('dmac-lli', dev, LLI_SIZE, LLI_SIZE, 0);
  if (!d.pool) return -ENOMEM;
  const dd = d.dd;
  dd.dev = dev;
  dma_cap_set(DMA_MEMCPY, dd.cap_mask);
  dma_cap_set(DMA_SLAVE, dd.cap_mask);
  dma_cap_set(DMA_CYCLIC, dd.cap_mask);
  dma_cap_set(DMA_PRIVATE, dd.cap_mask);
  dd.src_addr_widths = BUSWIDTHS;
  dd.dst_addr_widths = BUSWIDTHS;
  dd.directions = 1 << DMA_MEM_TO_DEV | 1 << DMA_DEV_TO_MEM;
  dd.max_burst = 256;
  dd.residue_granularity = (caps >> 4) & 3;
  dd.descriptor_reuse = true;
  dd.device_prep_dma_memcpy = dmac_prep_memcpy;
  dd.device_prep_slave_sg = dmac_prep_slave_sg;
  dd.device_prep_dma_cyclic = dmac_prep_cyclic;
  dd.device_issue_pending = dmac_issue_pending;
  dd.device_tx_status = dmac_tx_status;
  dd.device_config = dmac_config;
  if (d.can_pause) {
    dd.device_pause = dmac_pause;
    dd.device_resume = dmac_resume;
  }
  dd.device_terminate_all = dmac_terminate_all;
  dd.device_synchronize = dmac_synchronize;
  dd.device_free_chan_resources = dmac_free_chan_resources;
  const nchan = caps & 0xf;
  for (let i = 0; i < nchan; i++) {
    const irq = platform_get_irq(pdev, i);
    if (irq < 0) { ret = irq; break; }
    const c = { d, id: i, base: base + DMAC_CH_BASE + DMAC_CH_STRIDE * i, at: null, signal: -1, cfg: {}, paused: false, fifo: null,
      desc_free: dmac_desc_free } as unknown as dmac_chan;
    ret = devm_request_irq(dev, irq, dmac_irq, 0, dev_name(dev), c);
    if (ret) break;
    vchan_init(c, dd);
    d.chans.push(c);
  }
  if (!ret) {
    writel(1, base + DMAC_CONFIG);
    platform_set_drvdata(pdev, d);
    ret = dma_async_device_register(dd);
  }
  if (!ret) {
    ret = of_dma_controller_register(dev.of_node ?? null, dmac_xlate, d);
    if (ret) dma_async_device_unregister(dd);
  }
  if (ret) {
    writel(0, base + DMAC_CONFIG);
    dma_pool_destroy(d.pool);
  }
  return ret;
}

function dmac_remove(pdev: platform_device): number {
  const d = platform_get_drvdata<dmac_dev>(pdev);
  of_dma_controller_free(pdev.dev.of_node!);
  dma_async_device_unregister(d.dd);
  writel(0, d.base + DMAC_CONFIG);
  dma_pool_destroy(d.pool);
  return 0;
}

export const dmac_driver: platform_driver = {
  probe: dmac_probe,
  remove: dmac_remove,
  driver: { name: 'dmalab-dmac', of_match_table: [{ compatible: 'dmalab,dmac' }] },
};
