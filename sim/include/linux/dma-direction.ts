// include/linux/dma-direction.h
export { DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_NONE, valid_dma_direction } from '../../dma/types.ts';
export type { dma_data_direction } from '../../dma/types.ts';
