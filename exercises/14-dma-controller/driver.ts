// Exercise 14: the dmaengine provider for pdma (sim/hw/pdma.ts), the PL330-flavoured controller
// whose channels are threads running programs of DMA instructions (lessons/14-dma-controller.md).
// Written: the register and instruction constants, the encoders, the debug interface (pdma_exec,
// pdma_go), the structs, probe up to reading CR0 and creating the pool, remove's skeleton.
// Yours, on virt-dma, in the shape of the bundled provider (sim/drivers/dma/dmac.ts, read it
// first): the preps as program generation, issue, the interrupt handlers completing cookies,
// tx_status with the residue of the active descriptor, config, pause/resume, terminate and
// synchronize, the struct dma_device and its registration. The TODOs say what; the lesson how.
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
  // TODO: pdma_exec() DMAKILL on the channel's thread, then poll CSR(c.id) until [3:0] reads
  // CS_STOPPED (readl_poll_timeout_atomic(), PDMA_TIMEOUT_US): a burst on the bus lands first.
  return -ETIMEDOUT;
}

// ---- descriptors -------------------------------------------------------------------------------
function pdma_desc_free(vd: virt_dma_desc): void {
  // TODO: virt-dma calls this once per descriptor: give its program back to the pool
  // (dma_pool_free() with the CPU address and the handle dma_pool_alloc() gave).
}

/** Store an assembled program of `len` bytes in a pool block and wrap it in a descriptor. */
function pdma_desc_new(c: pdma_chan, buf: Uint8Array, len: number, fields: Omit<pdma_desc, 'prog' | 'prog_dma' |
  'tx' | 'tx_result' | 'node'>, flags: number): dma_async_tx_descriptor | null {
  // TODO: NULL if the program is longer than PDMA_PROG_SIZE; a block from c.d.pool with GFP_NOWAIT
  // (preps run in atomic context; NULL when the pool is dry); copy_to_mem() the program into it;
  // the descriptor = fields + prog + prog_dma, made a dma_async_tx_descriptor by vchan_tx_prep().
  return null;
}

/** n bursts of `body` (the instructions of one burst), in loops of at most 256 (LC0), nested in
 *  LC1 for more, blocks repeated for more than 65536 (_setup_loops() and _bursts()). */
function pdma_emit_bursts(buf: Uint8Array, at: number, n: number, body: (buf: Uint8Array, at: number) => number): number {
  // TODO: n bursts: a DMALP lc0 (at most 256) around body, DMALPEND lc0 jumping back to the body's
  // first instruction; more than 256: an LC1 loop of LC0 loops of 256, then the rest. Returns the
  // offset after it (as the encoders do).
  return at;
}

const copy_burst = (buf: Uint8Array, at: number) => pdma_emit_st(buf, pdma_emit_ld(buf, at));

/** The event of channel c's programs: its own (one per channel). */
const event_of = (c: pdma_chan) => c.id;

function pdma_prep_memcpy(chan: dma_chan, dst: number, src: number, len: number, flags: number): dma_async_tx_descriptor | null {
  // TODO: NULL for 0 or more than PDMA_MAX_MEMCPY bytes. Beats as wide as src, dst and len allow
  // (4, 2 or 1 bytes); DMAMOV SAR, DAR; CCR for bursts of PDMA_MAX_BURST beats (both sides
  // incrementing) and the bursts; the rest with a CCR of one beat; DMAWMB; DMASEV event_of(c);
  // DMAEND. segs = [{ addr: dst, len }] (the copy's progress is what DAR has written).
  return null;
}

function pdma_slave_unmap(c: pdma_chan): void {
  // TODO: dma_unmap_resource() of c.fifo if mapped; c.fifo = null.
}

/** The FIFO's physical address mapped for the controller, once per address and direction
 *  (pl330_prep_slave_fifo()): behind an IOMMU it needs an IOVA like any buffer. */
function pdma_slave_map(c: pdma_chan, phys: number, size: number, dir: number): number {
  // TODO: as dmac_slave_map() in sim/drivers/dma/dmac.ts: reuse c.fifo for the same address,
  // size and direction, else dma_map_resource() on the controller's device (the controller writes
  // a MEM_TO_DEV FIFO: DMA_FROM_DEVICE), checked with dma_mapping_error(). 0 on failure.
  return 0;
}

/** The slave side from the saved config: the FIFO's bus address, width and burst length. */
interface pdma_slave_side { fifo: number; width: number; burst: number }
function pdma_slave(c: pdma_chan, dir: number): pdma_slave_side | null {
  // TODO: from the saved c.cfg: the FIFO's physical address (dst_addr for MEM_TO_DEV, src_addr
  // for DEV_TO_MEM), its width (1, 2 or 4) and burst (maxburst, at most PDMA_MAX_BURST; 0 = 1);
  // NULL without an address, a request line (c.request) or a good width. The FIFO mapped once
  // for the controller with pdma_slave_map().
  return null;
}

/** Bursts to or from the FIFO over `len` bytes of the memory side, from where it is: per burst
 *  DMAWFP; DMALD; DMAST, whole bursts first, then single beats. */
function pdma_emit_slave_bursts(c: pdma_chan, buf: Uint8Array, at: number, s: pdma_slave_side, to_dev: boolean,
  len: number): number {
  // TODO: as memcpy's bursts, each one DMAWFP c.request; DMALD; DMAST, with the memory side
  // incrementing and the FIFO's side not: whole bursts of s.burst beats of s.width, then single beats.
  return at;
}

function pdma_prep_slave_sg(chan: dma_chan, sgl: scatterlist[] | scatterlist, sg_len: number, dir: number,
  flags: number): dma_async_tx_descriptor | null {
  // TODO: is_slave_direction(); 1..PDMA_MAX_SG entries; pdma_slave(). Copy every entry's
  // sg_dma_address()/sg_dma_len() into segs (the list may be on the client's stack). The program:
  // DMAFLUSHP, DMAMOV of the FIFO side, per entry DMAMOV of the memory side and its bursts,
  // DMAWMB, DMASEV, DMAEND.
  return null;
}

/** The ring: DMALPFE around the memory side's DMAMOV to the start and an LC1 loop of periods,
 *  each its bursts (at most 256 whole ones and 256 single beats) and the channel's event. */
function pdma_prep_cyclic(chan: dma_chan, buf_addr: number, buf_len: number, period_len: number, dir: number,
  flags: number): dma_async_tx_descriptor | null {
  // TODO: buf_len whole periods, at most PDMA_MAX_PERIODS. DMAFLUSHP, DMAMOV of the FIFO side,
  // then for ever (DMALPFE back to here): DMAMOV of the memory side to buf_addr, an LC1 loop of
  // the periods, each its bursts (at most 256 of each kind: LC0 only) and DMASEV. cyclic: true.
  return null;
}

// ---- starting and completing -------------------------------------------------------------------
/** Take the next issued descriptor to the thread (vc.lock held). */
function pdma_start_next(c: pdma_chan): void {
  // TODO: the next issued descriptor (vchan_next_desc()) becomes c.active (null if none);
  // list_del() it from the issued list and pdma_go() its program.
}

function pdma_issue_pending(chan: dma_chan): void {
  // TODO: under the lock (irqsave): vchan_issue_pending(), and start the next if the channel is idle.
}

/** Bytes of pd the thread has yet to move: its SAR or DAR against the segments, as
 *  pl330_get_current_xferred_count(); a cyclic one over the ring. Lock held. */
function pdma_residue(c: pdma_chan, pd: pdma_desc): number {
  // TODO: SAR (pd.src_inc) or DAR of the thread against pd.segs, in order: the segment the address
  // is in (its end included) gives done = the segments before + how far into it; residue =
  // pd.bytes - done (cyclic: over the ring). pd.bytes when the address is in none.
  return pd.bytes;
}

/** The channel's event: the active descriptor ended, or a period of a cyclic one did. */
function pdma_event_irq(_irq: number, c: pdma_chan): number {
  // TODO: IRQ_NONE unless INTMIS has event_of(c); clear it in INTCLR; under spin_lock(c.lock): a
  // cyclic active descriptor: vchan_cyclic_callback(); another: vchan_cookie_complete() (the
  // callback comes from the tasklet), then start the next.
  return IRQ_NONE;
}

/** The abort line: each faulting channel's descriptor completes with the fault as its result. */
function pdma_abort_irq(_irq: number, d: pdma_dev): number {
  // TODO: IRQ_NONE unless FSRC or FSRD. Each faulting channel, under its lock: read FTR, set the
  // active descriptor's tx_result (FT_DATA_WRITE: DMA_TRANS_WRITE_FAILED, else _READ_FAILED; the
  // residue), pdma_kill(), vchan_cookie_complete(), start the next. A manager fault: DMAKILL it.
  return IRQ_NONE;
}

function pdma_tx_status(chan: dma_chan, cookie: dma_cookie_t, txstate: dma_tx_state | null): dma_status {
  // TODO: dma_cookie_status(); done or no txstate: return it. Under the lock: the active
  // descriptor's residue from pdma_residue(), a queued one's (vchan_find_desc()) whole; DMA_PAUSED
  // instead of DMA_IN_PROGRESS while c.paused.
  return DMA_COMPLETE;
}

function pdma_config(chan: dma_chan, cfg: dma_slave_config): number {
  // TODO: -EINVAL for a width pdma lacks (BUSWIDTHS) or a burst above PDMA_MAX_BURST; else keep a
  // copy in c.cfg (the client's struct may be on its stack).
  return -EINVAL;
}

/** CHHALT, and wait until the thread has stopped moving (the burst on the bus lands first). */
function pdma_pause(chan: dma_chan): number {
  // TODO: under the lock: CHHALT(c.id) = 1, poll CSR until the thread is not executing (a burst
  // on the bus lands first), c.paused = true.
  return -EINVAL;
}

function pdma_resume(chan: dma_chan): number {
  // TODO: under the lock: CHHALT(c.id) = 0, poll CSR until it is not halted, c.paused = false.
  return -EINVAL;
}

function pdma_terminate_all(chan: dma_chan): number {
  // TODO: lesson 14's pdma_terminate_all(): the hardware stopped (pdma_kill()) and its event
  // cleared, the active descriptor to vchan_terminate_vdesc(), CHHALT cleared, everything else
  // collected (vchan_get_all_descriptors()) and freed after the lock (vchan_dma_desc_free_list()).
  return 0;
}

function pdma_synchronize(chan: dma_chan): void {
  // TODO: vchan_synchronize().
}

function pdma_free_chan_resources(chan: dma_chan): void {
  // TODO: vchan_free_chan_resources(), unmap the FIFO, forget the request line.
}

/** "dmas = <&pdma N>": any free channel, waiting on request line N. */
function pdma_xlate(spec: of_phandle_args, ofdma: of_dma): dma_chan | null {
  // TODO: one cell, a request line below d.requests: any free channel (dma_get_any_slave_channel())
  // that remembers the line in its .request.
  return null;
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
  // TODO: the dma_device (dev; DMA_MEMCPY, DMA_SLAVE, DMA_CYCLIC, DMA_PRIVATE; widths, directions,
  // max_burst, copy_align, residue granularity; the ops, device_pause/device_resume only when
  // d.can_pause); per channel up to min(channels, events): a pdma_chan with desc_free, vchan_init();
  // the interrupts (each channel's event line, then the abort line: platform_get_irq(pdev,
  // nr_events)); INTEN; dma_async_device_register(); of_dma_controller_register(dev.of_node,
  // pdma_xlate, d). Every failure unwinds what came before (the pool, the registration).
  platform_set_drvdata(pdev, d);
  return 0;
}

function pdma_remove(pdev: platform_device): number {
  const d = platform_get_drvdata<pdma_dev>(pdev);
  // TODO: probe in reverse: of_dma_controller_free(), dma_async_device_unregister(), INTEN off,
  // every channel terminated and its tasklet killed; then the pool.
  dma_pool_destroy(d.pool);
  return 0;
}

export const pdma_driver: platform_driver = {
  probe: pdma_probe,
  remove: pdma_remove,
  driver: { name: 'dmalab-pdma', of_match_table: [{ compatible: 'dmalab,pdma' }] },
};
