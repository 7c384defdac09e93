// The playground run of exercise 14 (npm run try -- 14 [--shape arm64-smmu]): the learner's pdma
// provider bound to its controller, then dmatest on its channels (modprobe dmatest run=1: every
// memcpy channel, two threads each, their summaries in dmesg), a channel's capabilities as a
// slave client would read them, and unbind (every program back in the pool).
import type { Playground } from '../try.ts';
import type * as Solution from '../../solutions/14-dma-controller/driver.ts';
import { plug_pdma, load_platform, unbind_platform, call } from '#sim/testing';
import { dma_request_channel, dma_release_channel, dma_cap_mask, dma_cap_set, dma_get_slave_caps, dma_slave_caps_zero,
  DMA_MEMCPY } from '#linux/dmaengine';
import { dmatest_run } from '../../sim/testing/drivers/dmatest.ts';

export default function workload(t: Playground, drv: typeof Solution): void {
  load_platform(drv.pdma_driver);
  const ctrl = plug_pdma();
  if (!ctrl.pdev.dev.driver) {
    t.log('pdma did not bind (see its probe in dmesg)');
    return;
  }
  const mask = dma_cap_mask();
  dma_cap_set(DMA_MEMCPY, mask);
  const o = call(ctrl.pdev, () => {
    const chan = dma_request_channel(mask, null, null);
    if (!chan) return 'no DMA_MEMCPY channel: the provider registered no dma_device';
    const caps = dma_slave_caps_zero();
    const ret = dma_get_slave_caps(chan, caps);
    dma_release_channel(chan);
    return ret ? `dma_get_slave_caps() = ${ret}`
      : `caps: widths 0x${caps.src_addr_widths.toString(16)}, directions 0x${caps.directions.toString(16)}, max_burst ${caps.max_burst}, ` +
        `pause ${caps.cmd_pause}, resume ${caps.cmd_resume}, terminate ${caps.cmd_terminate}, residue granularity ${caps.residue_granularity}`;
  });
  t.log(o.ok ? o.value : `crashed (${o.halt})`);
  const r = call(ctrl.pdev, () => dmatest_run({ threads_per_chan: 2, iterations: 10, test_buf_size: 16384, seed: t.machine.seed }));
  if (!r.ok) t.log(`dmatest crashed (${r.halt})`);
  else for (const th of r.value.threads) t.log(`${th.name}: ${th.total_tests} tests, ${th.failed_tests} failures`);
  unbind_platform(ctrl.pdev);
}
