// include/linux/dma-mapping.h
export * from './dma-direction.ts';
export { DMA_MAPPING_ERROR, DMA_BIT_MASK, DMA_ATTR_WEAK_ORDERING, DMA_ATTR_WRITE_COMBINE,
  DMA_ATTR_NO_KERNEL_MAPPING, DMA_ATTR_SKIP_CPU_SYNC, DMA_ATTR_FORCE_CONTIGUOUS,
  DMA_ATTR_ALLOC_SINGLE_PAGES, DMA_ATTR_NO_WARN, DMA_ATTR_PRIVILEGED } from '../../dma/types.ts';
export type { dma_addr_t, phys_addr_t } from '../../dma/types.ts';
export {
  dma_set_mask, dma_set_coherent_mask, dma_set_mask_and_coherent, dma_coerce_mask_and_coherent,
  dma_get_mask, dma_get_cache_alignment, dma_max_mapping_size, dma_get_required_mask,
  dma_addressing_limited, dma_get_max_seg_size, dma_set_max_seg_size, dma_get_seg_boundary,
  dma_set_seg_boundary, dma_need_sync,
} from '../../dma/mask.ts';
export {
  dma_map_single, dma_map_single_attrs, dma_unmap_single, dma_unmap_single_attrs,
  dma_map_page, dma_map_page_attrs, dma_unmap_page, dma_unmap_page_attrs,
  dma_map_resource, dma_unmap_resource, dma_mapping_error,
  dma_sync_single_for_cpu, dma_sync_single_for_device,
  dma_sync_single_range_for_cpu, dma_sync_single_range_for_device,
  dma_map_sg, dma_map_sg_attrs, dma_unmap_sg, dma_unmap_sg_attrs, dma_map_sgtable, dma_unmap_sgtable,
  dma_sync_sg_for_cpu, dma_sync_sg_for_device, dma_sync_sgtable_for_cpu, dma_sync_sgtable_for_device,
} from '../../dma/mapping.ts';
export {
  dma_alloc_coherent, dma_free_coherent, dma_alloc_attrs, dma_free_attrs,
  dmam_alloc_coherent, dmam_free_coherent, dma_alloc_noncoherent, dma_free_noncoherent,
} from '../../dma/alloc.ts';
