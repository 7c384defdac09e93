// include/linux/of_dma.h: how a provider makes its channels findable from the device tree.
export { of_dma_controller_register, of_dma_controller_free, of_dma_request_slave_channel,
  of_dma_xlate_by_chan_id } from '../../dmaengine/of-dma.ts';
export type { of_dma } from '../../dmaengine/of-dma.ts';
