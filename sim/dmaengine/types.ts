// The structures and constants of include/linux/dmaengine.h (Linux 6.1): channels, the
// provider's struct dma_device with its callbacks and capabilities, descriptors, slave
// configuration and capabilities, and the enums. Functions live in dmaengine.ts (the .c) and
// inline.ts (the header's static inlines).
import type { device } from '../base/device.ts';
import type { scatterlist } from '../lib/scatterlist.ts';

export type dma_cookie_t = number;
export const DMA_MIN_COOKIE = 1;

export const DMA_COMPLETE = 0, DMA_IN_PROGRESS = 1, DMA_PAUSED = 2, DMA_ERROR = 3, DMA_OUT_OF_ORDER = 4;
export type dma_status = number;

// enum dma_transaction_type: bit numbers in a dma_cap_mask_t.
export const DMA_MEMCPY = 0, DMA_MEMCPY_SG = 1, DMA_XOR = 2, DMA_PQ = 3, DMA_XOR_VAL = 4,
  DMA_PQ_VAL = 5, DMA_MEMSET = 6, DMA_MEMSET_SG = 7, DMA_INTERRUPT = 8, DMA_PRIVATE = 9,
  DMA_ASYNC_TX = 10, DMA_SLAVE = 11, DMA_CYCLIC = 12, DMA_INTERLEAVE = 13,
  DMA_COMPLETION_NO_ORDER = 14, DMA_REPEAT = 15, DMA_LOAD_EOT = 16, DMA_TX_TYPE_END = 17;
export type dma_transaction_type = number;

/** enum dma_transfer_direction: what the engine moves. Not enum dma_data_direction (the
 *  mapping API's DMA_TO_DEVICE...), whose numbers happen to overlap. */
export const DMA_MEM_TO_MEM = 0, DMA_MEM_TO_DEV = 1, DMA_DEV_TO_MEM = 2, DMA_DEV_TO_DEV = 3, DMA_TRANS_NONE = 4;
export type dma_transfer_direction = number;

// enum dma_ctrl_flags
export const DMA_PREP_INTERRUPT = 1 << 0, DMA_CTRL_ACK = 1 << 1, DMA_PREP_PQ_DISABLE_P = 1 << 2,
  DMA_PREP_PQ_DISABLE_Q = 1 << 3, DMA_PREP_CONTINUE = 1 << 4, DMA_PREP_FENCE = 1 << 5,
  DMA_CTRL_REUSE = 1 << 6, DMA_PREP_CMD = 1 << 7, DMA_PREP_REPEAT = 1 << 8, DMA_PREP_LOAD_EOT = 1 << 9;

// enum dma_slave_buswidth: the value is the width in bytes.
export const DMA_SLAVE_BUSWIDTH_UNDEFINED = 0, DMA_SLAVE_BUSWIDTH_1_BYTE = 1, DMA_SLAVE_BUSWIDTH_2_BYTES = 2,
  DMA_SLAVE_BUSWIDTH_3_BYTES = 3, DMA_SLAVE_BUSWIDTH_4_BYTES = 4, DMA_SLAVE_BUSWIDTH_8_BYTES = 8,
  DMA_SLAVE_BUSWIDTH_16_BYTES = 16, DMA_SLAVE_BUSWIDTH_32_BYTES = 32, DMA_SLAVE_BUSWIDTH_64_BYTES = 64,
  DMA_SLAVE_BUSWIDTH_128_BYTES = 128;
export type dma_slave_buswidth = number;

// enum dmaengine_alignment: copy_align and friends are shifts (a 4-byte alignment is 2).
export const DMAENGINE_ALIGN_1_BYTE = 0, DMAENGINE_ALIGN_2_BYTES = 1, DMAENGINE_ALIGN_4_BYTES = 2,
  DMAENGINE_ALIGN_8_BYTES = 3, DMAENGINE_ALIGN_16_BYTES = 4, DMAENGINE_ALIGN_32_BYTES = 5, DMAENGINE_ALIGN_64_BYTES = 6;

// enum dma_residue_granularity
export const DMA_RESIDUE_GRANULARITY_DESCRIPTOR = 0, DMA_RESIDUE_GRANULARITY_SEGMENT = 1,
  DMA_RESIDUE_GRANULARITY_BURST = 2;
export type dma_residue_granularity = number;

// enum dmaengine_tx_result
export const DMA_TRANS_NOERROR = 0, DMA_TRANS_READ_FAILED = 1, DMA_TRANS_WRITE_FAILED = 2, DMA_TRANS_ABORTED = 3;
export interface dmaengine_result { result: number; residue: number }

/** dma_cap_mask_t: a bitmap of DMA_TX_TYPE_END bits. */
export interface dma_cap_mask_t { bits: number }

export type dma_async_tx_callback = ((param: any) => void) | null;
export type dma_async_tx_callback_result = ((param: any, result: dmaengine_result | null) => void) | null;

export interface dma_async_tx_descriptor {
  cookie: dma_cookie_t;
  flags: number;
  phys: number;
  chan: dma_chan;
  tx_submit: ((tx: dma_async_tx_descriptor) => dma_cookie_t) | null;
  desc_free: ((tx: dma_async_tx_descriptor) => number) | null;
  callback: dma_async_tx_callback;
  callback_result: dma_async_tx_callback_result;
  callback_param: unknown;
  /** @internal the virt_dma_desc (or the provider's own struct) this one is embedded in */
  _container?: unknown;
  /** @internal the engine checker's record of it (sim/dmaengine/check/) */
  _check?: unknown;
}

export interface dma_tx_state { last: dma_cookie_t; used: dma_cookie_t; residue: number; in_flight_bytes: number }

export interface dma_slave_config {
  direction?: dma_transfer_direction;
  src_addr?: number;
  dst_addr?: number;
  src_addr_width?: dma_slave_buswidth;
  dst_addr_width?: dma_slave_buswidth;
  src_maxburst?: number;
  dst_maxburst?: number;
  src_port_window_size?: number;
  dst_port_window_size?: number;
  device_fc?: boolean;
  peripheral_config?: unknown;
  peripheral_size?: number;
}

export interface dma_slave_caps {
  src_addr_widths: number;
  dst_addr_widths: number;
  directions: number;
  min_burst: number;
  max_burst: number;
  max_sg_burst: number;
  cmd_pause: boolean;
  cmd_resume: boolean;
  cmd_terminate: boolean;
  residue_granularity: dma_residue_granularity;
  descriptor_reuse: boolean;
}

/** struct dma_chan_dev: the channel's own struct device (sysfs dma%dchan%d). */
export interface dma_chan_dev { chan: dma_chan | null; dev_id: number; name: string }

export interface dma_chan {
  device: dma_device;
  /** The client device that requested it (dma_request_chan()). */
  slave: device | null;
  cookie: dma_cookie_t;
  completed_cookie: dma_cookie_t;
  chan_id: number;
  dev: dma_chan_dev | null;
  /** 'dma:rx' once requested by name. */
  name: string | null;
  dbg_client_name: string | null;
  client_count: number;
  table_count: number;
  private: unknown;
  /** @internal the virt_dma_chan (or the provider's struct) this one is embedded in */
  _container?: unknown;
}

export type dma_filter_fn = (chan: dma_chan, filter_param: unknown) => boolean;
export interface dma_slave_map { devname: string; slave: string; param: unknown }
export interface dma_filter { fn: dma_filter_fn | null; mapcnt: number; map: dma_slave_map[] }

type prep<A extends unknown[]> = ((chan: dma_chan, ...args: A) => dma_async_tx_descriptor | null) | null;

export interface dma_device {
  chancnt: number;
  privatecnt: number;
  /** The channels, in order (vchan_init() appends; a provider may push its own). */
  channels: dma_chan[];
  filter: dma_filter;
  cap_mask: dma_cap_mask_t;
  max_xor: number;
  max_pq: number;
  copy_align: number;
  xor_align: number;
  pq_align: number;
  fill_align: number;
  dev_id: number;
  dev: device | null;
  owner: unknown;
  src_addr_widths: number;
  dst_addr_widths: number;
  directions: number;
  min_burst: number;
  max_burst: number;
  max_sg_burst: number;
  descriptor_reuse: boolean;
  residue_granularity: dma_residue_granularity;

  device_alloc_chan_resources: ((chan: dma_chan) => number) | null;
  device_router_config: ((chan: dma_chan) => number) | null;
  device_free_chan_resources: ((chan: dma_chan) => void) | null;
  device_prep_dma_memcpy: prep<[dst: number, src: number, len: number, flags: number]>;
  device_prep_dma_memcpy_sg: prep<[dst_sg: scatterlist[], dst_nents: number, src_sg: scatterlist[], src_nents: number, flags: number]>;
  device_prep_dma_xor: prep<unknown[]>;
  device_prep_dma_xor_val: prep<unknown[]>;
  device_prep_dma_pq: prep<unknown[]>;
  device_prep_dma_pq_val: prep<unknown[]>;
  device_prep_dma_memset: prep<[dest: number, value: number, len: number, flags: number]>;
  device_prep_dma_memset_sg: prep<[sg: scatterlist[], nents: number, value: number, flags: number]>;
  device_prep_dma_interrupt: prep<[flags: number]>;
  device_prep_slave_sg: prep<[sgl: scatterlist[] | scatterlist, sg_len: number, direction: dma_transfer_direction, flags: number, context: unknown]>;
  device_prep_dma_cyclic: prep<[buf_addr: number, buf_len: number, period_len: number, direction: dma_transfer_direction, flags: number]>;
  device_prep_interleaved_dma: prep<[xt: unknown, flags: number]>;
  device_caps: ((chan: dma_chan, caps: dma_slave_caps) => void) | null;
  device_config: ((chan: dma_chan, config: dma_slave_config) => number) | null;
  device_pause: ((chan: dma_chan) => number) | null;
  device_resume: ((chan: dma_chan) => number) | null;
  device_terminate_all: ((chan: dma_chan) => number) | null;
  device_synchronize: ((chan: dma_chan) => void) | null;
  device_tx_status: ((chan: dma_chan, cookie: dma_cookie_t, txstate: dma_tx_state | null) => dma_status) | null;
  device_issue_pending: ((chan: dma_chan) => void) | null;
  device_release: ((dev: dma_device) => void) | null;
  /** @internal registered with dma_async_device_register() */
  _registered?: boolean;
}

/** A zeroed struct dma_device, as a provider's kzalloc'ed private struct holds it. */
export function dma_device_zero(): dma_device {
  return {
    chancnt: 0, privatecnt: 0, channels: [], filter: { fn: null, mapcnt: 0, map: [] }, cap_mask: { bits: 0 },
    max_xor: 0, max_pq: 0, copy_align: 0, xor_align: 0, pq_align: 0, fill_align: 0, dev_id: -1, dev: null,
    owner: null, src_addr_widths: 0, dst_addr_widths: 0, directions: 0, min_burst: 0, max_burst: 0,
    max_sg_burst: 0, descriptor_reuse: false, residue_granularity: DMA_RESIDUE_GRANULARITY_DESCRIPTOR,
    device_alloc_chan_resources: null, device_router_config: null, device_free_chan_resources: null,
    device_prep_dma_memcpy: null, device_prep_dma_memcpy_sg: null, device_prep_dma_xor: null,
    device_prep_dma_xor_val: null, device_prep_dma_pq: null, device_prep_dma_pq_val: null,
    device_prep_dma_memset: null, device_prep_dma_memset_sg: null, device_prep_dma_interrupt: null,
    device_prep_slave_sg: null, device_prep_dma_cyclic: null, device_prep_interleaved_dma: null,
    device_caps: null, device_config: null, device_pause: null, device_resume: null,
    device_terminate_all: null, device_synchronize: null, device_tx_status: null, device_issue_pending: null,
    device_release: null,
  };
}

/** A zeroed struct dma_chan for `device` (vchan_init() fills one in). */
export function dma_chan_zero(device: dma_device): dma_chan {
  return { device, slave: null, cookie: 0, completed_cookie: 0, chan_id: -1, dev: null, name: null,
    dbg_client_name: null, client_count: 0, table_count: 0, private: null };
}

/** is_slave_direction(): MEM_TO_DEV or DEV_TO_MEM. */
export function is_slave_direction(direction: dma_transfer_direction): boolean {
  return direction === DMA_MEM_TO_DEV || direction === DMA_DEV_TO_MEM;
}
