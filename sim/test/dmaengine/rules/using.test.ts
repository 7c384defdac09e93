// Using a channel (lesson 12 § Two kinds of direction, § Slave config and caps; lesson 13 §
// Pause and resume; lesson 11 § Descriptors and cookies): a prep whose direction contradicts
// the mapping (DMAENGINE_DIRECTION_MISMATCH), a slave config the controller cannot do
// (DMAENGINE_SLAVE_CONFIG_UNSUPPORTED), a resume of a channel not paused
// (DMAENGINE_RESUME_NOT_PAUSED), a completed descriptor submitted again without
// DMA_CTRL_REUSE (DMAENGINE_DESC_REUSED). On every shape; the correct use clean.
import { describe, expect, test } from 'vitest';
import { all_shapes, run_for_ms, unbind_platform } from '../../../testing/index.ts';
import { DMA_TO_DEVICE, DMA_FROM_DEVICE } from '../../../include/linux/dma-direction.ts';
import { DMA_MEM_TO_DEV, DMA_DEV_TO_MEM, DMA_SLAVE_BUSWIDTH_8_BYTES } from '../../../include/linux/dmaengine.ts';
import { EINVAL } from '../../../include/linux/errno.ts';
import { setup, drv, caught, clean, with_code, type Lab } from './lab.ts';
import * as E from '../../drivers/engine_lab.ts';

const DIR = /^dmalab: engine-lab [\w.@-]+: dma0chan0: dmaengine_prep_slave_sg\/single\(\) with DMA_MEM_TO_DEV makes the controller read a buffer mapped DMA_FROM_DEVICE \[device address=0x[0-9a-f]{16}\] \[size=64 bytes\]\ndmalab: a transfer out of memory \(DMA_MEM_TO_DEV\) needs a DMA_TO_DEVICE mapping/;

/** A receive buffer mapped for the rx channel's controller, and its unmap. */
function rx_buffer(x: Lab): { h: number; done: () => void } {
  const buf = drv(x, () => E.elab_alloc(64));
  const h = drv(x, (l) => E.elab_map(l.chan!.device.dev!, buf, 64, DMA_FROM_DEVICE));
  return { h, done: () => drv(x, (l) => { E.elab_unmap(l.chan!.device.dev!, h, 64, DMA_FROM_DEVICE); E.elab_kfree(buf); }) };
}

describe.each(all_shapes())('%s', (shape) => {
  test('a receive buffer prepared DMA_MEM_TO_DEV: DIRECTION_MISMATCH with the prep and the map; DMA_DEV_TO_MEM, clean', () => {
    const x = setup(shape, { mode: 'slave' });
    drv(x, (l) => E.elab_config(l.chan!, { src_addr: l.fifo, dst_addr: l.fifo, src_addr_width: 1, dst_addr_width: 1 }));
    const b = rx_buffer(x);
    drv(x, (l) => E.elab_prep_slave(l.chan!, b.h, 64, DMA_MEM_TO_DEV));
    caught('DMAENGINE_DIRECTION_MISMATCH', DIR, [['Prepared at', 'elab_prep_slave'], ['Mapped at', 'elab_map']]);
    b.done();

    const y = setup(shape, { mode: 'slave' });
    drv(y, (l) => E.elab_config_uart(l, l.chan!, false));
    const c = rx_buffer(y);
    expect(drv(y, (l) => E.elab_prep_slave(l.chan!, c.h, 64, DMA_DEV_TO_MEM))).not.toBe(null);
    c.done();
    unbind_platform(y.pdev);
    clean();
  });

  test('memcpy with source and destination swapped: DIRECTION_MISMATCH for both', () => {
    const x = setup(shape);
    const src = drv(x, () => E.elab_alloc(256)), dst = drv(x, () => E.elab_alloc(256));
    drv(x, (l) => {
      const dev = l.chan!.device.dev!;
      const s = E.elab_map(dev, src, 256, DMA_TO_DEVICE), d = E.elab_map(dev, dst, 256, DMA_FROM_DEVICE);
      E.elab_prep_memcpy(l, s, d, 256);
    });
    caught('DMAENGINE_DIRECTION_MISMATCH', /dmaengine_prep_dma_memcpy\(\) with a memcpy (source|destination) makes the controller (read|write) a buffer mapped DMA_(FROM|TO)_DEVICE/,
      [['Prepared at', 'elab_prep_memcpy'], ['Mapped at', 'elab_map']]);
    expect(with_code('DMAENGINE_DIRECTION_MISMATCH')).toHaveLength(2);
  });

  test('an 8-byte bus width and a 512-beat burst on a controller that has neither: SLAVE_CONFIG_UNSUPPORTED; what the caps allow, clean', () => {
    const x = setup(shape, { mode: 'slave' });
    expect(drv(x, (l) => E.elab_config(l.chan!, { src_addr: l.fifo, src_addr_width: DMA_SLAVE_BUSWIDTH_8_BYTES, src_maxburst: 512 }))).toBe(-EINVAL);
    caught('DMAENGINE_SLAVE_CONFIG_UNSUPPORTED', /^dmalab: engine-lab [\w.@-]+: dma0chan0: dmaengine_slave_config\(\) asks for src_addr_width 8, src_maxburst 512, which dmalab-dmac [\w.@-]+ does not support \(bus widths 1, 2, 4 bytes; bursts 1 to 256\)\ndmalab: compare the FIFO's needs with dma_get_slave_caps\(\)/,
      [['Configured at', 'elab_config'], ['Requested at', 'elab_request']]);

    const y = setup(shape, { mode: 'slave' });
    expect(drv(y, (l) => E.elab_config_uart(l, l.chan!, false))).toBe(0);
    expect(drv(y, (l) => E.elab_config_uart(l, l.tx!, true))).toBe(0);
    unbind_platform(y.pdev);
    clean();
  });

  test('resume without a pause, and resumed twice: RESUME_NOT_PAUSED; pause then resume, clean', () => {
    const x = setup(shape);
    drv(x, (l) => E.elab_resume(l.chan!));
    caught('DMAENGINE_RESUME_NOT_PAUSED', /^dmalab: engine-lab engine-lab: dmaengine_resume\(\) of dma0chan0, which is not paused\ndmalab: "It is invalid to resume a channel which is not currently paused"/,
      [['Resumed at', 'elab_resume']]);
    drv(x, (l) => { E.elab_pause(l.chan!); E.elab_resume(l.chan!); E.elab_resume(l.chan!); });
    // The second resume: the earlier one is the call that left it unpaused.
    expect(with_code('DMAENGINE_RESUME_NOT_PAUSED').map((d) => d.sites.map((s) => s.label))).toEqual([['Resumed at'], ['Resumed at', 'Last resumed at']]);

    const y = setup(shape);
    drv(y, (l) => { E.elab_pause(l.chan!); E.elab_resume(l.chan!); E.elab_pause(l.chan!); E.elab_terminate_sync(l.chan!); E.elab_pause(l.chan!); E.elab_resume(l.chan!); });
    unbind_platform(y.pdev);
    clean();
  });

  test('a completed descriptor submitted again: DESC_REUSED with both submits; with dmaengine_desc_set_reuse(), clean', () => {
    const x = setup(shape);
    const src = drv(x, () => E.elab_alloc(256)), dst = drv(x, () => E.elab_alloc(256));
    drv(x, (l) => {
      const dev = l.chan!.device.dev!;
      const s = E.elab_map(dev, src, 256, DMA_TO_DEVICE), d = E.elab_map(dev, dst, 256, DMA_FROM_DEVICE);
      const tx = E.elab_prep_memcpy(l, d, s, 256)!;
      E.elab_set_callback(l, tx);
      E.elab_submit_checked(l, tx);
      E.elab_issue(l.chan!);
      E.elab_wait(l);
      E.elab_submit(l, tx);
    });
    caught('DMAENGINE_DESC_REUSED', /^dmalab: engine-lab engine-lab: dma0chan0: dmaengine_submit\(\) of a descriptor already submitted \(cookie 2, completed and freed\), without DMA_CTRL_REUSE\ndmalab: a descriptor belongs to the engine once submitted/,
      [['Submitted again at', 'elab_submit'], ['First submitted at', 'elab_submit_checked']]);

    const y = setup(shape);
    const s2 = drv(y, () => E.elab_alloc(256)), d2 = drv(y, () => E.elab_alloc(256));
    drv(y, (l) => {
      const dev = l.chan!.device.dev!;
      const s = E.elab_map(dev, s2, 256, DMA_TO_DEVICE), d = E.elab_map(dev, d2, 256, DMA_FROM_DEVICE);
      const tx = E.elab_prep_memcpy(l, d, s, 256)!;
      expect(E.elab_set_reuse(tx)).toBe(0);
      E.elab_set_callback(l, tx);
      for (let i = 0; i < 3; i++) {
        E.elab_submit_checked(l, tx);
        E.elab_issue(l.chan!);
        expect(E.elab_wait(l)).toBeGreaterThan(0);
      }
      expect(E.elab_desc_free(tx)).toBe(0);
      E.elab_unmap(dev, d, 256, DMA_FROM_DEVICE);
      E.elab_unmap(dev, s, 256, DMA_TO_DEVICE);
      E.elab_kfree(s2);
      E.elab_kfree(d2);
    });
    run_for_ms(1);
    unbind_platform(y.pdev);
    clean();
  });
});
