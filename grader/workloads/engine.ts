// The DMA engine's playground workloads (npm run try -- NAME): the bundled provider
// (sim/drivers/dma/dmac.ts) on the controller model, driven by the dmatest suite
// (sim/testing/drivers/dmatest.ts). Each plugs what it needs into the machine try.ts made and
// prints what it saw; the kernel log and the checker's verdict come from try.ts.
import * as sim from '#sim/testing';
import { M } from '../../sim/kernel/machine.ts';
import { ioremap, writel } from '#linux/io';
import { kmalloc, kfree, GFP_KERNEL } from '#linux/slab';
import { dma_alloc_coherent, dma_free_coherent } from '#linux/dma-mapping';
import { IS_ERR, PTR_ERR } from '#linux/err';
import { dma_request_chan, dma_request_channel, dma_release_channel, dma_cap_mask, dma_cap_set, DMA_MEMCPY,
  DMA_MEM_TO_DEV, DMA_SLAVE_BUSWIDTH_4_BYTES, DMA_PAUSED, type dma_chan } from '#linux/dmaengine';
import { out } from '#dmalab/ref';
import { I2S_CTRL, I2S_FIFOCTL, I2S_TXDATA, I2S_CTRL_EN, I2S_CTRL_TXE, I2S_CTRL_TXDMAE } from '../../sim/hw/i2s.ts';
import { dmac_driver } from '../../sim/drivers/dma/dmac.ts';
import { dmatest_run, dmatest_cyclic, dmatest_client_driver, dmatest_client_copy,
  type dmatest_client } from '../../sim/testing/drivers/dmatest.ts';

export interface EngineWorkload { about: string; run(log: (s: string) => void): void }

function memcpy_mask() {
  const m = dma_cap_mask();
  dma_cap_set(DMA_MEMCPY, m);
  return m;
}

/** The client's copies of a few sizes, each checked byte for byte. */
function copies(pdev: sim.platform_device, log: (s: string) => void): void {
  const c = pdev.dev.driver_data as dmatest_client;
  for (const len of [1, 100, 4096, 20000]) {
    const src = sim.run(pdev, () => kmalloc(len, GFP_KERNEL)), dst = sim.run(pdev, () => kmalloc(len, GFP_KERNEL));
    sim.fill(src, sim.pattern(len, len));
    sim.fill(dst, new Uint8Array(len));
    const ret = sim.run(pdev, () => dmatest_client_copy(c, dst, src, len));
    const bad = sim.compare(sim.read(dst, len), sim.pattern(len, len));
    log(`copy of ${len} bytes ${c.chan ? 'by DMA' : 'by PIO'}: ${ret} (${bad ?? 'every byte landed'})`);
    sim.run(pdev, () => { kfree(src); kfree(dst); });
  }
}

export const ENGINE_WORKLOADS: Record<string, EngineWorkload> = {
  dmatest: {
    about: 'dmatest (dmatest.c 6.1) on the bundled provider: two threads on each of two channels, 20 tests each',
    run(log) {
      sim.load_platform(dmac_driver);
      const { pdev } = sim.plug_dmac();
      const r = sim.run(pdev, () => dmatest_run({ max_channels: 2, threads_per_chan: 2, iterations: 20, seed: M.seed }));
      for (const t of r.threads) log(`${t.name}: ${t.total_tests} tests, ${t.failed_tests} failures`);
    },
  },
  cyclic: {
    about: 'a cyclic transfer to the I2S serializer: period callbacks and residue, paused and resumed, then terminate_sync',
    run(log) {
      sim.load_platform(dmac_driver);
      const { pdev } = sim.plug_i2s(sim.plug_dmac());
      const base = ioremap(pdev.resource[0]!.start, 0x1000);
      const chan = sim.run(pdev, () => dma_request_chan(pdev.dev, 'tx'));
      if (IS_ERR(chan)) { log(`dma_request_chan(tx): ${PTR_ERR(chan)}`); return; }
      const len = 4096, h = out(0);
      const ring = sim.run(pdev, () => dma_alloc_coherent(chan.device.dev!, len, h, GFP_KERNEL));
      const r = sim.run(pdev, () => dmatest_cyclic(chan, {
        buf: h.value, buf_len: len, period_len: 1024, direction: DMA_MEM_TO_DEV,
        config: { dst_addr: pdev.resource[0]!.start + I2S_TXDATA, dst_addr_width: DMA_SLAVE_BUSWIDTH_4_BYTES, dst_maxburst: 8 },
        run_ms: 24, pause_ms: 12,
        started: () => {
          writel(8, base + I2S_FIFOCTL);
          writel(I2S_CTRL_EN | I2S_CTRL_TXE | I2S_CTRL_TXDMAE, base + I2S_CTRL);
        },
      }));
      if (!r) { log('the cyclic transfer could not be set up'); return; }
      const show = (xs: { status: number; residue: number }[]) => xs.map((x) => `${x.residue}${x.status === DMA_PAUSED ? ' (paused)' : ''}`).join(', ');
      log(`period callbacks so far: ${r.periods[0]} while running, ${r.periods[1]} after the pause, ${r.periods[2]} after resuming; ${r.after_terminate} after terminate_sync`);
      log(`residue running: ${show(r.running)}`);
      log(`residue paused: ${show(r.paused)} (dmaengine_pause: ${r.pause_ret})`);
      log(`residue resumed: ${show(r.resumed)}`);
      sim.run(pdev, () => {
        writel(0, base + I2S_CTRL);
        dma_free_coherent(chan.device.dev!, len, ring, h.value);
        dma_release_channel(chan);
      });
    },
  },
  defer: {
    about: 'a memcpy client probed before its controller: -EPROBE_DEFER, then DMA once the controller probes',
    run(log) {
      sim.load_platform(dmatest_client_driver);
      const pdev = sim.plug_node();
      log(`client plugged, no controller yet: ${pdev.dev.driver ? 'bound' : 'probe deferred'}`);
      sim.load_platform(dmac_driver);
      sim.plug_dmac();
      log(`controller probed: the client is ${pdev.dev.driver ? 'bound' : 'still unbound'}`);
      if (!pdev.dev.driver) return;
      copies(pdev, log);
      sim.unbind_platform(pdev);
    },
  },
  pio: {
    about: 'a memcpy client finding every channel taken: -ENODEV, so it copies by PIO',
    run(log) {
      sim.load_platform(dmac_driver);
      const ctrl = sim.plug_dmac().pdev;
      const held = sim.run(ctrl, () => {
        const all: dma_chan[] = [];
        for (let c; (c = dma_request_channel(memcpy_mask(), null, null));) all.push(c);
        return all;
      });
      log(`${held.length} channels held elsewhere`);
      sim.load_platform(dmatest_client_driver);
      const pdev = sim.plug_node();
      copies(pdev, log);
      sim.unbind_platform(pdev);
      sim.run(ctrl, () => held.forEach((c) => dma_release_channel(c)));
    },
  },
};
