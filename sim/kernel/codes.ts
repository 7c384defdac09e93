// Every diagnostic the machine can give, with a stable code (for tests and the grader), who
// says it (the kernel's dma-debug, another part of the kernel, or dmalab's own stricter
// rules), and the lesson section that explains it.

export type Origin = 'dma-debug' | 'kernel' | 'dmalab';
export interface CodeInfo { origin: Origin; lesson: string; what: string }

const L = (n: string, anchor: string) => `lessons/${n}.md#${anchor}`;
const L01 = '01-mmio-and-probe', L02 = '02-dma-addresses', L03 = '03-coherent-dma',
  L04 = '04-streaming-dma', L05 = '05-sync-and-ownership', L06 = '06-what-you-can-map',
  L07 = '07-scatter-gather', L08 = '08-bounce-and-iommu', L09 = '09-dma-pools', L10 = '10-nic-rings',
  L11 = '11-dmaengine-memcpy', L12 = '12-dmaengine-slave', L13 = '13-dmaengine-cyclic', L14 = '14-dma-controller';

export const CODES = {
  // kernel/dma/debug.c (reference/dma-mapping.md §4.7)
  DMA_MAP_INVALID_AREA: { origin: 'dma-debug', lesson: L(L06, 'what-memory-can-be-mapped'), what: 'maps memory that is not in the kernel linear map' },
  DMA_MAP_VMALLOC: { origin: 'dma-debug', lesson: L(L06, 'vmalloc'), what: 'maps vmalloc memory' },
  DMA_MAP_STACK: { origin: 'dma-debug', lesson: L(L06, 'the-stack'), what: 'maps memory from the stack' },
  DMA_SG_SEGMENT_TOO_LONG: { origin: 'dma-debug', lesson: L(L07, 'segment-limits'), what: 'sg segment longer than the device supports' },
  DMA_SG_SEGMENT_BOUNDARY: { origin: 'dma-debug', lesson: L(L07, 'segment-limits'), what: 'sg segment crosses the device boundary' },
  DMA_CACHELINE_OVERLAP: { origin: 'dma-debug', lesson: L(L06, 'cache-lines'), what: 'two mappings share a cache line' },
  DMA_UNMAP_INVALID: { origin: 'dma-debug', lesson: L(L04, 'checking-for-errors'), what: 'unmaps DMA_MAPPING_ERROR' },
  DMA_UNMAP_NOT_MAPPED: { origin: 'dma-debug', lesson: L(L04, 'unmapping'), what: 'unmaps or frees something never mapped (or twice)' },
  DMA_UNMAP_WRONG_SIZE: { origin: 'dma-debug', lesson: L(L04, 'unmapping'), what: 'unmaps or frees with a different size' },
  DMA_UNMAP_WRONG_FUNCTION: { origin: 'dma-debug', lesson: L(L04, 'unmapping'), what: 'unmaps or frees with the wrong function' },
  DMA_FREE_WRONG_CPU_ADDR: { origin: 'dma-debug', lesson: L(L03, 'freeing'), what: 'frees coherent memory with another CPU address' },
  DMA_UNMAP_SG_WRONG_COUNT: { origin: 'dma-debug', lesson: L(L07, 'unmapping-a-list'), what: 'unmaps an sg list with a different entry count' },
  DMA_UNMAP_WRONG_DIRECTION: { origin: 'dma-debug', lesson: L(L04, 'directions'), what: 'unmaps with a different direction' },
  DMA_MAP_ERROR_NOT_CHECKED: { origin: 'dma-debug', lesson: L(L04, 'checking-for-errors'), what: 'never checked the mapping with dma_mapping_error()' },
  DMA_SYNC_NOT_MAPPED: { origin: 'dma-debug', lesson: L(L05, 'partial-syncs'), what: 'syncs memory that is not mapped (or past its end)' },
  DMA_SYNC_OUT_OF_RANGE: { origin: 'dma-debug', lesson: L(L05, 'partial-syncs'), what: 'syncs outside the mapping' },
  DMA_SYNC_WRONG_DIRECTION: { origin: 'dma-debug', lesson: L(L05, 'which-sync-when'), what: 'syncs with a different direction than mapped' },
  DMA_SYNC_READONLY_FOR_CPU: { origin: 'dma-debug', lesson: L(L05, 'which-sync-when'), what: 'syncs device read-only memory for the CPU' },
  DMA_SYNC_WRITEONLY_TO_DEVICE: { origin: 'dma-debug', lesson: L(L05, 'which-sync-when'), what: 'syncs device write-only memory to the device' },
  DMA_SYNC_SG_WRONG_COUNT: { origin: 'dma-debug', lesson: L(L07, 'syncing-a-list'), what: 'syncs an sg list with a different entry count' },
  DMA_LEAK_AT_UNBIND: { origin: 'dma-debug', lesson: L(L04, 'unmapping'), what: 'mappings or allocations left when the driver was unbound' },
  // kernel/dma/debug.c too, but a WARN_ONCE that error_count does not count
  DMA_CACHELINE_OVERLAP_EXCEEDED: { origin: 'kernel', lesson: L(L06, 'cache-lines'), what: 'more than 7 live mappings share one cache line' },

  // Elsewhere in the kernel
  DMA_MAP_VMALLOC_REJECTED: { origin: 'kernel', lesson: L(L06, 'vmalloc'), what: 'dma_map_single of vmalloc memory' },
  DMA_ADDR_OVERFLOW: { origin: 'kernel', lesson: L(L02, 'dma-masks'), what: 'buffer beyond the DMA mask and no bounce buffer' },
  SWIOTLB_FULL: { origin: 'kernel', lesson: L(L08, 'when-swiotlb-is-full'), what: 'swiotlb is out of bounce slots' },
  SWIOTLB_OVERFLOW: { origin: 'kernel', lesson: L(L08, 'bounce-buffers'), what: 'bounce buffer beyond the DMA mask' },
  SWIOTLB_BOUNCE_OVERFLOW: { origin: 'kernel', lesson: L(L05, 'partial-syncs'), what: 'a sync or unmap ran past the end of its bounce buffer' },
  DMA_INVALID_DIRECTION: { origin: 'kernel', lesson: L(L04, 'directions'), what: 'invalid DMA direction (kernel BUG)' },
  DMA_NO_MASK: { origin: 'kernel', lesson: L(L02, 'dma-masks'), what: 'DMA API used on a device without a DMA mask' },
  DMA_FREE_IRQS_DISABLED: { origin: 'kernel', lesson: L(L03, 'freeing'), what: 'dma_free_coherent with interrupts disabled' },
  DMAM_FREE_NOT_MANAGED: { origin: 'kernel', lesson: L(L03, 'managed-allocations'), what: 'dmam_free_coherent of memory not from dmam_alloc_coherent' },
  DMA_POOL_BUSY: { origin: 'kernel', lesson: L(L09, 'destroying-a-pool'), what: 'dma_pool_destroy with blocks still allocated' },
  DMA_POOL_BAD_DMA: { origin: 'kernel', lesson: L(L09, 'freeing-blocks'), what: 'dma_pool_free of a DMA address that is in none of the pool\'s pages' },
  IOMMU_FAULT: { origin: 'kernel', lesson: L(L08, 'iommu-faults'), what: 'the IOMMU blocked a device access' },
  IOMMU_UNMAP_NOT_MAPPED: { origin: 'kernel', lesson: L(L04, 'unmapping'), what: 'dma-iommu was asked to unmap an IOVA that maps nothing' },
  SLEEP_IN_ATOMIC: { origin: 'kernel', lesson: L(L01, 'interrupt-handlers'), what: 'a function that may sleep was called in atomic context' },
  SCHEDULING_WHILE_ATOMIC: { origin: 'kernel', lesson: L(L01, 'interrupt-handlers'), what: 'the CPU was asked to sleep in atomic context (an interrupt handler, a spinlock)' },
  IRQ_LEAK_AT_UNBIND: { origin: 'kernel', lesson: L(L01, 'remove'), what: 'an interrupt handler was left installed when the driver went away' },
  SOFT_LOCKUP: { origin: 'kernel', lesson: L('00-how-this-course-works', 'timeouts'), what: 'the CPU spun without making progress' },
  HUNG_TASK: { origin: 'kernel', lesson: L('00-how-this-course-works', 'timeouts'), what: 'a task waited forever (wait_for_completion() without a timeout)' },
  OOPS: { origin: 'kernel', lesson: L('00-how-this-course-works', 'reading-an-oops'), what: 'the driver crashed' },
  KFREE_INVALID: { origin: 'kernel', lesson: L(L06, 'what-memory-can-be-mapped'), what: 'kfree of something kmalloc did not return' },
  KFREE_DOUBLE: { origin: 'kernel', lesson: L(L04, 'unmapping'), what: 'kfree of memory already freed' },
  VFREE_INVALID: { origin: 'kernel', lesson: L(L06, 'vmalloc'), what: 'vfree of something vmalloc did not return' },
  IRQ_ALREADY_FREE: { origin: 'kernel', lesson: L(L01, 'interrupts'), what: 'free_irq of an interrupt not requested' },
  IRQ_NOBODY_CARED: { origin: 'kernel', lesson: L(L01, 'interrupt-handlers'), what: 'no handler claimed an interrupt that kept firing' },
  PCI_REGION_BUSY: { origin: 'kernel', lesson: L(L01, 'claiming-the-device'), what: 'BAR already claimed' },
  PCI_DISABLE_UNBALANCED: { origin: 'kernel', lesson: L(L01, 'claiming-the-device'), what: 'pci_disable_device() of a device that is not enabled' },
  VIRT_TO_PHYS_NONLINEAR: { origin: 'kernel', lesson: L(L02, 'three-address-spaces'), what: 'virt_to_phys of an address outside the linear map' },
  DEVICE_GUEST_ERROR: { origin: 'kernel', lesson: L(L01, 'the-edu-device'), what: 'the device model rejected what the driver asked of it' },

  // dmalab's own rules: what dma-debug cannot see
  CPU_ACCESS_DEVICE_OWNED: { origin: 'dmalab', lesson: L(L05, 'who-owns-the-buffer'), what: 'the CPU touched a buffer the device owns' },
  CPU_RACES_DEVICE: { origin: 'dmalab', lesson: L(L03, 'waiting-for-the-device'), what: 'the CPU read what a running transfer has yet to write, or wrote what it has yet to read' },
  CACHELINE_SHARED: { origin: 'dmalab', lesson: L(L06, 'cache-lines'), what: 'the CPU wrote a cache line shared with a buffer the device owns' },
  DEVICE_ACCESS_UNMAPPED: { origin: 'dmalab', lesson: L(L02, 'three-address-spaces'), what: 'the device accessed memory not mapped for it' },
  DEVICE_ACCESS_FREED: { origin: 'dmalab', lesson: L(L04, 'unmapping'), what: 'the device accessed memory after it was unmapped or freed' },
  DEVICE_ACCESS_WRONG_DIRECTION: { origin: 'dmalab', lesson: L(L04, 'directions'), what: 'the device accessed a mapping against its direction' },
  DEVICE_ACCESS_CPU_OWNED: { origin: 'dmalab', lesson: L(L05, 'who-owns-the-buffer'), what: 'the device accessed a buffer the CPU owns' },
  DEVICE_ADDRESS_CLAMPED: { origin: 'dmalab', lesson: L(L02, 'dma-masks'), what: 'the device cannot drive all bits of the address it was given' },
  DMA_NO_BUS_MASTER: { origin: 'dmalab', lesson: L(L01, 'claiming-the-device'), what: 'the device tried DMA with bus mastering off' },
  DMA_UNMAP_IN_FLIGHT: { origin: 'dmalab', lesson: L(L04, 'unmapping'), what: 'unmapped or freed while the device was still transferring' },
  DMA_MASK_ERROR_IGNORED: { origin: 'dmalab', lesson: L(L02, 'dma-masks'), what: 'used the DMA API after dma_set_mask failed' },
  DMA_LEAK_AT_PROBE_FAILURE: { origin: 'dmalab', lesson: L(L04, 'error-paths'), what: 'a failed probe left mappings or allocations behind' },
  KFREE_MAPPED: { origin: 'dmalab', lesson: L(L04, 'unmapping'), what: 'freed memory that is still mapped for DMA' },
  DMA_SMALL_COHERENT_ALLOCS: { origin: 'dmalab', lesson: L(L09, 'why-not-dma_alloc_coherent-per-descriptor'), what: 'many small coherent allocations live at once, each taking a page: a dma_pool is the allocator for them' },
  DMA_POOL_BAD_FREE: { origin: 'dmalab', lesson: L(L09, 'freeing-blocks'), what: 'dma_pool_free of a block with a CPU address that does not match its handle, or freed twice' },
  DMA_STORE_REORDERED: { origin: 'dmalab', lesson: L(L10, 'the-store-side-before-the-doorbell'), what: 'the device used a descriptor while the CPU\'s store to it was still in its store buffer (no dma_wmb() before a relaxed doorbell or an ownership store)' },
  DMA_LOAD_REORDERED: { origin: 'dmalab', lesson: L(L10, 'the-load-side-after-dd'), what: 'the CPU used a descriptor field older than the ownership bit it had read (no dma_rmb() after reading DD)' },
  DMA_MAP_STATIC: { origin: 'dmalab', lesson: L(L06, 'static-and-rodata'), what: 'maps static or read-only data of the driver image' },
  // 6.1.192 maps RAM through dma_map_resource() silently; newer dma-debug reports it.
  DMA_MAP_RESOURCE_RAM: { origin: 'dmalab', lesson: L(L06, 'what-memory-can-be-mapped'), what: 'dma_map_resource of RAM' },
  MMIO_DEVICE_DISABLED: { origin: 'dmalab', lesson: L(L01, 'claiming-the-device'), what: 'MMIO to a device whose memory decoding is off (pci_enable_device missing)' },
  IRQ_HANDLED_NOT_MINE: { origin: 'dmalab', lesson: L(L01, 'interrupt-handlers'), what: 'the handler claimed an interrupt its device did not raise' },
  IRQ_STORM: { origin: 'dmalab', lesson: L(L01, 'interrupt-handlers'), what: 'the interrupt kept firing: the handler did not acknowledge it' },
  LEAK_RESOURCES: { origin: 'dmalab', lesson: L(L01, 'remove'), what: 'regions, mappings, interrupts or an enabled device left at unbind' },
  LEAK_MEMORY: { origin: 'dmalab', lesson: L(L01, 'remove'), what: 'kmalloc/vmalloc memory left allocated at unbind' },
  PROBE_FAILED: { origin: 'dmalab', lesson: L(L01, 'probe'), what: 'probe returned an error' },
  // dmalab's rules for the DMA engine (sim/dmaengine/check/): the kernel says nothing for these.
  // A client's mistakes:
  DMAENGINE_WRONG_DEVICE: { origin: 'dmalab', lesson: L(L11, 'who-maps-with-which-device'), what: 'a buffer the engine was given was mapped for another device, not chan->device->dev' },
  DMAENGINE_NOT_ISSUED: { origin: 'dmalab', lesson: L(L11, 'nothing-moves-until-issue-pending'), what: 'a transfer was submitted and never issued (no dma_async_issue_pending())' },
  DMAENGINE_DIRECTION_MISMATCH: { origin: 'dmalab', lesson: L(L12, 'two-kinds-of-direction'), what: 'the prep\'s transfer direction contradicts the direction the buffer was mapped with' },
  DMAENGINE_SLAVE_CONFIG_UNSUPPORTED: { origin: 'dmalab', lesson: L(L12, 'slave-config-and-caps'), what: 'a slave config with a width or burst the channel\'s controller does not support' },
  DMAENGINE_BUFFER_FREED_ACTIVE: { origin: 'dmalab', lesson: L(L12, 'stopping-before-freeing'), what: 'a buffer unmapped or freed while a transfer using it may still run' },
  DMAENGINE_CALLBACK_STATE_FREED: { origin: 'dmalab', lesson: L(L12, 'what-the-callback-may-touch'), what: 'memory a completion callback uses freed while that callback may still run' },
  DMAENGINE_SYNC_IN_ATOMIC: { origin: 'dmalab', lesson: L(L13, 'terminate-async-and-synchronize'), what: 'dmaengine_terminate_sync() or dmaengine_synchronize() in atomic context' },
  DMAENGINE_SYNC_IN_CALLBACK: { origin: 'dmalab', lesson: L(L13, 'terminate-async-and-synchronize'), what: 'dmaengine_terminate_sync() or dmaengine_synchronize() from a callback of the same channel' },
  DMAENGINE_ISSUE_BEFORE_SYNC: { origin: 'dmalab', lesson: L(L13, 'terminate-async-and-synchronize'), what: 'dma_async_issue_pending() between dmaengine_terminate_async() and dmaengine_synchronize()' },
  DMAENGINE_RESUME_NOT_PAUSED: { origin: 'dmalab', lesson: L(L13, 'pause-and-resume'), what: 'dmaengine_resume() of a channel that is not paused' },
  DMAENGINE_DESC_REUSED: { origin: 'dmalab', lesson: L(L11, 'descriptors-and-cookies'), what: 'a completed (or still queued) descriptor submitted again without DMA_CTRL_REUSE' },
  DMAENGINE_PREP_NULL_IGNORED: { origin: 'dmalab', lesson: L(L11, 'checking-every-step'), what: 'a prep returned NULL and the driver used it as a descriptor' },
  DMAENGINE_SUBMIT_ERROR_IGNORED: { origin: 'dmalab', lesson: L(L11, 'checking-every-step'), what: 'dmaengine_submit() returned an error cookie and the driver went on as if the transfer were queued' },
  DMAENGINE_CHAN_LEAK: { origin: 'dmalab', lesson: L(L11, 'releasing-the-channel'), what: 'a DMA channel still held after unbind or a failed probe' },
  DMAENGINE_PROBE_DEFER_SWALLOWED: { origin: 'dmalab', lesson: L(L12, 'probe-deferral'), what: '-EPROBE_DEFER from dma_request_chan() not returned by probe' },
  // A provider's:
  DMAENGINE_WRONG_COOKIE: { origin: 'dmalab', lesson: L(L14, 'completing-cookies'), what: 'a descriptor completed out of order, twice, or before it was issued' },
  DMAENGINE_WRONG_RESIDUE: { origin: 'dmalab', lesson: L(L14, 'reporting-residue'), what: 'a residue the transfer contradicts' },
  DMAENGINE_HW_RUNNING_AFTER_TERMINATE: { origin: 'dmalab', lesson: L(L14, 'terminate-all-stops-the-hardware'), what: 'the controller still moving a terminated descriptor\'s data after terminate and synchronize' },
  DMAENGINE_CALLBACK_HARDIRQ: { origin: 'dmalab', lesson: L(L14, 'callbacks-from-the-tasklet'), what: 'a completion callback called from hard-IRQ context' },
  DMAENGINE_DESC_LEAK: { origin: 'dmalab', lesson: L(L14, 'freeing-descriptors'), what: 'a descriptor prepared and never freed' },
  // Findings of the hidden tests themselves (the data the device moved, what a function returned).
  DATA_MISMATCH: { origin: 'dmalab', lesson: L('00-how-this-course-works', 'reading-a-verdict'), what: 'the data is not what it should be' },
  WRONG_RESULT: { origin: 'dmalab', lesson: L('00-how-this-course-works', 'reading-a-verdict'), what: 'a driver function returned something else than expected' },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;
