// drivers/dma/dmaengine.h: the providers' private helpers (cookies, residue, callbacks).
export { dma_cookie_init, dma_cookie_assign, dma_cookie_complete, dma_cookie_status, dma_set_residue,
  dma_set_in_flight_bytes, dmaengine_desc_get_callback, dmaengine_desc_callback_invoke,
  dmaengine_desc_get_callback_invoke, dmaengine_desc_callback_valid } from '../../../dmaengine/cookie.ts';
export type { dmaengine_desc_callback } from '../../../dmaengine/cookie.ts';
