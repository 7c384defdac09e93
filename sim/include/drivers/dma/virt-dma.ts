// drivers/dma/virt-dma.h: virtual channels and descriptors for providers.
export { to_virt_chan, to_virt_desc, vchan_tx_prep, vchan_issue_pending, vchan_cookie_complete, vchan_cyclic_callback,
  vchan_terminate_vdesc, vchan_next_desc, vchan_get_all_descriptors, vchan_vdesc_fini, vchan_dma_desc_free_list,
  vchan_find_desc, vchan_init, vchan_free_chan_resources, vchan_synchronize } from '../../../dmaengine/virt-dma.ts';
export type { virt_dma_chan, virt_dma_desc } from '../../../dmaengine/virt-dma.ts';
