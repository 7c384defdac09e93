// A dmaengine client for the sim's framework tests: a peripheral with a FIFO register whose
// "rx" and "tx" request lines the device tree wires to a controller. Probe asks for both
// channels and passes an error (-EPROBE_DEFER above all) back to the driver core.
import { devm_platform_ioremap_resource, platform_get_resource, platform_set_drvdata, platform_get_drvdata,
  IORESOURCE_MEM, type platform_device, type platform_driver } from '#linux/platform_device';
import { IS_ERR, PTR_ERR } from '#linux/err';
import { dev_err_probe } from '#linux/device';
import { dma_request_chan, dma_release_channel, dmaengine_slave_config, DMA_SLAVE_BUSWIDTH_4_BYTES,
  type dma_chan } from '#linux/dmaengine';

export interface fifo_priv { pdev: platform_device; rx: dma_chan; tx: dma_chan; fifo_phys: number }

function fifo_probe(pdev: platform_device): number {
  const base = devm_platform_ioremap_resource(pdev, 0);
  if (IS_ERR(base)) return PTR_ERR(base);
  const fifo_phys = platform_get_resource(pdev, IORESOURCE_MEM, 0)!.start;
  const rx = dma_request_chan(pdev.dev, 'rx');
  if (IS_ERR(rx)) return dev_err_probe(pdev.dev, PTR_ERR(rx), 'no rx channel\n');
  const tx = dma_request_chan(pdev.dev, 'tx');
  if (IS_ERR(tx)) {
    dma_release_channel(rx);
    return dev_err_probe(pdev.dev, PTR_ERR(tx), 'no tx channel\n');
  }
  dmaengine_slave_config(rx, { src_addr: fifo_phys, src_addr_width: DMA_SLAVE_BUSWIDTH_4_BYTES, src_maxburst: 4 });
  dmaengine_slave_config(tx, { dst_addr: fifo_phys, dst_addr_width: DMA_SLAVE_BUSWIDTH_4_BYTES, dst_maxburst: 4 });
  platform_set_drvdata(pdev, { pdev, rx, tx, fifo_phys } satisfies fifo_priv);
  return 0;
}

function fifo_remove(pdev: platform_device): number {
  const p = platform_get_drvdata<fifo_priv>(pdev);
  dma_release_channel(p.tx);
  dma_release_channel(p.rx);
  return 0;
}

export const fifo_client_driver: platform_driver = {
  probe: fifo_probe,
  remove: fifo_remove,
  driver: { name: 'fifo-client', of_match_table: [{ compatible: 'dmalab,fifo-client' }] },
};
