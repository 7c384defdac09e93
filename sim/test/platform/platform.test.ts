// The platform bus and the machine description (drivers/base/platform.c, drivers/of/): devices
// described rather than enumerated, matched by compatible, given their register windows and
// interrupts by index, configured for DMA from the node (coherent or not, behind the IOMMU or
// not), and probed again when a probe deferred and another driver bound.
import { describe, expect, test } from 'vitest';
import { machine, plug_platform, load_platform, unload_platform, bind_platform, unbind_platform, run, dmesg, codes,
  all_shapes, type platform_device } from '../../testing/index.ts';
import { M } from '../../kernel/machine.ts';
import { platform_get_resource, platform_get_irq, devm_platform_ioremap_resource, module_platform_driver,
  of_device_get_match_data, IORESOURCE_MEM, IORESOURCE_IRQ, type platform_driver } from '../../include/linux/platform_device.ts';
import { of_property_match_string, of_parse_phandle_with_args, of_property_count_strings, of_node_full_name } from '../../include/linux/of.ts';
import { readl, writel } from '../../include/linux/io.ts';
import { devm_request_irq, IRQ_HANDLED } from '../../include/linux/interrupt.ts';
import { dma_alloc_coherent, dma_free_coherent, dma_map_single, dma_unmap_single, dma_mapping_error, DMA_TO_DEVICE } from '../../include/linux/dma-mapping.ts';
import { kmalloc, kfree, GFP_KERNEL } from '../../include/linux/slab.ts';
import { IS_ERR, PTR_ERR } from '../../include/linux/err.ts';
import { EPROBE_DEFER, ENXIO } from '../../include/linux/errno.ts';
import { out } from '../../include/dmalab/ref.ts';
import { Ticker, FifoPeripheral, TK_CTRL, TK_LEN, TK_STATUS, TK_IRQ_EN, TK_START, TK_DONE } from '../hw/ticker.ts';

/** A driver that records what probe saw. */
function recorder(compat: string, ret = 0) {
  const seen: { pdev: platform_device; base: number; irq: number }[] = [];
  const drv: platform_driver = {
    probe(pdev) {
      const base = devm_platform_ioremap_resource(pdev, 0);
      if (IS_ERR(base)) return PTR_ERR(base);
      seen.push({ pdev, base, irq: pdev.resource.some((r) => r.flags & IORESOURCE_IRQ) ? platform_get_irq(pdev, 0) : -1 });
      return ret;
    },
    driver: { name: 'recorder', of_match_table: [{ compatible: compat, data: 42 }] },
  };
  return { drv, seen };
}

describe('platform devices from the machine description', () => {
  test.each(all_shapes())('%s: named <unit address>.<node name>, resources by index, coherent and IOMMU as described', (shape) => {
    machine({ shape });
    const a = plug_platform(new Ticker(), {});
    const b = plug_platform(new FifoPeripheral(), { 'dma-coherent': true, iommus: false, dmas: [[a, 0], [a, 1]], 'dma-names': ['rx', 'tx'] });
    const arm = shape.startsWith('arm64');
    expect(a.dev.init_name).toBe(arm ? '9100000.dma-controller' : 'fe000000.dma-controller');
    expect(of_node_full_name(b.dev.of_node!)).toBe(arm ? '/soc/serial@9110000' : '/soc/serial@fe010000');
    const mem = platform_get_resource(a, IORESOURCE_MEM, 0)!;
    expect(mem.end - mem.start + 1).toBe(0x1000);
    expect(platform_get_resource(a, IORESOURCE_IRQ, 3)!.start).toBe(67);
    // x86 DMA is always coherent; on arm64 only where the node says dma-coherent.
    expect(a.dev.dma_coherent).toBe(!arm);
    expect(b.dev.dma_coherent).toBe(true);
    // Behind the IOMMU by default where there is one; not where the node leaves it out.
    expect(a.dev._iommu).toBe(shape.endsWith('iommu') || shape.endsWith('smmu'));
    expect(b.dev._iommu).toBe(false);
    expect(a.dev.dma_mask).toBe(0xffffffffn);
    expect(of_property_match_string(b.dev.of_node!, 'dma-names', 'tx')).toBe(1);
    expect(of_property_count_strings(b.dev.of_node!, 'dma-names')).toBe(2);
    const spec = { np: null, args_count: 0, args: [] as number[] };
    // The ticker has no #dma-cells: the phandle's arguments do not match its cell count.
    expect(of_parse_phandle_with_args(b.dev.of_node!, 'dmas', '#dma-cells', 1, spec)).toBeLessThan(0);
  });

  test('a driver binds by compatible, maps its window, takes its interrupt, and the device answers', () => {
    machine({ shape: 'arm64' });
    const pdev = plug_platform(new Ticker(1), {});
    let irqs = 0;
    const drv: platform_driver = {
      probe(p) {
        const base = devm_platform_ioremap_resource(p, 0);
        if (IS_ERR(base)) return PTR_ERR(base);
        const irq = platform_get_irq(p, 0);
        if (irq < 0) return irq;
        const r = devm_request_irq(p.dev, irq, () => { writel(TK_DONE, base + TK_STATUS); irqs++; return IRQ_HANDLED; }, 0, 'rec', p);
        if (r) return r;
        expect(of_device_get_match_data(p.dev)).toBe(7);
        writel(64, base + TK_LEN);
        writel(TK_START | TK_IRQ_EN, base + TK_CTRL);
        expect(readl(base + TK_LEN)).toBe(64);
        return 0;
      },
      driver: { name: 'rec', of_match_table: [{ compatible: 'dmalab,ticker-dma', data: 7 }] },
    };
    const mod = module_platform_driver(drv);
    expect(load_platform(mod)).toBe(0);
    expect(pdev.dev.driver?.name).toBe('rec');
    run(pdev, () => { M.clock.advance_to(M.clock.now + 10_000); });
    expect(irqs).toBe(1);
    unload_platform(mod);
    expect(pdev.dev.driver).toBe(null);
    expect(codes()).toEqual([]);
  });

  test('platform_get_irq() of a missing interrupt says so, as 6.1 does, and returns -ENXIO', () => {
    machine({ shape: 'x86' });
    const pdev = plug_platform(new FifoPeripheral(), {});
    const got: number[] = [];
    bind_platform({ probe: (p) => { got.push(platform_get_irq(p, 0)); return 0; }, driver: { name: 'fifo', of_match_table: [{ compatible: 'dmalab,fifo-client' }] } }, pdev);
    expect(got).toEqual([-ENXIO]);
    expect(dmesg()).toContain('fifo fe000000.serial: error -ENXIO: IRQ index 0 not found');
  });

  test('devm_platform_ioremap_resource(): a window already claimed is refused, and released at unbind', () => {
    machine({ shape: 'x86' });
    const pdev = plug_platform(new FifoPeripheral(), {});
    const errs: number[] = [];
    const drv: platform_driver = {
      probe(p) {
        const a = devm_platform_ioremap_resource(p, 0);
        const b = devm_platform_ioremap_resource(p, 0);
        errs.push(IS_ERR(a) ? PTR_ERR(a) : 0, IS_ERR(b) ? PTR_ERR(b) : 0);
        return 0;
      },
      driver: { name: 'fifo', of_match_table: [{ compatible: 'dmalab,fifo-client' }] },
    };
    expect(bind_platform(drv, pdev)).toBe(0);
    expect(errs).toEqual([0, -16]);
    expect(dmesg()).toContain("fifo fe000000.serial: can't request region for resource [mem 0xfe000000-0xfe000fff]");
    unbind_platform(pdev);
    expect(bind_platform(drv, pdev)).toBe(0);
    expect(errs.slice(2)).toEqual([0, -16]);
  });

  test('a probe that defers is tried again when another driver binds', () => {
    machine({ shape: 'arm64' });
    const pdev = plug_platform(new FifoPeripheral(), {});
    let ready = false, tries = 0;
    load_platform({ probe: () => (++tries, ready ? 0 : -EPROBE_DEFER), driver: { name: 'late', of_match_table: [{ compatible: 'dmalab,fifo-client' }] } });
    expect(tries).toBe(1);
    expect(pdev.dev.driver).toBe(null);
    // Deferral is silent at the default log level.
    expect(dmesg().some((l) => l.includes('late'))).toBe(false);
    ready = true;
    const other = plug_platform(new Ticker(1), {});
    const r = recorder('dmalab,ticker-dma');
    load_platform(r.drv);
    expect(r.seen.map((s) => s.pdev)).toEqual([other]);
    expect(tries).toBe(2);
    expect(pdev.dev.driver?.name).toBe('late');
  });

  test.each(all_shapes())('%s: the DMA API works on a platform device, coherent or not', (shape) => {
    machine({ shape });
    for (const coherent of [false, true]) {
      const pdev = plug_platform(new FifoPeripheral(), { 'dma-coherent': coherent });
      const h = out(0);
      const cpu = run(pdev, () => dma_alloc_coherent(pdev.dev, 4096, h, GFP_KERNEL));
      expect(cpu).not.toBe(0);
      const buf = run(pdev, () => kmalloc(256, GFP_KERNEL));
      const d = run(pdev, () => dma_map_single(pdev.dev, buf, 256, DMA_TO_DEVICE));
      expect(run(pdev, () => dma_mapping_error(pdev.dev, d))).toBe(0);
      run(pdev, () => { dma_unmap_single(pdev.dev, d, 256, DMA_TO_DEVICE); kfree(buf); dma_free_coherent(pdev.dev, 4096, cpu, h.value); });
    }
    expect(codes()).toEqual([]);
  });
});
