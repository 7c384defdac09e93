// include/linux/dma-direction.h, dma-mapping.h constants and attributes.

export type dma_addr_t = number;
export type phys_addr_t = number;
export type u64 = bigint;

export const DMA_BIDIRECTIONAL = 0, DMA_TO_DEVICE = 1, DMA_FROM_DEVICE = 2, DMA_NONE = 3;
export type dma_data_direction = number;

/** ~(dma_addr_t)0: all ones. A sim number, -1 is that bit pattern (it prints as
 *  0xffffffffffffffff and writeq puts all ones on the bus). */
export const DMA_MAPPING_ERROR: dma_addr_t = -1;

/** DMA_BIT_MASK(n): a u64, so DMA_BIT_MASK(64) is exact. */
export function DMA_BIT_MASK(n: number): u64 {
  return n >= 64 ? 0xffffffffffffffffn : (1n << BigInt(n)) - 1n;
}

export const DMA_ATTR_WEAK_ORDERING = 1 << 1, DMA_ATTR_WRITE_COMBINE = 1 << 2,
  DMA_ATTR_NO_KERNEL_MAPPING = 1 << 4, DMA_ATTR_SKIP_CPU_SYNC = 1 << 5,
  DMA_ATTR_FORCE_CONTIGUOUS = 1 << 6, DMA_ATTR_ALLOC_SINGLE_PAGES = 1 << 7,
  DMA_ATTR_NO_WARN = 1 << 8, DMA_ATTR_PRIVILEGED = 1 << 9;

export const DIR_NAME = ['DMA_BIDIRECTIONAL', 'DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DMA_NONE'];

export function valid_dma_direction(dir: number): boolean {
  return dir === DMA_BIDIRECTIONAL || dir === DMA_TO_DEVICE || dir === DMA_FROM_DEVICE;
}

/** A u64 mask as the highest address it allows, as a sim number. */
export function mask_limit(mask: bigint | number): number {
  const m = typeof mask === 'bigint' ? mask : BigInt(mask);
  return m >= BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(m);
}
