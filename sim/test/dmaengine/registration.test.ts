// dma_async_device_register()'s checks and messages (drivers/dma/dmaengine.c, 6.1), channel
// numbering, and of_dma / dma_request_chan resolution: by name through the device tree, -ENODEV
// when the node names no such channel, -EPROBE_DEFER until the controller has probed (the driver
// core then probes the client again), by capability mask, and release.
import { describe, expect, test } from 'vitest';
import { machine, plug_platform, load_platform, unbind_platform, run, dmesg, codes, describe_disabled,
  all_shapes } from '../../testing/index.ts';
import { dma_device_zero, dma_async_device_register, dma_async_device_unregister, dma_cap_set, dma_cap_mask,
  dma_cap_zero, dma_has_cap, dma_cap_clear, dma_request_chan, dma_request_chan_by_mask, dma_release_channel,
  dma_chan_name, dma_chan_zero, DMA_MEMCPY, DMA_CYCLIC, DMA_SLAVE, DMA_PRIVATE, DMA_COMPLETE,
  type dma_device } from '../../include/linux/dmaengine.ts';
import { of_dma_controller_register } from '../../include/linux/of_dma.ts';
import { IS_ERR, PTR_ERR } from '../../include/linux/err.ts';
import { ENODEV, EPROBE_DEFER, EIO, EINVAL } from '../../include/linux/errno.ts';
import { Ticker, FifoPeripheral } from '../hw/ticker.ts';
import { ticker_dma_driver, type tk_dev } from '../drivers/ticker_dma.ts';
import { fifo_client_driver, type fifo_priv } from '../drivers/fifo_client.ts';
import { lab } from './lab.ts';

function bare(dev: dma_device['dev']): dma_device {
  const d = dma_device_zero();
  d.dev = dev;
  d.device_tx_status = () => DMA_COMPLETE;
  d.device_issue_pending = () => {};
  d.channels.push(dma_chan_zero(d), dma_chan_zero(d));
  return d;
}

describe('dma_async_device_register()', () => {
  test('refuses a device without dev, with a capability whose op is missing, without tx_status or issue_pending', () => {
    machine({ shape: 'arm64' });
    const pdev = plug_platform(new FifoPeripheral(), {});
    expect(dma_async_device_register(null)).toBe(-ENODEV);
    expect(dma_async_device_register(bare(null))).toBe(-EIO);
    expect(dmesg()).toContain('dmaengine: DMAdevice must have dev');
    for (const [cap, name] of [[DMA_MEMCPY, 'DMA_MEMCPY'], [DMA_CYCLIC, 'DMA_CYCLIC']] as const) {
      const d = bare(pdev.dev);
      dma_cap_set(cap, d.cap_mask);
      expect(dma_async_device_register(d)).toBe(-EIO);
      expect(dmesg()).toContain(`platform 9100000.serial: Device claims capability ${name}, but op is not defined`);
    }
    const d = bare(pdev.dev);
    d.device_tx_status = null;
    expect(dma_async_device_register(d)).toBe(-EIO);
    expect(dmesg()).toContain('platform 9100000.serial: Device tx_status is not defined');
    d.device_tx_status = () => DMA_COMPLETE;
    d.device_issue_pending = null;
    expect(dma_async_device_register(d)).toBe(-EIO);
    expect(dmesg()).toContain('platform 9100000.serial: Device issue_pending is not defined');
  });

  test('numbers devices and channels dma<N>chan<M>, and gives the number back at unregister', () => {
    machine({ shape: 'x86' });
    const pdev = plug_platform(new FifoPeripheral(), {});
    const a = bare(pdev.dev), b = bare(pdev.dev);
    expect(dma_async_device_register(a)).toBe(0);
    expect(dma_async_device_register(b)).toBe(0);
    expect(a.channels.map(dma_chan_name)).toEqual(['dma0chan0', 'dma0chan1']);
    expect(b.channels.map(dma_chan_name)).toEqual(['dma1chan0', 'dma1chan1']);
    expect(a.chancnt).toBe(2);
    dma_async_device_unregister(a);
    const c = bare(pdev.dev);
    expect(dma_async_device_register(c)).toBe(0);
    expect(dma_chan_name(c.channels[1]!)).toBe('dma0chan1');
  });

  test('of_dma_controller_register() without a node or an xlate: -EINVAL, as of-dma.c says', () => {
    machine({ shape: 'x86' });
    expect(of_dma_controller_register(null, null, null)).toBe(-EINVAL);
    expect(dmesg()).toContain('of_dma_controller_register: not enough information provided');
  });
});

describe('dma_request_chan()', () => {
  test.each(all_shapes())('%s: "rx" and "tx" resolve through of_dma_xlate_by_chan_id to the channels the node names', (shape) => {
    const x = lab(shape);
    expect(x.client.dev.driver?.name).toBe('fifo-client');
    expect(dma_chan_name(x.p.rx)).toBe('dma0chan0');
    expect(dma_chan_name(x.p.tx)).toBe('dma0chan1');
    expect(x.p.rx.name).toBe('dma:rx');
    expect(x.p.rx.slave).toBe(x.client.dev);
    expect(x.p.rx.client_count).toBe(1);
    // Exclusive: the same channel is not handed out twice (the xlate finds it busy).
    const again = run(x.client, () => dma_request_chan(x.client.dev, 'rx'));
    expect(IS_ERR(again) && PTR_ERR(again)).toBe(-ENODEV);
    unbind_platform(x.client);
    expect(x.p.rx.client_count).toBe(0);
    expect(x.p.rx.slave).toBe(null);
    expect(codes()).toEqual([]);
  });

  test('-EPROBE_DEFER until the controller has probed; the driver core probes the client again then', () => {
    const x = lab('arm64', true);
    expect(x.client.dev.driver?.name).toBe('fifo-client');
    expect(dma_chan_name(x.p.tx)).toBe('dma0chan1');
    // The deferral itself is silent (dev_err_probe() keeps quiet about -EPROBE_DEFER).
    expect(dmesg().some((l) => l.includes('no rx channel'))).toBe(false);
  });

  test('a controller that is described but disabled: the client stays deferred', () => {
    machine({ shape: 'arm64' });
    load_platform(ticker_dma_driver);
    load_platform(fifo_client_driver);
    const off = describe_disabled('dma-controller', { reg: 0x9200000, '#dma-cells': 1 });
    const client = plug_platform(new FifoPeripheral(), { dmas: [[off, 0]], 'dma-names': ['rx'] });
    expect(client.dev.driver).toBe(null);
    plug_platform(new Ticker(), { '#dma-cells': 1 });
    expect(client.dev.driver).toBe(null);
  });

  test('-ENODEV for a name the node does not have, or a node without dmas; a missing dma-names is said', () => {
    const x = lab('x86');
    const none = plug_platform(new FifoPeripheral(), {});
    const r1 = run(x.client, () => dma_request_chan(x.client.dev, 'cmd'));
    const r2 = run(none, () => dma_request_chan(none.dev, 'rx'));
    expect([PTR_ERR(r1), PTR_ERR(r2)]).toEqual([-ENODEV, -ENODEV]);
    const unnamed = plug_platform(new FifoPeripheral(), { dmas: [[x.ctrl, 2]] });
    expect(PTR_ERR(run(unnamed, () => dma_request_chan(unnamed.dev, 'rx')))).toBe(-ENODEV);
    expect(dmesg()).toContain("of_dma_request_slave_channel: dma-names property of node '/soc/serial@fe030000' missing or empty");
  });

  test('dma_request_chan_by_mask(): -EPROBE_DEFER with no DMA device at all, -ENODEV when none can, else a channel', () => {
    machine({ shape: 'x86' });
    const mask = dma_cap_mask();
    dma_cap_zero(mask);
    dma_cap_set(DMA_SLAVE, mask);
    expect(PTR_ERR(dma_request_chan_by_mask(mask))).toBe(-EPROBE_DEFER);
    expect(PTR_ERR(dma_request_chan_by_mask(null))).toBe(-ENODEV);
    load_platform(ticker_dma_driver);
    const ctrl = plug_platform(new Ticker(), { '#dma-cells': 1 });
    const tk = ctrl.dev.driver_data as tk_dev;
    const memcpy = dma_cap_mask();
    dma_cap_set(DMA_MEMCPY, memcpy);
    expect(PTR_ERR(dma_request_chan_by_mask(memcpy))).toBe(-ENODEV);
    const got = [0, 1, 2, 3].map(() => run(ctrl, () => dma_request_chan_by_mask(mask)));
    expect(got.map(dma_chan_name)).toEqual(['dma0chan0', 'dma0chan1', 'dma0chan2', 'dma0chan3']);
    expect(PTR_ERR(dma_request_chan_by_mask(mask))).toBe(-ENODEV);
    expect(dma_has_cap(DMA_PRIVATE, tk.ddev.cap_mask)).toBe(true);
    for (const c of got) run(ctrl, () => dma_release_channel(c));
    expect(dma_chan_name(run(ctrl, () => dma_request_chan_by_mask(mask)))).toBe('dma0chan0');
    dma_cap_clear(DMA_SLAVE, mask);
    expect(dma_has_cap(DMA_SLAVE, mask)).toBe(false);
    expect(codes()).toEqual([]);
  });

  test('dma_release_channel(): the last put synchronizes, then frees the channel\'s descriptors', () => {
    const x = lab('x86');
    const p: fifo_priv = x.p;
    expect(p.rx.client_count).toBe(1);
    run(x.client, () => dma_release_channel(p.rx));
    expect(p.rx.client_count).toBe(0);
    run(x.client, () => dma_release_channel(p.rx));
    expect(dmesg()).toContain('chan reference count 0 != 1');
  });
});

test('the headers under sim/include/drivers/ are the sim, not driver code (no call-site rewriting)', async () => {
  const { is_driver_source } = await import('../../site/which.ts');
  expect(is_driver_source('/x/sim/include/drivers/dma/virt-dma.ts')).toBe(false);
  expect(is_driver_source('/x/sim/test/drivers/ticker_dma.ts')).toBe(true);
});
