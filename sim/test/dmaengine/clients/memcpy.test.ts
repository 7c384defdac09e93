// Exercise 11's client sketch (clients/memcpy.ts) on the bundled provider: its probe's self-test,
// copies of many sizes checked byte for byte on every shape, the channel given back at unbind,
// and a probe that defers until a controller has registered.
import { describe, expect, test } from 'vitest';
import { machine, plug_node, plug_dmac, load_platform, unbind_platform, run, fill, read, pattern, compare, dmesg,
  codes, all_shapes } from '../../../testing/index.ts';
import { M } from '../../../kernel/machine.ts';
import { kmalloc, kfree, GFP_KERNEL } from '../../../include/linux/slab.ts';
import { dmac_driver } from '../../../drivers/dma/dmac.ts';
import { dcopy_driver, dcopy_memcpy, type dcopy } from './memcpy.ts';

describe('exercise 11 sketch: a DMA_MEMCPY client', () => {
  test.each(all_shapes())('%s: probe borrows a channel and passes its self-test; copies land byte for byte; unbind gives it back', (shape) => {
    machine({ shape, seed: 7 });
    load_platform(dmac_driver);
    const ctrl = plug_dmac().pdev;
    load_platform(dcopy_driver);
    const pdev = plug_node();
    expect(pdev.dev.driver?.name).toBe('dma-copy');
    expect(dmesg()).toContain('dma-copy dma-copy: using dma0chan0');
    const p = pdev.dev.driver_data as dcopy;
    for (const len of [1, 3, 64, 4095, 16380, 16384, 65536]) {
      const src = run(pdev, () => kmalloc(len, GFP_KERNEL)), dst = run(pdev, () => kmalloc(len, GFP_KERNEL));
      fill(src, pattern(len, len));
      fill(dst, new Uint8Array(len));
      expect(run(pdev, () => dcopy_memcpy(p, dst, src, len))).toBe(0);
      expect(compare(read(dst, len), pattern(len, len))).toBe(null);
      run(pdev, () => { kfree(src); kfree(dst); });
    }
    unbind_platform(pdev);
    expect(p.chan.client_count).toBe(0);
    unbind_platform(ctrl);
    expect(codes()).toEqual([]);
  });

  test('with no controller registered yet the probe defers, and binds when the controller does', () => {
    machine({ shape: 'arm64' });
    load_platform(dcopy_driver);
    const pdev = plug_node();
    expect(pdev.dev.driver).toBeFalsy();
    load_platform(dmac_driver);
    plug_dmac();
    expect(pdev.dev.driver?.name).toBe('dma-copy');
    expect(M.dmesg.texts().some((l) => l === 'dma-copy dma-copy: using dma0chan0')).toBe(true);
    expect(codes()).toEqual([]);
  });
});
