// The rest of the API, one test each: dma_sync_wait(), dma_request_channel() with a filter,
// dma_get_any_slave_channel(), dmaenginem_async_device_register(), a controller that goes away
// (its clients defer again), the deprecated terminate_all, and the tasklets underneath.
import { describe, expect, test } from 'vitest';
import { machine, plug_platform, load_platform, unbind_platform, bind_platform, run, run_for_ms, dmesg,
  codes } from '../../testing/index.ts';
import { M } from '../../kernel/machine.ts';
import { dma_sync_wait, dma_wait_for_async_tx, dma_request_channel, dma_cap_mask, dma_cap_set, dma_chan_name,
  dma_get_any_slave_channel, dma_release_channel, dmaenginem_async_device_register, dma_device_zero, dma_chan_zero,
  dma_request_chan, dmaengine_prep_slave_single, dmaengine_prep_interleaved_dma, dmaengine_submit,
  dmaengine_terminate_all, DMA_SLAVE, DMA_DEV_TO_MEM, DMA_COMPLETE, DMA_ERROR, DMA_PAUSED,
  DMA_PREP_INTERRUPT, type dma_chan } from '../../include/linux/dmaengine.ts';
import { tasklet_setup, tasklet_schedule, tasklet_kill, tasklet_disable, tasklet_enable,
  type tasklet_struct } from '../../include/linux/interrupt.ts';
import { PTR_ERR } from '../../include/linux/err.ts';
import { dma_device_list } from '../../dmaengine/dmaengine.ts';
import { EPROBE_DEFER } from '../../include/linux/errno.ts';
import { Ticker, FifoPeripheral } from '../hw/ticker.ts';
import { ticker_dma_driver, type tk_dev } from '../drivers/ticker_dma.ts';
import { fifo_client_driver } from '../drivers/fifo_client.ts';
import { lab } from './lab.ts';

describe('waiting and finding channels', () => {
  test('dma_sync_wait() issues and spins until complete; dma_wait_for_async_tx(NULL) is complete', () => {
    const x = lab('arm64');
    const cookie = run(x.client, () => dmaengine_submit(dmaengine_prep_slave_single(x.p.rx, 0x1000, 4096, DMA_DEV_TO_MEM, 0)!));
    const t0 = M.clock.now;
    expect(run(x.client, () => dma_sync_wait(x.p.rx, cookie))).toBe(DMA_COMPLETE);
    expect(M.clock.now - t0).toBeGreaterThanOrEqual(40_960);
    expect(dma_wait_for_async_tx(null)).toBe(DMA_COMPLETE);
  });

  test('dma_sync_wait() returns a paused channel\'s DMA_PAUSED; on one that takes too long, after 5 s: "timeout!"', () => {
    const x = lab('x86');
    const c1 = run(x.client, () => dmaengine_submit(dmaengine_prep_slave_single(x.p.rx, 0x1000, 4096, DMA_DEV_TO_MEM, 0)!));
    run(x.client, () => { x.p.rx.device.device_issue_pending!(x.p.rx); x.p.rx.device.device_pause!(x.p.rx); });
    expect(run(x.client, () => dma_sync_wait(x.p.rx, c1))).toBe(DMA_PAUSED);
    run(x.client, () => dmaengine_terminate_all(x.p.rx));
    // 1 GiB at the ticker's 100 MB/s: about 10 s.
    const c2 = run(x.client, () => dmaengine_submit(dmaengine_prep_slave_single(x.p.rx, 0x1000, 1 << 30, DMA_DEV_TO_MEM, 0)!));
    const t0 = M.clock.now;
    expect(run(x.client, () => dma_sync_wait(x.p.rx, c2))).toBe(DMA_ERROR);
    expect((M.clock.now - t0) / 1e9).toBeCloseTo(5, 1);
    expect(dmesg()).toContain('ticker-dma fe000000.dma-controller: dma_sync_wait: timeout!');
  });

  test('dma_request_channel() with a filter; dma_get_any_slave_channel() takes the next free one', () => {
    machine({ shape: 'x86-iommu' });
    load_platform(ticker_dma_driver);
    const ctrl = plug_platform(new Ticker(), { '#dma-cells': 1 });
    const mask = dma_cap_mask();
    dma_cap_set(DMA_SLAVE, mask);
    const c2 = run(ctrl, () => dma_request_channel(mask, (c: dma_chan, p) => c.chan_id === p, 2));
    expect(c2 && dma_chan_name(c2)).toBe('dma0chan2');
    expect(run(ctrl, () => dma_request_channel(mask, () => false, null))).toBe(null);
    const tk = ctrl.dev.driver_data as tk_dev;
    expect(dma_chan_name(run(ctrl, () => dma_get_any_slave_channel(tk.ddev))!)).toBe('dma0chan0');
    run(ctrl, () => dma_release_channel(c2!));
  });
});

describe('providers coming and going', () => {
  test('dmaenginem_async_device_register(): unregistered at unbind', () => {
    machine({ shape: 'arm64' });
    const pdev = plug_platform(new FifoPeripheral(), {});
    const d = dma_device_zero();
    d.device_tx_status = () => DMA_COMPLETE;
    d.device_issue_pending = () => {};
    d.channels.push(dma_chan_zero(d));
    bind_platform({ probe: (p) => { d.dev = p.dev; return dmaenginem_async_device_register(d); }, driver: { name: 'm', of_match_table: [{ compatible: 'dmalab,fifo-client' }] } }, pdev);
    expect(dma_device_list()).toEqual([d]);
    unbind_platform(pdev);
    expect(dma_device_list()).toEqual([]);
  });

  test('a controller unbound: its clients cannot find it and defer; bound again, they probe', () => {
    const x = lab('arm64');
    unbind_platform(x.client);
    unbind_platform(x.ctrl);
    const r = run(x.client, () => dma_request_chan(x.client.dev, 'rx'));
    expect(PTR_ERR(r)).toBe(-EPROBE_DEFER);
    expect(bind_platform(fifo_client_driver, x.client)).toBe(-EPROBE_DEFER);
    expect(bind_platform(ticker_dma_driver, x.ctrl)).toBe(0);
    expect(x.client.dev.driver?.name).toBe('fifo-client');
    expect(codes()).toEqual([]);
  });

  test('dmaengine_terminate_all() (deprecated) still stops the channel; an interleaved prep the provider lacks is NULL', () => {
    const x = lab('x86');
    let called = 0;
    run(x.client, () => {
      const d = dmaengine_prep_slave_single(x.p.rx, 0x1000, 4096, DMA_DEV_TO_MEM, DMA_PREP_INTERRUPT)!;
      d.callback = () => called++;
      dmaengine_submit(d);
      x.p.rx.device.device_issue_pending!(x.p.rx);
    });
    expect(run(x.client, () => dmaengine_terminate_all(x.p.rx))).toBe(0);
    run_for_ms(1);
    expect(called).toBe(0);
    expect(dmaengine_prep_interleaved_dma(x.p.rx, {}, 0)).toBe(null);
  });
});

describe('tasklets', () => {
  test('run once in softirq context however often scheduled; not while disabled; tasklet_kill() runs a pending one', () => {
    machine({ shape: 'x86' });
    const runs: boolean[] = [];
    const t = {} as tasklet_struct;
    tasklet_setup(t, () => runs.push(M.sched.in_softirq()));
    tasklet_schedule(t);
    tasklet_schedule(t);
    run_for_ms(1);
    expect(runs).toEqual([true]);
    tasklet_disable(t);
    tasklet_schedule(t);
    run_for_ms(1);
    expect(runs).toHaveLength(1);
    tasklet_enable(t);
    run_for_ms(1);
    expect(runs).toHaveLength(2);
    tasklet_schedule(t);
    run(null, () => tasklet_kill(t));
    expect(runs).toEqual([true, true, true]);
  });
});
