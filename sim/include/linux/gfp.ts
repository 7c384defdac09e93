// include/linux/gfp.h, gfp_types.h (Linux 6.1 values)
import { ___GFP_DMA, ___GFP_DMA32, ___GFP_HIGHMEM, ___GFP_HIGH, ___GFP_IO, ___GFP_FS, ___GFP_ZERO,
  ___GFP_ATOMIC, ___GFP_DIRECT_RECLAIM, ___GFP_KSWAPD_RECLAIM, ___GFP_NOWARN, ___GFP_RETRY_MAYFAIL,
  ___GFP_NOFAIL, ___GFP_NORETRY, ___GFP_COMP } from '../../mm/page_alloc.ts';
export const __GFP_DMA = ___GFP_DMA, __GFP_DMA32 = ___GFP_DMA32, __GFP_HIGHMEM = ___GFP_HIGHMEM,
  __GFP_HIGH = ___GFP_HIGH, __GFP_IO = ___GFP_IO, __GFP_FS = ___GFP_FS, __GFP_ZERO = ___GFP_ZERO,
  __GFP_ATOMIC = ___GFP_ATOMIC, __GFP_DIRECT_RECLAIM = ___GFP_DIRECT_RECLAIM,
  __GFP_KSWAPD_RECLAIM = ___GFP_KSWAPD_RECLAIM, __GFP_RECLAIM = ___GFP_DIRECT_RECLAIM | ___GFP_KSWAPD_RECLAIM,
  __GFP_NOWARN = ___GFP_NOWARN, __GFP_RETRY_MAYFAIL = ___GFP_RETRY_MAYFAIL, __GFP_NOFAIL = ___GFP_NOFAIL,
  __GFP_NORETRY = ___GFP_NORETRY, __GFP_COMP = ___GFP_COMP;
export const GFP_ATOMIC = __GFP_HIGH | __GFP_ATOMIC | __GFP_KSWAPD_RECLAIM;
export const GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
export const GFP_NOWAIT = __GFP_KSWAPD_RECLAIM;
export const GFP_NOIO = __GFP_RECLAIM;
export const GFP_NOFS = __GFP_RECLAIM | __GFP_IO;
export const GFP_DMA = __GFP_DMA, GFP_DMA32 = __GFP_DMA32;
export { alloc_pages, alloc_page, __get_free_pages, __get_free_page, get_zeroed_page, free_pages,
  free_page, __free_pages, __free_page } from '../../mm/mm_api.ts';
