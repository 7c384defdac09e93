// swiotlb (kernel/dma/swiotlb.c, Linux 6.1): a pool of 2 KiB slots in memory every device can
// reach. A mapping that must bounce takes slots, the data is copied in (always, whatever the
// direction), and copied back on sync_for_cpu / unmap for FROM_DEVICE and BIDIRECTIONAL.
import { M } from '../kernel/machine.ts';
import type { Site } from '../kernel/site.ts';
import { pa, llx } from '../lib/vsprintf.ts';
import { T } from '../kernel/trace.ts';
import { dev_driver_string, dev_name, type device } from '../base/device.ts';
import { kernel_copy_phys } from '../mm/access.ts';
import { DMA_ATTR_NO_WARN, DMA_ATTR_SKIP_CPU_SYNC, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_MAPPING_ERROR,
  DMA_TO_DEVICE } from './types.ts';
import { warn_at } from './warn-sites.ts';
import { Ratelimit } from '../lib/ratelimit.ts';
import { take_buffer } from '../lib/recycle.ts';
import { arch_sync_dma_for_cpu, arch_sync_dma_for_device, dev_is_dma_coherent, phys_to_dma, dma_capable } from './direct.ts';

export const IO_TLB_SHIFT = 11, IO_TLB_SIZE = 1 << IO_TLB_SHIFT, IO_TLB_SEGSIZE = 128;

export class Swiotlb {
  readonly nslabs: number;
  /** Per slot: the original buffer address it bounces for, plus one (0 = free: a fresh buffer
   *  is all free). */
  private orig: Float64Array;
  /** Per first slot of an allocation: its size in bytes. */
  private alloc_size: Float64Array;
  /** The buffers it took (sim/lib/recycle.ts). */
  readonly buffers: ArrayBuffer[] = [];
  private index = 0;
  used = 0;
  hiwater = 0;

  constructor(readonly base: number, readonly size: number, public force: boolean) {
    // The pool's slots. The kernel rounds swiotlb=<nslabs> up to whole 128-slot segments; a
    // test may ask for fewer (a pool that is nearly full from the start).
    this.nslabs = Math.max(1, Math.floor(size / IO_TLB_SIZE));
    const mem = take_buffer(this.buffers, this.nslabs * 16);
    this.orig = new Float64Array(mem, 0, this.nslabs);
    this.alloc_size = new Float64Array(mem, this.nslabs * 8, this.nslabs);
  }

  is_swiotlb_buffer(phys: number): boolean {
    return phys >= this.base && phys < this.base + this.nslabs * IO_TLB_SIZE;
  }

  /** swiotlb_find_slots(): next-fit, page-aligned for page-sized requests, never across a
   *  128-slot segment. */
  private find_slots(alloc: number): number {
    const n = Math.ceil(alloc / IO_TLB_SIZE);
    if (n > IO_TLB_SEGSIZE) return -1;
    const stride = alloc >= 4096 ? 4096 / IO_TLB_SIZE : 1;
    let i = Math.ceil(this.index / stride) * stride;
    for (let tries = 0; tries < this.nslabs / stride + 1; tries++, i += stride) {
      if (i + n > this.nslabs) i = 0;
      if (Math.floor(i / IO_TLB_SEGSIZE) !== Math.floor((i + n - 1) / IO_TLB_SEGSIZE)) continue;
      let free = true;
      for (let j = 0; j < n; j++) if (this.orig[i + j] !== 0) { free = false; break; }
      if (!free) continue;
      this.index = (i + n) % this.nslabs;
      return i;
    }
    return -1;
  }

  /** dev_warn_ratelimited() state of the "buffer is full" message. */
  private full_rs = new Ratelimit('swiotlb_tbl_map_single');

  /** swiotlb_tbl_map_single(): take slots and copy the original in. Returns the bounce
   *  buffer's physical address, or -1. */
  tbl_map_single(dev: device, orig: number, size: number, dir: number, attrs: number, site?: Site): number {
    const i = this.find_slots(size);
    if (i < 0) {
      // A plain dev_warn_ratelimited (10 per 5 s): no WARN, not counted by dma-debug.
      if (!(attrs & DMA_ATTR_NO_WARN) && this.full_rs.ok()) {
        M.diag.report('SWIOTLB_FULL', [
          `${dev_driver_string(dev)} ${dev_name(dev)}: swiotlb buffer is full (sz: ${size} bytes), total ${this.nslabs} (slots), used ${this.used} (slots)`,
        ], { sites: site ? [['Mapped at', site]] : [] });
      }
      return -1;
    }
    const n = Math.ceil(size / IO_TLB_SIZE);
    for (let j = 0; j < n; j++) this.orig[i + j] = orig + j * IO_TLB_SIZE + 1;
    this.alloc_size[i] = size;
    this.used += n;
    this.hiwater = Math.max(this.hiwater, this.used);
    const tlb = this.base + i * IO_TLB_SIZE;
    // Copy in whatever the direction: a device that writes only part of the buffer must not
    // leave stale swiotlb contents in the rest.
    this.bounce(tlb, size, DMA_TO_DEVICE);
    void dir;
    return tlb;
  }

  /** swiotlb_bounce(): copy between the original and the bounce slot, never past the end of
   *  the allocation: a longer sync is cut short with a WARN_ONCE (kernel/dma/swiotlb.c). */
  private bounce(tlb: number, size: number, dir: number, dev?: device): void {
    const i = Math.floor((tlb - this.base) / IO_TLB_SIZE);
    const orig = this.orig[i]! - 1;
    if (orig < 0) return;
    const off = (tlb - this.base) % IO_TLB_SIZE;
    // Each slot remembers how much of the allocation is left from its start.
    const h = this.head(tlb);
    let alloc = this.alloc_size[h]! - (i - h) * IO_TLB_SIZE;
    const who = dev ? `${dev_driver_string(dev)} ${dev_name(dev)}: ` : '';
    if (off > alloc) {
      M.diag.report('SWIOTLB_BOUNCE_OVERFLOW', [`${who}Buffer overflow detected. Allocation size: ${alloc}. Mapping size: ${size}+${off}.`],
        { warn: warn_at('SWIOTLB_BOUNCE_OVERFLOW_OFFSET'), once: 'swiotlb:bounce-overflow-offset', sites: M.api_site ? [[M.api_label, M.api_site]] : [] });
      return;
    }
    alloc -= off;
    if (size > alloc) {
      M.diag.report('SWIOTLB_BOUNCE_OVERFLOW', [`${who}Buffer overflow detected. Allocation size: ${alloc}. Mapping size: ${size}.`],
        { warn: warn_at('SWIOTLB_BOUNCE_OVERFLOW'), once: 'swiotlb:bounce-overflow', sites: M.api_site ? [[M.api_label, M.api_site]] : [] });
      size = alloc;
    }
    const start = orig + off;
    if (dir === DMA_TO_DEVICE) kernel_copy_phys(tlb, start, size);
    else kernel_copy_phys(start, tlb, size);
  }

  /** The first slot of the allocation holding tlb (walking back over its slots). */
  private head(tlb: number): number {
    let i = Math.floor((tlb - this.base) / IO_TLB_SIZE);
    while (this.alloc_size[i] === 0 && i > 0 && this.orig[i - 1] === this.orig[i]! - IO_TLB_SIZE) i--;
    return i;
  }

  tbl_unmap_single(dev: device, tlb: number, size: number, dir: number, attrs: number): void {
    if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC) && (dir === DMA_FROM_DEVICE || dir === DMA_BIDIRECTIONAL)) this.bounce(tlb, size, DMA_FROM_DEVICE, dev);
    const i = this.head(tlb);
    const n = Math.ceil((this.alloc_size[i] || size) / IO_TLB_SIZE);
    for (let j = 0; j < n; j++) this.orig[i + j] = 0;
    this.alloc_size[i] = 0;
    this.used -= n;
    void dev;
  }

  sync_single_for_device(dev: device, tlb: number, size: number, dir: number): void {
    if (dir === DMA_TO_DEVICE || dir === DMA_BIDIRECTIONAL) this.bounce(tlb, size, DMA_TO_DEVICE, dev);
  }

  sync_single_for_cpu(dev: device, tlb: number, size: number, dir: number): void {
    if (dir === DMA_FROM_DEVICE || dir === DMA_BIDIRECTIONAL) this.bounce(tlb, size, DMA_FROM_DEVICE, dev);
  }
}

/** swiotlb_map(): bounce a streaming mapping, check the bounce buffer is reachable. */
export function swiotlb_map(dev: device, phys: number, size: number, dir: number, attrs: number, site: Site): number {
  const sw = M.swiotlb!;
  const tlb = sw.tbl_map_single(dev, phys, size, dir, attrs, site);
  if (tlb < 0) return DMA_MAPPING_ERROR;
  const addr = phys_to_dma(dev, tlb);
  M.trace.emit(M.clock.now, T.swiotlb_bounced, dev.id, addr, size, sw.force ? 1 : 0);
  if (!dma_capable(dev, addr, size)) {
    sw.tbl_unmap_single(dev, tlb, size, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC);
    M.diag.report('SWIOTLB_OVERFLOW', [
      `${dev_driver_string(dev)} ${dev_name(dev)}: swiotlb addr ${pa(addr)}+${size} overflow (mask ${llx(dev.dma_mask ?? 0n)}, bus limit 0).`,
    ], { warn: warn_at('SWIOTLB_OVERFLOW'), once: 'swiotlb-overflow', sites: [['Mapped at', site]] });
    return DMA_MAPPING_ERROR;
  }
  if (!dev_is_dma_coherent(dev) && !(attrs & DMA_ATTR_SKIP_CPU_SYNC)) arch_sync_dma_for_device(tlb, size, dir);
  return addr;
}

export { arch_sync_dma_for_cpu };
