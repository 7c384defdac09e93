// SPDX-License-Identifier: GPL-2.0
/* Client bug (dmalab DMAENGINE_CHAN_LEAK): the module goes without dma_release_channel(). The
 * kernel says nothing; the channel stays in use (/sys/class/dma/dma0chanN/in_use). */
#include <linux/module.h>
#include <linux/dmaengine.h>

static struct dma_chan *chan;

static int __init rigbug_init(void)
{
	dma_cap_mask_t mask;

	dma_cap_zero(mask);
	dma_cap_set(DMA_MEMCPY, mask);
	chan = dma_request_chan_by_mask(&mask);
	if (IS_ERR(chan))
		return PTR_ERR(chan);
	pr_info("rigbug_chan_leak: holding %s\n", dma_chan_name(chan));
	return 0;
}

static void __exit rigbug_exit(void)
{
	/* no dma_release_channel(chan) */
}

module_init(rigbug_init);
module_exit(rigbug_exit);
MODULE_LICENSE("GPL");
