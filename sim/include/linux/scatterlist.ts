// include/linux/scatterlist.h
export { sg_array, sg_table_init, sg_init_table, sg_init_one, sg_set_buf, sg_set_page, sg_page,
  sg_phys, sg_virt, sg_next, sg_mark_end, sg_unmark_end, sg_is_last, sg_dma_address, sg_dma_len,
  for_each_sg, for_each_sgtable_sg, for_each_sgtable_dma_sg, sg_nents, sg_alloc_table,
  sg_free_table, sg_alloc_table_from_pages, sg_alloc_table_from_pages_segment } from '../../lib/scatterlist.ts';
export type { scatterlist, sg_table } from '../../lib/scatterlist.ts';
