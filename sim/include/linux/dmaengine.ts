// include/linux/dmaengine.h: the client API (request a channel, configure it, prepare, submit,
// issue, wait, pause, terminate) and the provider's struct dma_device and registration.
export * from '../../dmaengine/types.ts';
export { dma_cap_mask, dma_cap_zero, dma_cap_set, dma_cap_clear, dma_has_cap, dmaengine_slave_config,
  dmaengine_prep_slave_sg, dmaengine_prep_slave_single, dmaengine_prep_dma_cyclic, dmaengine_prep_interleaved_dma,
  dmaengine_prep_dma_memcpy, dmaengine_prep_dma_memset, async_tx_ack, async_tx_clear_ack, async_tx_test_ack,
  dmaengine_desc_set_reuse, dmaengine_desc_clear_reuse, dmaengine_desc_test_reuse, dmaengine_desc_free,
  dmaengine_submit, dma_submit_error, dma_async_issue_pending, dmaengine_tx_status, dma_tx_state_zero,
  dma_async_is_tx_complete, dma_async_is_complete, dmaengine_pause, dmaengine_resume, dmaengine_terminate_all,
  dmaengine_terminate_async, dmaengine_synchronize, dmaengine_terminate_sync, is_dma_copy_aligned } from '../../dmaengine/inline.ts';
export { dma_async_device_register, dma_async_device_unregister, dmaenginem_async_device_register,
  dma_async_tx_descriptor_init, dma_get_slave_channel, dma_get_any_slave_channel, __dma_request_channel,
  dma_request_channel, dma_request_chan, dma_request_slave_channel, dma_request_chan_by_mask, dma_release_channel,
  dma_get_slave_caps, dma_slave_caps_zero, dma_sync_wait, dma_wait_for_async_tx, dma_chan_name } from '../../dmaengine/dmaengine.ts';
