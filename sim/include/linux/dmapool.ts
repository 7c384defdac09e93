// include/linux/dmapool.h
export { dma_pool_create, dma_pool_alloc, dma_pool_zalloc, dma_pool_free, dma_pool_destroy,
  dmam_pool_create, dmam_pool_destroy } from '../../dma/pool.ts';
export type { dma_pool } from '../../dma/pool.ts';
