// SPDX-License-Identifier: GPL-2.0
/* Client bug (dmalab DMAENGINE_SYNC_IN_CALLBACK / _IN_ATOMIC): dmaengine_terminate_sync() from a
 * memcpy's completion callback, which runs in the controller's tasklet (softirq). */
#include <linux/module.h>
#include <linux/dmaengine.h>
#include <linux/dma-mapping.h>
#include <linux/completion.h>
#include <linux/slab.h>

#define LEN 4096
static struct dma_chan *chan;
static DECLARE_COMPLETION(done);

static void rigbug_callback(void *param)
{
	pr_info("rigbug_sync_in_callback: callback, in_softirq()=%d\n", !!in_softirq());
	dmaengine_terminate_sync(chan);
	complete(&done);
}

static int __init rigbug_init(void)
{
	struct device *dev;
	struct dma_async_tx_descriptor *tx;
	dma_cap_mask_t mask;
	dma_addr_t s, d;
	void *src, *dst;
	int ret = 0;

	dma_cap_zero(mask);
	dma_cap_set(DMA_MEMCPY, mask);
	chan = dma_request_chan_by_mask(&mask);
	if (IS_ERR(chan))
		return PTR_ERR(chan);
	dev = chan->device->dev;
	src = kmalloc(LEN, GFP_KERNEL);
	dst = kmalloc(LEN, GFP_KERNEL);
	s = dma_map_single(dev, src, LEN, DMA_TO_DEVICE);
	d = dma_map_single(dev, dst, LEN, DMA_FROM_DEVICE);
	if (dma_mapping_error(dev, s) || dma_mapping_error(dev, d)) {
		ret = -ENOMEM;
		goto out;
	}
	tx = dmaengine_prep_dma_memcpy(chan, d, s, LEN, DMA_PREP_INTERRUPT | DMA_CTRL_ACK);
	if (!tx) {
		ret = -EIO;
		goto out;
	}
	tx->callback = rigbug_callback;
	dmaengine_submit(tx);
	dma_async_issue_pending(chan);
	if (!wait_for_completion_timeout(&done, msecs_to_jiffies(3000)))
		pr_info("rigbug_sync_in_callback: timed out\n");
out:
	dma_unmap_single(dev, d, LEN, DMA_FROM_DEVICE);
	dma_unmap_single(dev, s, LEN, DMA_TO_DEVICE);
	kfree(dst);
	kfree(src);
	if (ret)
		dma_release_channel(chan);
	return ret;
}

static void __exit rigbug_exit(void)
{
	dma_release_channel(chan);
}

module_init(rigbug_init);
module_exit(rigbug_exit);
MODULE_LICENSE("GPL");
