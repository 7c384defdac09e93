// SPDX-License-Identifier: GPL-2.0
/* Client bug (dmalab DMAENGINE_SYNC_IN_ATOMIC): dmaengine_terminate_sync() with a spinlock held.
 * dmaengine_synchronize()'s might_sleep() prints the kernel's BUG line. */
#include <linux/module.h>
#include <linux/dmaengine.h>
#include <linux/spinlock.h>

static DEFINE_SPINLOCK(lock);
static struct dma_chan *chan;

static int __init rigbug_init(void)
{
	dma_cap_mask_t mask;

	dma_cap_zero(mask);
	dma_cap_set(DMA_MEMCPY, mask);
	chan = dma_request_chan_by_mask(&mask);
	if (IS_ERR(chan))
		return PTR_ERR(chan);
	pr_info("rigbug_sync_atomic: using %s\n", dma_chan_name(chan));
	spin_lock(&lock);
	dmaengine_terminate_sync(chan);
	spin_unlock(&lock);
	return 0;
}

static void __exit rigbug_exit(void)
{
	dma_release_channel(chan);
}

module_init(rigbug_init);
module_exit(rigbug_exit);
MODULE_LICENSE("GPL");
