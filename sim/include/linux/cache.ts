// include/linux/cache.h: line sizes, per machine shape.
import { M } from '../../kernel/machine.ts';
/** L1_CACHE_BYTES of the running machine (64 on every shape). */
export function L1_CACHE_BYTES(): number {
  return M.shape.l1_cache_bytes;
}
/** ARCH_DMA_MINALIGN of the running machine (128 on arm64; x86 defines none: 1). */
export function ARCH_DMA_MINALIGN(): number {
  return M.shape.dma_minalign;
}
export { dma_get_cache_alignment } from '../../dma/mask.ts';
