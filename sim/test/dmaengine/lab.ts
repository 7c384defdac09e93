// A machine with the ticker controller and a FIFO client wired to its channels 0 (rx) and 1
// (tx), for the dmaengine framework tests; the provider and client are the drivers under
// sim/test/drivers/, bound as a learner's would be.
import { machine, plug_platform, load_platform, type ShapeName, type platform_device } from '../../testing/index.ts';
import { Ticker, FifoPeripheral } from '../hw/ticker.ts';
import { ticker_dma_driver, type tk_dev } from '../drivers/ticker_dma.ts';
import { fifo_client_driver, type fifo_priv } from '../drivers/fifo_client.ts';

export interface Lab { ctrl: platform_device; client: platform_device; tk: tk_dev; p: fifo_priv }

/** Controller first, then the client (or the other way round: the client then defers). */
export function lab(shape: ShapeName = 'x86', client_first = false): Lab {
  machine({ shape });
  const ctrl_desc = () => plug_platform(new Ticker(), { '#dma-cells': 1 });
  let ctrl: platform_device, client: platform_device;
  if (client_first) {
    load_platform(fifo_client_driver);
    // The client's node points at the controller's, which must exist first: describe it, then
    // plug the client, then load the controller's driver.
    ctrl = ctrl_desc();
    client = plug_platform(new FifoPeripheral(), { dmas: [[ctrl, 0], [ctrl, 1]], 'dma-names': ['rx', 'tx'] });
    load_platform(ticker_dma_driver);
  } else {
    load_platform(ticker_dma_driver);
    ctrl = ctrl_desc();
    load_platform(fifo_client_driver);
    client = plug_platform(new FifoPeripheral(), { dmas: [[ctrl, 0], [ctrl, 1]], 'dma-names': ['rx', 'tx'] });
  }
  const tk = ctrl.dev.driver_data as tk_dev;
  const p = client.dev.driver_data as fifo_priv;
  return { ctrl, client, tk, p };
}
