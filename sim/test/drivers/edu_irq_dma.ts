// A small correct edu driver for sim tests: one streaming DMA transfer completed by the
// interrupt, with a timeout (as lesson 04 teaches).
import { pci_enable_device, pci_disable_device, pci_request_regions, pci_release_regions, pci_iomap,
  pci_iounmap, pci_set_master, pci_set_drvdata, pci_get_drvdata, PCI_DEVICE, type pci_dev, type pci_driver } from '#linux/pci';
import { dma_map_single, dma_unmap_single, dma_mapping_error, dma_set_mask_and_coherent, DMA_BIT_MASK,
  DMA_TO_DEVICE, DMA_FROM_DEVICE } from '#linux/dma-mapping';
import { readl, writel, writeq, type iomem } from '#linux/io';
import { request_irq, free_irq, IRQ_HANDLED, IRQ_NONE, IRQF_SHARED } from '#linux/interrupt';
import { DECLARE_COMPLETION, reinit_completion, complete, wait_for_completion_timeout, type completion } from '#linux/completion';
import { msecs_to_jiffies } from '#linux/jiffies';
import { ENOMEM, ETIMEDOUT, EIO } from '#linux/errno';

export interface edu_dev { pdev: pci_dev; bar: iomem; done: completion }

function edu_irq(_irq: number, e: edu_dev): number {
  const status = readl(e.bar + 0x24);
  if (!(status & 0x100)) return IRQ_NONE;
  writel(status & 0x100, e.bar + 0x64);
  complete(e.done);
  return IRQ_HANDLED;
}

/** One transfer; returns 0, -ENOMEM, -ETIMEDOUT (the buffer is then left mapped: the device may
 *  still be using it). */
export function edu_dma(e: edu_dev, buf: number, len: number, to_device: boolean): number {
  const dev = e.pdev.dev;
  const dir = to_device ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
  const h = dma_map_single(dev, buf, len, dir);
  if (dma_mapping_error(dev, h)) return -ENOMEM;
  reinit_completion(e.done);
  writeq(to_device ? h : 0x40000, e.bar + 0x80);
  writeq(to_device ? 0x40000 : h, e.bar + 0x88);
  writeq(len, e.bar + 0x90);
  writeq(1 | 4 | (to_device ? 0 : 2), e.bar + 0x98);
  if (!wait_for_completion_timeout(e.done, msecs_to_jiffies(1000))) return -ETIMEDOUT;
  dma_unmap_single(dev, h, len, dir);
  return 0;
}

function probe(pdev: pci_dev): number {
  const e: edu_dev = { pdev, bar: 0, done: DECLARE_COMPLETION() };
  let ret = pci_enable_device(pdev);
  if (ret) return ret;
  err_disable: {
    ret = pci_request_regions(pdev, 'edu');
    if (ret) break err_disable;
    err_release: {
      e.bar = pci_iomap(pdev, 0, 0);
      if (!e.bar) { ret = -ENOMEM; break err_release; }
      err_unmap: {
        ret = dma_set_mask_and_coherent(pdev.dev, DMA_BIT_MASK(28));
        if (ret) { ret = -EIO; break err_unmap; }
        pci_set_master(pdev);
        ret = request_irq(pdev.irq, edu_irq, IRQF_SHARED, 'edu', e);
        if (ret) break err_unmap;
        pci_set_drvdata(pdev, e);
        return 0;
      }
      pci_iounmap(pdev, e.bar);
    }
    pci_release_regions(pdev);
  }
  pci_disable_device(pdev);
  return ret;
}

function remove(pdev: pci_dev): void {
  const e = pci_get_drvdata<edu_dev>(pdev);
  free_irq(pdev.irq, e);
  pci_iounmap(pdev, e.bar);
  pci_release_regions(pdev);
  pci_disable_device(pdev);
}

export const edu_irq_dma_driver: pci_driver = { name: 'edu', id_table: [PCI_DEVICE(0x1234, 0x11e8)], probe, remove };
export { ETIMEDOUT };
