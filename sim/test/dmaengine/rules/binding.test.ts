// Channels and the driver core (lesson 11 § Releasing the channel, lesson 12 § Probe
// deferral): a channel still held at unbind or after a failed probe (DMAENGINE_CHAN_LEAK, with
// the request's line), and a probe that turns -EPROBE_DEFER into success without a channel or
// into another error (DMAENGINE_PROBE_DEFER_SWALLOWED). On every shape; the driver that
// releases, and the one that returns -EPROBE_DEFER (then binds when the controller comes), clean.
import { describe, expect, test } from 'vitest';
import { all_shapes, machine, plug_dmac, plug_node, plug_uart, load_platform, unbind_platform, describe_disabled,
  type ShapeName } from '../../../testing/index.ts';
import { dmac_driver } from '../../../drivers/dma/dmac.ts';
import { elab_driver, type ElabCfg } from '../../drivers/engine_lab.ts';
import { setup, caught, clean, with_code } from './lab.ts';

/** The lab client loaded and its node plugged before any controller exists. */
function early(shape: ShapeName, cfg: Partial<ElabCfg>) {
  machine({ shape, seed: 3 });
  load_platform(elab_driver(cfg));
  return plug_node('engine-lab', ['dmalab,engine-lab']);
}

describe.each(all_shapes())('%s', (shape) => {
  test('no dma_release_channel() in remove: the channel held at unbind, with the request\'s line; released, clean', () => {
    const x = setup(shape, { leak: true });
    unbind_platform(x.pdev);
    caught('DMAENGINE_CHAN_LEAK', /^dmalab: engine-lab engine-lab: driver left DMA channel dma0chan0 held at unbind\ndmalab: every channel from dma_request_chan_by_mask\(\) needs a dma_release_channel\(\)/,
      [['Requested at', 'elab_request']]);

    const y = setup(shape);
    unbind_platform(y.pdev);
    clean();
  });

  test('a failed probe that keeps its first channel (the second one defers): caught at the probe', () => {
    machine({ shape, seed: 3 });
    load_platform(dmac_driver);
    const { pdev: ctrl, hw } = plug_dmac();
    // "tx" points at a second controller that is described but never probes.
    const late = describe_disabled('dma-controller', { reg: 0x9200000, '#dma-cells': 1 });
    load_platform(elab_driver({ mode: 'slave', leak: true }));
    plug_uart({ pdev: ctrl, hw }, { node: { dmas: [[ctrl, 3], [late, 4]], 'dma-names': ['rx', 'tx'] } });
    caught('DMAENGINE_CHAN_LEAK', /^dmalab: engine-lab [\w.@-]+: failed probe left DMA channel dma0chan0 held\n/, [['Requested at', 'elab_request']]);

    machine({ shape, seed: 3 });
    load_platform(dmac_driver);
    const c2 = plug_dmac();
    const late2 = describe_disabled('dma-controller', { reg: 0x9200000, '#dma-cells': 1 });
    load_platform(elab_driver({ mode: 'slave' }));
    plug_uart({ pdev: c2.pdev, hw: c2.hw }, { node: { dmas: [[c2.pdev, 3], [late2, 4]], 'dma-names': ['rx', 'tx'] } });
    clean();
  });

  test('-EPROBE_DEFER swallowed (bound without a channel, or -ENODEV): caught with the request; passed back, the probe retries and binds, clean', () => {
    early(shape, { on_defer: 'swallow' });
    caught('DMAENGINE_PROBE_DEFER_SWALLOWED', /^dmalab: engine-lab engine-lab: dma_request_chan_by_mask\(\) returned -EPROBE_DEFER but probe returned 0 \(bound without the channel\)\ndmalab: -EPROBE_DEFER means "not yet"/,
      [['Requested at', 'elab_request']]);

    early(shape, { on_defer: 'enodev' });
    caught('DMAENGINE_PROBE_DEFER_SWALLOWED', /but probe returned -ENODEV/, [['Requested at', 'elab_request']]);

    const pdev = early(shape, { on_defer: 'return' });
    expect(pdev.dev.driver).toBeFalsy();
    load_platform(dmac_driver);
    plug_dmac();
    expect(pdev.dev.driver?.name).toBe('engine-lab');
    unbind_platform(pdev);
    clean();
    expect(with_code('DMAENGINE_CHAN_LEAK')).toEqual([]);
  });
});
