// Exercise 14: the dmaengine provider for pdma (sim/hw/pdma.ts), the PL330-flavoured controller
// whose channels are threads running programs of DMA instructions (lessons/14-dma-controller.md).
// On virt-dma, in the shape of the bundled provider (sim/drivers/dma/dmac.ts): each prep compiles
// its request into a program in a coherent dma_pool block, issue_pending starts the first issued
// one with DMAGO through the debug interface, the channel's event interrupt completes it (or
// reports a period of a cyclic one) and starts the next; residue comes from SAR/DAR, as
// pl330_get_current_xferred_count() reads it; terminate kills the thread and waits for it.
// Compare drivers/dma/pl330.c: _emit_*(), _setup_loops(), _bursts(), _execute_DBGINSN(),
// _start(), _stop(), pl330_tx_status(), pl330_prep_slave_fifo().
//
// Device tree: compatible = "dmalab,pdma"; #dma-cells = <1>: the peripheral's request line.
import { platform_get_irq, devm_platform_ioremap_resource, platform_set_drvdata, platform_get_drvdata,
  type platform_device, type platform_driver } from '#linux/platform_device';
import { readl, writel, type iomem } from '#linux/io';
import { readl_poll_timeout_atomic } from '#linux/iopoll';
import { devm_request_irq, tasklet_kill, IRQ_HANDLED, IRQ_NONE } from '#linux/interrupt';
import { spin_lock, spin_unlock, spin_lock_irqsave, spin_unlock_irqrestore } from '#linux/spinlock';
import { IS_ERR, PTR_ERR } from '#linux/err';
import { EINVAL, ENODEV, ENOMEM, ETIMEDOUT } from '#linux/errno';
import { dev_err, dev_info, dev_name } from '#linux/device';
import { GFP_NOWAIT } from '#linux/gfp';
import { dma_set_mask_and_coherent, dma_map_resource, dma_unmap_resource, dma_mapping_error, DMA_BIT_MASK,
  DMA_TO_DEVICE, DMA_FROM_DEVICE } from '#linux/dma-mapping';
import { dma_pool_create, dma_pool_alloc, dma_pool_free, dma_pool_destroy, type dma_pool } from '#linux/dmapool';
import { sg_dma_address, sg_dma_len, type scatterlist } from '#linux/scatterlist';
import { list_del } from '#linux/list';
import { copy_to_mem } from '#dmalab/mem';
import { out } from '#dmalab/ref';
import { dma_device_zero, dma_cap_set, dma_async_device_register, dma_async_device_unregister, dma_get_any_slave_channel,
  is_slave_direction, DMA_MEMCPY, DMA_SLAVE, DMA_CYCLIC, DMA_PRIVATE, DMA_MEM_TO_MEM, DMA_MEM_TO_DEV, DMA_DEV_TO_MEM,
  DMA_COMPLETE, DMA_IN_PROGRESS, DMA_PAUSED, DMA_SLAVE_BUSWIDTH_1_BYTE, DMA_SLAVE_BUSWIDTH_2_BYTES,
  DMA_SLAVE_BUSWIDTH_4_BYTES, DMA_RESIDUE_GRANULARITY_BURST, DMA_TRANS_READ_FAILED, DMA_TRANS_WRITE_FAILED,
  DMAENGINE_ALIGN_4_BYTES, type dma_device, type dma_chan, type dma_async_tx_descriptor, type dma_slave_config,
  type dma_tx_state, type dma_cookie_t, type dma_status } from '#linux/dmaengine';
import { of_dma_controller_register, of_dma_controller_free, type of_dma } from '#linux/of_dma';
import type { of_phandle_args } from '#linux/of';
import { dma_cookie_status, dma_set_residue } from '#drivers/dma/dmaengine';
import { vchan_init, vchan_tx_prep, vchan_issue_pending, vchan_next_desc, vchan_cookie_complete, vchan_cyclic_callback,
  vchan_terminate_vdesc, vchan_get_all_descriptors, vchan_dma_desc_free_list, vchan_find_desc, vchan_synchronize,
  vchan_free_chan_resources, to_virt_chan, type virt_dma_chan, type virt_dma_desc } from '#drivers/dma/virt-dma';

// ---- the hardware (sim/hw/pdma.ts has the whole map; offsets and encodings are pl330.c's) -------
export const PDMA_INTEN = 0x020, PDMA_INTMIS = 0x028, PDMA_INTCLR = 0x02c, PDMA_FSRD = 0x030, PDMA_FSRC = 0x034;
export const PDMA_FTR = (n: number) => 0x040 + 4 * n, PDMA_CSR = (n: number) => 0x100 + 8 * n,
  PDMA_CPC = (n: number) => 0x104 + 8 * n, PDMA_SAR = (n: number) => 0x400 + 0x20 * n,
  PDMA_DAR = (n: number) => 0x404 + 0x20 * n, PDMA_CHHALT = (n: number) => 0x500 + 4 * n;
export const PDMA_DBGSTATUS = 0xd00, PDMA_DBGCMD = 0xd04, PDMA_DBGINST0 = 0xd08, PDMA_DBGINST1 = 0xd0c,
  PDMA_CR0 = 0xe00, PDMA_PERIPH_ID = 0xfe0;
export const PDMA_PERIPH_ID_VAL = 0x41330;
/** CSR [3:0]. */
export const CS_STOPPED = 0, CS_EXECUTING = 1, CS_HALTED = 2, CS_MASK = 0xf;
/** FTR: the fault types a provider turns into results. */
export const FT_DATA_WRITE = 1 << 17, FT_DATA_READ = 1 << 18;
export const CMD_DMAEND = 0x00, CMD_DMAKILL = 0x01, CMD_DMALD = 0x04, CMD_DMAST = 0x08, CMD_DMAWMB = 0x13,
  CMD_DMALP = 0x20, CMD_DMALPFE = 0x28, CMD_DMALPEND = 0x38, CMD_DMAWFP = 0x32, CMD_DMASEV = 0x34,
  CMD_DMAFLUSHP = 0x35, CMD_DMAGO = 0xa0, CMD_DMAMOV = 0xbc;
export const MOV_SAR = 0, MOV_CCR = 1, MOV_DAR = 2;
export const CC_SRCINC = 1 << 0, CC_DSTINC = 1 << 14, CC_SRCBRSTSIZE_SHFT = 1, CC_SRCBRSTLEN_SHFT = 4,
  CC_DSTBRSTSIZE_SHFT = 15, CC_DSTBRSTLEN_SHFT = 18;
/** The manager thread, for pdma_exec(). */
export const PDMA_MANAGER = -1;

/** A program's room in the pool (pl330.c's MCODE_BUFF_PER_REQ, smaller). */
export const PDMA_PROG_SIZE = 1024;
export const PDMA_MAX_MEMCPY = 1 << 20, PDMA_MAX_SG = 32, PDMA_MAX_PERIODS = 64, PDMA_MAX_BURST = 16;
/** How long the debug interface or a stopping thread may take (a few bursts; pl330.c waits 5 ms). */
const PDMA_TIMEOUT_US = 50;
const BUSWIDTHS = 1 << DMA_SLAVE_BUSWIDTH_1_BYTE | 1 << DMA_SLAVE_BUSWIDTH_2_BYTES | 1 << DMA_SLAVE_BUSWIDTH_4_BYTES;

// ---- the encoders: each writes one instruction at buf[at] and returns the next offset ------------
// A program is assembled in a CPU buffer of PDMA_PROG_SIZE (nothing is written past its end; the
// returned offset says how long it would be) and then copied into its pool block.
function emit(buf: Uint8Array, at: number, ...bytes: number[]): number {
  if (at + bytes.length <= buf.length) buf.set(bytes, at);
  return at + bytes.length;
}
export function pdma_emit_mov(buf: Uint8Array, at: number, reg: number, val: number): number {
  val >>>= 0;
  return emit(buf, at, CMD_DMAMOV, reg, val & 0xff, (val >>> 8) & 0xff, (val >>> 16) & 0xff, val >>> 24);
}
export function pdma_emit_lp(buf: Uint8Array, at: number, lc: number, n: number): number {
  return emit(buf, at, CMD_DMALP | lc << 1, n - 1);
}
/** Back `back` bytes, to the loop's first instruction, while the counter is not 0. */
export function pdma_emit_lpend(buf: Uint8Array, at: number, lc: number, back: number): number {
  return emit(buf, at, CMD_DMALPEND | lc << 2, back);
}
export function pdma_emit_lpfe(buf: Uint8Array, at: number, back: number): number {
  return emit(buf, at, CMD_DMALPFE, back);
}
export function pdma_emit_ld(buf: Uint8Array, at: number): number { return emit(buf, at, CMD_DMALD); }
export function pdma_emit_st(buf: Uint8Array, at: number): number { return emit(buf, at, CMD_DMAST); }
export function pdma_emit_wfp(buf: Uint8Array, at: number, p: number): number { return emit(buf, at, CMD_DMAWFP, p << 3); }
export function pdma_emit_flushp(buf: Uint8Array, at: number, p: number): number { return emit(buf, at, CMD_DMAFLUSHP, p << 3); }
export function pdma_emit_sev(buf: Uint8Array, at: number, e: number): number { return emit(buf, at, CMD_DMASEV, e << 3); }
export function pdma_emit_wmb(buf: Uint8Array, at: number): number { return emit(buf, at, CMD_DMAWMB); }
export function pdma_emit_end(buf: Uint8Array, at: number): number { return emit(buf, at, CMD_DMAEND); }

/** CCR for bursts of `len` beats of `width` bytes on both sides. */
export function pdma_ccr(width: number, len: number, src_inc: boolean, dst_inc: boolean): number {
  const size = width === 4 ? 2 : width === 2 ? 1 : 0;
  return ((src_inc ? CC_SRCINC : 0) | size << CC_SRCBRSTSIZE_SHFT | (len - 1) << CC_SRCBRSTLEN_SHFT |
    (dst_inc ? CC_DSTINC : 0) | size << CC_DSTBRSTSIZE_SHFT | (len - 1) << CC_DSTBRSTLEN_SHFT) >>> 0;
}

// ---- the structs -------------------------------------------------------------------------------
export interface pdma_desc extends virt_dma_desc {
  /** The program: its CPU address and the bus address DMAGO is given. */
  prog: number;
  prog_dma: number;
  /** The memory side, in program order (for the residue), and the total. */
  segs: { addr: number; len: number }[];
  bytes: number;
  /** SAR walks the memory side (MEM_TO_DEV); else DAR does (DEV_TO_MEM, and a copy's writes). */
  src_inc: boolean;
  cyclic: boolean;
  dir: number;
}

export interface pdma_chan extends virt_dma_chan {
  d: pdma_dev;
  id: number;
  /** The descriptor the thread runs, off every list (or null). */
  active: pdma_desc | null;
  cfg: dma_slave_config;
  /** The peripheral's FIFO as the controller addresses it (dma_map_resource()), mapped once. */
  fifo: { phys: number; dma: number; size: number; dir: number } | null;
  /** The request line from the device tree, -1 for memcpy channels. */
  request: number;
  paused: boolean;
}

export interface pdma_dev {
  pdev: platform_device;
  regs: iomem;
  ddev: dma_device;
  pool: dma_pool | null;
  chans: pdma_chan[];
  nr_events: number;
  requests: number;
  can_pause: boolean;
}

function to_pdma_chan(chan: dma_chan): pdma_chan {
  return to_virt_chan<pdma_chan>(chan);
}

// ---- the debug interface -----------------------------------------------------------------------
/** Execute one instruction on the manager (PDMA_MANAGER) or a channel thread, as
 *  _execute_DBGINSN(): wait until the interface is idle (a command written while it is busy is
 *  dropped), then DBGINST0/1 and DBGCMD. It takes effect when DBGSTATUS goes idle again. */
export function pdma_exec(d: pdma_dev, thread: number, insn: Uint8Array): number {
  if (readl_poll_timeout_atomic(d.regs + PDMA_DBGSTATUS, null, (v) => !(v & 1), 0, PDMA_TIMEOUT_US)) {
    dev_err(d.pdev.dev, 'DMAC halted!\n');
    return -ETIMEDOUT;
  }
  const b = (i: number) => insn[i] ?? 0;
  writel((thread >= 0 ? 1 | thread << 8 : 0) | b(0) << 16 | b(1) << 24, d.regs + PDMA_DBGINST0);
  writel((b(2) | b(3) << 8 | b(4) << 16 | b(5) << 24) >>> 0, d.regs + PDMA_DBGINST1);
  writel(0, d.regs + PDMA_DBGCMD);
  return 0;
}

/** DMAGO channel c at prog_dma (_start()), and wait for the interface: when this returns the
 *  thread runs its new program, so SAR/DAR are this descriptor's for tx_status. */
export function pdma_go(c: pdma_chan, prog_dma: number): number {
  const a = prog_dma >>> 0;
  const ret = pdma_exec(c.d, PDMA_MANAGER, Uint8Array.of(CMD_DMAGO, c.id, a & 0xff, (a >>> 8) & 0xff, (a >>> 16) & 0xff, a >>> 24));
  if (ret) return ret;
  return readl_poll_timeout_atomic(c.d.regs + PDMA_DBGSTATUS, null, (v) => !(v & 1), 0, PDMA_TIMEOUT_US);
}

/** DMAKILL the thread (_stop()) and wait until CSR says stopped: the burst on the bus lands,
 *  nothing after it. */
function pdma_kill(c: pdma_chan): number {
  const ret = pdma_exec(c.d, c.id, Uint8Array.of(CMD_DMAKILL));
  if (ret) return ret;
  return readl_poll_timeout_atomic(c.d.regs + PDMA_CSR(c.id), null, (v) => (v & CS_MASK) === CS_STOPPED, 0, PDMA_TIMEOUT_US);
}

// ---- descriptors -------------------------------------------------------------------------------
function pdma_desc_free(vd: virt_dma_desc): void {
  const pd = vd as pdma_desc;
  const c = to_pdma_chan(vd.tx.chan);
  dma_pool_free(c.d.pool!, pd.prog, pd.prog_dma);
}

/** Store an assembled program of `len` bytes in a pool block and wrap it in a descriptor. */
function pdma_desc_new(c: pdma_chan, buf: Uint8Array, len: number, fields: Omit<pdma_desc, 'prog' | 'prog_dma' |
  'tx' | 'tx_result' | 'node'>, flags: number): dma_async_tx_descriptor | null {
  if (len > PDMA_PROG_SIZE) {
    dev_err(c.d.pdev.dev, 'channel %d: a %d-byte program does not fit in %d bytes\n', c.id, len, PDMA_PROG_SIZE);
    return null;
  }
  const dma = out(0);
  // Prep may be called in atomic context: GFP_NOWAIT, and NULL when the pool is dry.
  const prog = dma_pool_alloc(c.d.pool!, GFP_NOWAIT, dma);
  if (!prog) return null;
  copy_to_mem(prog, buf.subarray(0, len));
  const pd = { ...fields, prog, prog_dma: dma.value } as pdma_desc;
  return vchan_tx_prep(c, pd, flags);
}

/** n bursts of `body` (the instructions of one burst), in loops of at most 256 (LC0), nested in
 *  LC1 for more, blocks repeated for more than 65536 (_setup_loops() and _bursts()). */
function pdma_emit_bursts(buf: Uint8Array, at: number, n: number, body: (buf: Uint8Array, at: number) => number): number {
  while (n > 0) {
    if (n > 256) {
      const outer = Math.min(256, Math.floor(n / 256));
      at = pdma_emit_lp(buf, at, 1, outer);
      const top1 = at;
      at = pdma_emit_lp(buf, at, 0, 256);
      const top0 = at;
      at = body(buf, at);
      at = pdma_emit_lpend(buf, at, 0, at - top0);
      at = pdma_emit_lpend(buf, at, 1, at - top1);
      n -= outer * 256;
    } else {
      at = pdma_emit_lp(buf, at, 0, n);
      const top = at;
      at = body(buf, at);
      at = pdma_emit_lpend(buf, at, 0, at - top);
      n = 0;
    }
  }
  return at;
}

const copy_burst = (buf: Uint8Array, at: number) => pdma_emit_st(buf, pdma_emit_ld(buf, at));

/** The event of channel c's programs: its own (one per channel). */
const event_of = (c: pdma_chan) => c.id;

function pdma_prep_memcpy(chan: dma_chan, dst: number, src: number, len: number, flags: number): dma_async_tx_descriptor | null {
  const c = to_pdma_chan(chan);
  if (!len || len > PDMA_MAX_MEMCPY) return null;
  // Beats as wide as the addresses and length allow; bursts of 16 beats, then single beats.
  const width = (src | dst | len) & 1 ? 1 : (src | dst | len) & 2 ? 2 : 4;
  const burst = PDMA_MAX_BURST * width;
  const buf = new Uint8Array(PDMA_PROG_SIZE);
  let at = pdma_emit_mov(buf, 0, MOV_SAR, src);
  at = pdma_emit_mov(buf, at, MOV_DAR, dst);
  if (len >= burst) {
    at = pdma_emit_mov(buf, at, MOV_CCR, pdma_ccr(width, PDMA_MAX_BURST, true, true));
    at = pdma_emit_bursts(buf, at, Math.floor(len / burst), copy_burst);
  }
  if (len % burst) {
    at = pdma_emit_mov(buf, at, MOV_CCR, pdma_ccr(width, 1, true, true));
    at = pdma_emit_bursts(buf, at, (len % burst) / width, copy_burst);
  }
  at = pdma_emit_wmb(buf, at);
  at = pdma_emit_sev(buf, at, event_of(c));
  at = pdma_emit_end(buf, at);
  return pdma_desc_new(c, buf, at, { segs: [{ addr: dst, len }], bytes: len, src_inc: false, cyclic: false,
    dir: DMA_MEM_TO_MEM }, flags);
}

function pdma_slave_unmap(c: pdma_chan): void {
  if (c.fifo) dma_unmap_resource(c.d.pdev.dev, c.fifo.dma, c.fifo.size, c.fifo.dir, 0);
  c.fifo = null;
}

/** The FIFO's physical address mapped for the controller, once per address and direction
 *  (pl330_prep_slave_fifo()): behind an IOMMU it needs an IOVA like any buffer. */
function pdma_slave_map(c: pdma_chan, phys: number, size: number, dir: number): number {
  const rdir = dir === DMA_MEM_TO_DEV ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
  if (c.fifo && c.fifo.phys === phys && c.fifo.dir === rdir && c.fifo.size === size) return c.fifo.dma;
  pdma_slave_unmap(c);
  const dma = dma_map_resource(c.d.pdev.dev, phys, size, rdir, 0);
  if (dma_mapping_error(c.d.pdev.dev, dma)) return 0;
  c.fifo = { phys, dma, size, dir: rdir };
  return dma;
}

/** The slave side from the saved config: the FIFO's bus address, width and burst length. */
interface pdma_slave_side { fifo: number; width: number; burst: number }
function pdma_slave(c: pdma_chan, dir: number): pdma_slave_side | null {
  const to_dev = dir === DMA_MEM_TO_DEV;
  const phys = (to_dev ? c.cfg.dst_addr : c.cfg.src_addr) ?? 0;
  const width = (to_dev ? c.cfg.dst_addr_width : c.cfg.src_addr_width) ?? 0;
  const burst = Math.min((to_dev ? c.cfg.dst_maxburst : c.cfg.src_maxburst) || 1, PDMA_MAX_BURST);
  if (!phys || !(BUSWIDTHS & (1 << width)) || c.request < 0) {
    dev_err(c.d.pdev.dev, 'channel %d: no FIFO address, request line or a bad bus width (%d) for a slave transfer\n', c.id, width);
    return null;
  }
  const fifo = pdma_slave_map(c, phys, width, dir);
  return fifo ? { fifo, width, burst } : null;
}

/** Bursts to or from the FIFO over `len` bytes of the memory side, from where it is: per burst
 *  DMAWFP; DMALD; DMAST, whole bursts first, then single beats. */
function pdma_emit_slave_bursts(c: pdma_chan, buf: Uint8Array, at: number, s: pdma_slave_side, to_dev: boolean,
  len: number): number {
  const p = c.request;
  const body = (b: Uint8Array, a: number) => pdma_emit_st(b, pdma_emit_ld(b, pdma_emit_wfp(b, a, p)));
  const bytes = s.width * s.burst;
  if (len >= bytes) {
    at = pdma_emit_mov(buf, at, MOV_CCR, pdma_ccr(s.width, s.burst, to_dev, !to_dev));
    at = pdma_emit_bursts(buf, at, Math.floor(len / bytes), body);
  }
  if (len % bytes) {
    at = pdma_emit_mov(buf, at, MOV_CCR, pdma_ccr(s.width, 1, to_dev, !to_dev));
    at = pdma_emit_bursts(buf, at, (len % bytes) / s.width, body);
  }
  return at;
}

function pdma_prep_slave_sg(chan: dma_chan, sgl: scatterlist[] | scatterlist, sg_len: number, dir: number,
  flags: number): dma_async_tx_descriptor | null {
  const c = to_pdma_chan(chan);
  if (!is_slave_direction(dir) || sg_len < 1 || sg_len > PDMA_MAX_SG) return null;
  const s = pdma_slave(c, dir);
  if (!s) return null;
  const to_dev = dir === DMA_MEM_TO_DEV;
  // The list may be on the client's stack (dmaengine_prep_slave_single()): copy what we need.
  const list = Array.isArray(sgl) ? sgl : [sgl];
  const segs: { addr: number; len: number }[] = [];
  for (let i = 0; i < sg_len; i++) {
    const len = sg_dma_len(list[i]!);
    if (!len || len % s.width) return null;
    segs.push({ addr: sg_dma_address(list[i]!), len });
  }
  const buf = new Uint8Array(PDMA_PROG_SIZE);
  let at = pdma_emit_flushp(buf, 0, c.request);
  at = pdma_emit_mov(buf, at, to_dev ? MOV_DAR : MOV_SAR, s.fifo);
  for (const g of segs) {
    at = pdma_emit_mov(buf, at, to_dev ? MOV_SAR : MOV_DAR, g.addr);
    at = pdma_emit_slave_bursts(c, buf, at, s, to_dev, g.len);
  }
  at = pdma_emit_wmb(buf, at);
  at = pdma_emit_sev(buf, at, event_of(c));
  at = pdma_emit_end(buf, at);
  return pdma_desc_new(c, buf, at, { segs, bytes: segs.reduce((n, g) => n + g.len, 0), src_inc: to_dev, cyclic: false, dir },
    flags);
}

/** The ring: DMALPFE around the memory side's DMAMOV to the start and an LC1 loop of periods,
 *  each its bursts (at most 256 whole ones and 256 single beats) and the channel's event. */
function pdma_prep_cyclic(chan: dma_chan, buf_addr: number, buf_len: number, period_len: number, dir: number,
  flags: number): dma_async_tx_descriptor | null {
  const c = to_pdma_chan(chan);
  if (!is_slave_direction(dir) || !period_len || buf_len % period_len || buf_len / period_len > PDMA_MAX_PERIODS) return null;
  const s = pdma_slave(c, dir);
  if (!s || period_len % s.width || period_len / (s.width * s.burst) > 256) return null;
  const to_dev = dir === DMA_MEM_TO_DEV;
  const buf = new Uint8Array(PDMA_PROG_SIZE);
  let at = pdma_emit_flushp(buf, 0, c.request);
  at = pdma_emit_mov(buf, at, to_dev ? MOV_DAR : MOV_SAR, s.fifo);
  const lap = at;
  at = pdma_emit_mov(buf, at, to_dev ? MOV_SAR : MOV_DAR, buf_addr);
  at = pdma_emit_lp(buf, at, 1, buf_len / period_len);
  const period = at;
  at = pdma_emit_slave_bursts(c, buf, at, s, to_dev, period_len);
  at = pdma_emit_sev(buf, at, event_of(c));
  at = pdma_emit_lpend(buf, at, 1, at - period);
  at = pdma_emit_lpfe(buf, at, at - lap);
  return pdma_desc_new(c, buf, at, { segs: [{ addr: buf_addr, len: buf_len }], bytes: buf_len, src_inc: to_dev, cyclic: true, dir },
    flags);
}

// ---- starting and completing -------------------------------------------------------------------
/** Take the next issued descriptor to the thread (vc.lock held). */
function pdma_start_next(c: pdma_chan): void {
  const vd = vchan_next_desc(c) as pdma_desc | null;
  c.active = vd;
  if (!vd) return;
  list_del(vd.node);
  if (pdma_go(c, vd.prog_dma)) dev_err(c.d.pdev.dev, 'channel %d: DMAGO not taken\n', c.id);
}

function pdma_issue_pending(chan: dma_chan): void {
  const c = to_pdma_chan(chan);
  const flags = spin_lock_irqsave(c.lock);
  if (vchan_issue_pending(c) && !c.active) pdma_start_next(c);
  spin_unlock_irqrestore(c.lock, flags);
}

/** Bytes of pd the thread has yet to move: its SAR or DAR against the segments, as
 *  pl330_get_current_xferred_count(); a cyclic one over the ring. Lock held. */
function pdma_residue(c: pdma_chan, pd: pdma_desc): number {
  const pos = readl(c.d.regs + (pd.src_inc ? PDMA_SAR(c.id) : PDMA_DAR(c.id)));
  let done = 0;
  for (const g of pd.segs) {
    if (pos >= g.addr && pos <= g.addr + g.len) {
      done += pos - g.addr;
      return pd.cyclic ? pd.bytes - (done % pd.bytes) : pd.bytes - done;
    }
    done += g.len;
  }
  return pd.bytes;
}

/** The channel's event: the active descriptor ended, or a period of a cyclic one did. */
function pdma_event_irq(_irq: number, c: pdma_chan): number {
  const bit = 1 << event_of(c);
  if (!(readl(c.d.regs + PDMA_INTMIS) & bit)) return IRQ_NONE;
  writel(bit, c.d.regs + PDMA_INTCLR);
  spin_lock(c.lock);
  const pd = c.active;
  if (pd?.cyclic) {
    vchan_cyclic_callback(pd);
  } else if (pd) {
    // Exactly the one that finished; its callback runs later, from the tasklet.
    vchan_cookie_complete(pd);
    pdma_start_next(c);
  }
  spin_unlock(c.lock);
  return IRQ_HANDLED;
}

/** The abort line: each faulting channel's descriptor completes with the fault as its result. */
function pdma_abort_irq(_irq: number, d: pdma_dev): number {
  const fsrc = readl(d.regs + PDMA_FSRC), fsrd = readl(d.regs + PDMA_FSRD);
  if (!fsrc && !fsrd) return IRQ_NONE;
  if (fsrd) {
    dev_err(d.pdev.dev, 'manager thread fault\n');
    pdma_exec(d, PDMA_MANAGER, Uint8Array.of(CMD_DMAKILL));
  }
  for (const c of d.chans) {
    if (!(fsrc & 1 << c.id)) continue;
    spin_lock(c.lock);
    const ftr = readl(d.regs + PDMA_FTR(c.id));
    const pd = c.active;
    dev_err(d.pdev.dev, 'channel %d: fault 0x%08x at 0x%08x, transfer stopped\n', c.id, ftr, readl(d.regs + PDMA_CPC(c.id)));
    if (pd) {
      pd.tx_result.result = ftr & FT_DATA_WRITE ? DMA_TRANS_WRITE_FAILED : DMA_TRANS_READ_FAILED;
      pd.tx_result.residue = pdma_residue(c, pd);
    }
    pdma_kill(c);
    if (pd) {
      vchan_cookie_complete(pd);
      pdma_start_next(c);
    }
    spin_unlock(c.lock);
  }
  return IRQ_HANDLED;
}

function pdma_tx_status(chan: dma_chan, cookie: dma_cookie_t, txstate: dma_tx_state | null): dma_status {
  const c = to_pdma_chan(chan);
  let ret = dma_cookie_status(chan, cookie, txstate);
  if (ret === DMA_COMPLETE || !txstate) return ret;
  const flags = spin_lock_irqsave(c.lock);
  if (c.active && c.active.tx.cookie === cookie) {
    dma_set_residue(txstate, pdma_residue(c, c.active));
  } else {
    const vd = vchan_find_desc(c, cookie) as pdma_desc | null;
    dma_set_residue(txstate, vd ? vd.bytes : 0);
  }
  if (c.paused && ret === DMA_IN_PROGRESS) ret = DMA_PAUSED;
  spin_unlock_irqrestore(c.lock, flags);
  return ret;
}

function pdma_config(chan: dma_chan, cfg: dma_slave_config): number {
  const c = to_pdma_chan(chan);
  for (const w of [cfg.src_addr_width, cfg.dst_addr_width]) if (w && !(BUSWIDTHS & (1 << w))) return -EINVAL;
  for (const b of [cfg.src_maxburst, cfg.dst_maxburst]) if (b && b > PDMA_MAX_BURST) return -EINVAL;
  c.cfg = { ...cfg };
  return 0;
}

/** CHHALT, and wait until the thread has stopped moving (the burst on the bus lands first). */
function pdma_pause(chan: dma_chan): number {
  const c = to_pdma_chan(chan);
  const flags = spin_lock_irqsave(c.lock);
  writel(1, c.d.regs + PDMA_CHHALT(c.id));
  const ret = readl_poll_timeout_atomic(c.d.regs + PDMA_CSR(c.id), null, (v) => (v & CS_MASK) !== CS_EXECUTING, 0, PDMA_TIMEOUT_US);
  if (!ret) c.paused = true;
  spin_unlock_irqrestore(c.lock, flags);
  return ret;
}

function pdma_resume(chan: dma_chan): number {
  const c = to_pdma_chan(chan);
  const flags = spin_lock_irqsave(c.lock);
  writel(0, c.d.regs + PDMA_CHHALT(c.id));
  const ret = readl_poll_timeout_atomic(c.d.regs + PDMA_CSR(c.id), null, (v) => (v & CS_MASK) !== CS_HALTED, 0, PDMA_TIMEOUT_US);
  c.paused = false;
  spin_unlock_irqrestore(c.lock, flags);
  return ret;
}

function pdma_terminate_all(chan: dma_chan): number {
  const c = to_pdma_chan(chan);
  const head: virt_dma_desc[] = [];
  const flags = spin_lock_irqsave(c.lock);
  if (c.active) {
    // The hardware stops before this returns: the client frees its buffers on the strength of it.
    pdma_kill(c);
    writel(1 << event_of(c), c.d.regs + PDMA_INTCLR);
    vchan_terminate_vdesc(c.active);
    c.active = null;
  }
  if (c.paused) writel(0, c.d.regs + PDMA_CHHALT(c.id));
  c.paused = false;
  vchan_get_all_descriptors(c, head);
  spin_unlock_irqrestore(c.lock, flags);
  vchan_dma_desc_free_list(c, head);
  return 0;
}

function pdma_synchronize(chan: dma_chan): void {
  vchan_synchronize(to_pdma_chan(chan));
}

function pdma_free_chan_resources(chan: dma_chan): void {
  const c = to_pdma_chan(chan);
  vchan_free_chan_resources(c);
  pdma_slave_unmap(c);
  c.request = -1;
}

/** "dmas = <&pdma N>": any free channel, waiting on request line N. */
function pdma_xlate(spec: of_phandle_args, ofdma: of_dma): dma_chan | null {
  const d = ofdma.of_dma_data as pdma_dev;
  if (spec.args_count !== 1 || spec.args[0]! >= d.requests) return null;
  const chan = dma_get_any_slave_channel(d.ddev);
  if (!chan) return null;
  to_pdma_chan(chan).request = spec.args[0]!;
  return chan;
}

// ---- probe and remove --------------------------------------------------------------------------
/** Does CHHALT hold? (A controller without it reads 0 back.) Channel 0 is stopped at probe. */
function pdma_halt_works(regs: iomem): boolean {
  writel(1, regs + PDMA_CHHALT(0));
  const ok = (readl(regs + PDMA_CHHALT(0)) & 1) !== 0;
  writel(0, regs + PDMA_CHHALT(0));
  return ok;
}

function pdma_probe(pdev: platform_device): number {
  const dev = pdev.dev;
  const regs = devm_platform_ioremap_resource(pdev, 0);
  if (IS_ERR(regs)) return PTR_ERR(regs);
  let id = 0;
  for (let i = 0; i < 4; i++) id |= (readl(regs + PDMA_PERIPH_ID + 4 * i) & 0xff) << 8 * i;
  if ((id & 0xfffff) !== PDMA_PERIPH_ID_VAL) {
    dev_err(dev, 'not a pdma (peripheral ID 0x%08x)\n', id);
    return -ENODEV;
  }
  const cr0 = readl(regs + PDMA_CR0);
  const nchan = ((cr0 >>> 4) & 7) + 1, requests = ((cr0 >>> 12) & 0x1f) + 1, nr_events = ((cr0 >>> 17) & 0x1f) + 1;
  let ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32));
  if (ret) return ret;
  const d: pdma_dev = { pdev, regs, ddev: dma_device_zero(), pool: null, chans: [], nr_events, requests,
    can_pause: pdma_halt_works(regs) };
  d.pool = dma_pool_create('pdma-prog', dev, PDMA_PROG_SIZE, 32, 0);
  if (!d.pool) return -ENOMEM;
  const dd = d.ddev;
  dd.dev = dev;
  dma_cap_set(DMA_MEMCPY, dd.cap_mask);
  dma_cap_set(DMA_SLAVE, dd.cap_mask);
  dma_cap_set(DMA_CYCLIC, dd.cap_mask);
  dma_cap_set(DMA_PRIVATE, dd.cap_mask);
  dd.src_addr_widths = BUSWIDTHS;
  dd.dst_addr_widths = BUSWIDTHS;
  dd.directions = 1 << DMA_MEM_TO_DEV | 1 << DMA_DEV_TO_MEM;
  dd.max_burst = PDMA_MAX_BURST;
  dd.copy_align = DMAENGINE_ALIGN_4_BYTES;
  dd.residue_granularity = DMA_RESIDUE_GRANULARITY_BURST;
  dd.descriptor_reuse = true;
  dd.device_prep_dma_memcpy = pdma_prep_memcpy;
  dd.device_prep_slave_sg = pdma_prep_slave_sg;
  dd.device_prep_dma_cyclic = pdma_prep_cyclic;
  dd.device_issue_pending = pdma_issue_pending;
  dd.device_tx_status = pdma_tx_status;
  dd.device_config = pdma_config;
  if (d.can_pause) {
    dd.device_pause = pdma_pause;
    dd.device_resume = pdma_resume;
  }
  dd.device_terminate_all = pdma_terminate_all;
  dd.device_synchronize = pdma_synchronize;
  dd.device_free_chan_resources = pdma_free_chan_resources;
  // One event (and its interrupt line) per channel.
  for (let i = 0; i < Math.min(nchan, nr_events); i++) {
    const c = { d, id: i, active: null, cfg: {}, fifo: null, request: -1, paused: false,
      desc_free: pdma_desc_free } as unknown as pdma_chan;
    vchan_init(c, dd);
    d.chans.push(c);
  }
  // The handlers find the channels initialised; the abort line is the one after the events.
  for (const c of d.chans) {
    const irq = platform_get_irq(pdev, event_of(c));
    ret = irq < 0 ? irq : devm_request_irq(dev, irq, pdma_event_irq, 0, dev_name(dev), c);
    if (ret) break;
  }
  if (!ret) {
    const irq = platform_get_irq(pdev, nr_events);
    ret = irq < 0 ? irq : devm_request_irq(dev, irq, pdma_abort_irq, 0, dev_name(dev), d);
  }
  if (!ret) {
    writel((1 << d.chans.length) - 1, regs + PDMA_INTEN);
    platform_set_drvdata(pdev, d);
    ret = dma_async_device_register(dd);
  }
  if (!ret) {
    ret = of_dma_controller_register(dev.of_node ?? null, pdma_xlate, d);
    if (ret) dma_async_device_unregister(dd);
  }
  if (ret) {
    writel(0, regs + PDMA_INTEN);
    dma_pool_destroy(d.pool);
    return ret;
  }
  dev_info(dev, 'Loaded driver for PL330-like pdma, %d channels, %d events, %d request lines\n', d.chans.length,
    nr_events, requests);
  return 0;
}

function pdma_remove(pdev: platform_device): number {
  const d = platform_get_drvdata<pdma_dev>(pdev);
  of_dma_controller_free(pdev.dev.of_node!);
  dma_async_device_unregister(d.ddev);
  // No client can start anything now: every thread stopped, no event raised, no tasklet left.
  writel(0, d.regs + PDMA_INTEN);
  for (const c of d.chans) {
    pdma_terminate_all(c.chan);
    tasklet_kill(c.task);
  }
  dma_pool_destroy(d.pool);
  return 0;
}

export const pdma_driver: platform_driver = {
  probe: pdma_probe,
  remove: pdma_remove,
  driver: { name: 'dmalab-pdma', of_match_table: [{ compatible: 'dmalab,pdma' }] },
};
