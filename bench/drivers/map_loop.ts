// The driver side of the benchmark: map/unmap loops written as a driver would write them, so
// the calls go through the call-site rewriting a real driver file gets.
import { dma_map_single, dma_unmap_single, dma_mapping_error, DMA_FROM_DEVICE } from '#linux/dma-mapping';
import type { device } from '#linux/device';

/** n pairs of map + unmap of the same buffer; returns the number of failed maps. */
export function map_unmap_loop(dev: device, buf: number, len: number, n: number): number {
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const h = dma_map_single(dev, buf, len, DMA_FROM_DEVICE);
    if (dma_mapping_error(dev, h)) { failed++; continue; }
    dma_unmap_single(dev, h, len, DMA_FROM_DEVICE);
  }
  return failed;
}

/** Map each buffer and keep it mapped (the live set). */
export function map_all(dev: device, bufs: number[], len: number, dir: number): number[] {
  const out: number[] = [];
  for (const b of bufs) out.push(dma_map_single(dev, b, len, dir));
  return out;
}
