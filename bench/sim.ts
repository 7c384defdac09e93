// npm run bench [-- --json]: the simulator's speed. Runs under tsx with sim/site/register.ts,
// so bench/drivers/ gets the same call-site rewriting a driver file gets in tests. With --json
// it prints one JSON object.
import { machine, plug_edu, plug_dmac, load_platform, run } from '#sim/testing';
import { set_capture, clear_site } from '../sim/kernel/site.ts';
import { __get_free_page, kmalloc, GFP_KERNEL, dma_map_single, dma_unmap_single, dma_mapping_error,
  DMA_FROM_DEVICE, DMA_TO_DEVICE, dma_set_mask_and_coherent, DMA_BIT_MASK, pci_enable_device,
  pci_set_master, pci_iomap, writeq, readl, writel, copy_to_mem, request_irq, IRQ_HANDLED,
  DECLARE_COMPLETION, complete, wait_for_completion_timeout, msecs_to_jiffies } from '#sim';
import { dma_request_channel, dma_release_channel, dma_cap_mask, dma_cap_set, DMA_MEMCPY } from '#linux/dmaengine';
import { dmac_driver } from '../sim/drivers/dma/dmac.ts';
import { map_unmap_loop, map_all } from './drivers/map_loop.ts';
import { engine_copy_loop } from './drivers/engine_copy.ts';

const now = () => Number(process.hrtime.bigint());

function best_of<T>(runs: number, f: () => T): number {
  let best = Infinity;
  for (let r = 0; r < runs; r++) {
    const t0 = now();
    f();
    best = Math.min(best, now() - t0);
  }
  return best;
}

function setup(live: number, opts: { callsites: boolean; ram_gib?: number }) {
  const m = machine({ shape: 'x86', seed: 7, callsites: opts.callsites, trace: true, ram_size: (opts.ram_gib ?? 1) * 2 ** 30 });
  const { pdev } = plug_edu();
  const dev = pdev.dev;
  dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
  const pages: number[] = [];
  for (let i = 0; i < live; i++) pages.push(__get_free_page(GFP_KERNEL));
  map_all(dev, pages, 4096, DMA_TO_DEVICE);
  const buf = kmalloc(4096, GFP_KERNEL);
  return { m, dev, buf, pdev };
}

/** ns per map+unmap pair. `driver` = through the rewritten driver file (sites recorded). */
function pair_ns(live: number, callsites: boolean, driver: boolean, ram_gib = 1): number {
  const { dev, buf } = setup(live, { callsites, ram_gib });
  set_capture(callsites);
  const N = 200000;
  const loop = driver ? () => map_unmap_loop(dev, buf, 4096, N) : () => {
    for (let i = 0; i < N; i++) {
      clear_site();
      const h = dma_map_single(dev, buf, 4096, DMA_FROM_DEVICE);
      if (dma_mapping_error(dev, h)) continue;
      dma_unmap_single(dev, h, 4096, DMA_FROM_DEVICE);
    }
  };
  loop();
  return best_of(5, loop) / N;
}

function copy_bps(len: number): number {
  const a = Buffer.alloc(len, 1), b = Buffer.alloc(len);
  const N = Math.max(50, Math.floor((256 << 20) / len));
  const t = best_of(3, () => { for (let i = 0; i < N; i++) a.copy(b); });
  return (len * N) / (t / 1e9);
}

/** Device DMA of 1 MiB through the bus path (translation, ownership checks, RAM). */
function dma_bps(): number {
  const { dev, pdev } = setup(0, { callsites: false });
  const len = 1 << 20;
  const pages = __get_free_page(GFP_KERNEL); void pages;
  const buf = kmalloc(len, GFP_KERNEL);
  copy_to_mem(buf, new Uint8Array(len).fill(7));
  pci_enable_device(pdev);
  pci_set_master(pdev);
  const h = dma_map_single(dev, buf, len, DMA_TO_DEVICE);
  const fn = pdev._fn;
  const dst = new Uint8Array(len);
  const N = 300;
  fn.dma_read(h, dst, 0, len);
  const t = best_of(3, () => { for (let i = 0; i < N; i++) fn.dma_read(h, dst, 0, len); });
  return (len * N) / (t / 1e9);
}

/** edu's 4 KiB DMA, programmed through its registers, completion by interrupt. */
function edu_bps(): number {
  const { dev, pdev } = setup(0, { callsites: false });
  return run(pdev, () => {
    pci_enable_device(pdev);
    pci_set_master(pdev);
    dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
    const bar = pci_iomap(pdev, 0, 0);
    const done = DECLARE_COMPLETION();
    request_irq(pdev.irq, () => { writel(readl(bar + 0x24), bar + 0x64); complete(done); return IRQ_HANDLED; }, 0, 'bench', done);
    const buf = kmalloc(4096, GFP_KERNEL);
    const h = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE);
    const one = () => {
      writeq(h, bar + 0x80); writeq(0x40000, bar + 0x88); writeq(4096, bar + 0x90); writeq(1 | 4, bar + 0x98);
      wait_for_completion_timeout(done, msecs_to_jiffies(1000));
    };
    one();
    const N = 2000;
    const t = best_of(3, () => { for (let i = 0; i < N; i++) one(); });
    return (4096 * N) / (t / 1e9);
  });
}

/** ns per memcpy of `len` bytes through the dmaengine client API, the bundled provider and the
 *  controller model (sim/hw/dmac.ts), one at a time, each waited for by its callback. */
function engine_ns(len: number, n: number): number {
  machine({ shape: 'x86', seed: 7, trace: true, wall_budget_ms: 120000 });
  load_platform(dmac_driver);
  const { pdev } = plug_dmac();
  return run(pdev, () => {
    const mask = dma_cap_mask();
    dma_cap_set(DMA_MEMCPY, mask);
    const chan = dma_request_channel(mask, null, null)!;
    const dev = chan.device.dev!;
    const src = kmalloc(len, GFP_KERNEL), dst = kmalloc(len, GFP_KERNEL);
    copy_to_mem(src, new Uint8Array(len).fill(7));
    const s = dma_map_single(dev, src, len, DMA_TO_DEVICE), d = dma_map_single(dev, dst, len, DMA_FROM_DEVICE);
    if (engine_copy_loop(chan, d, s, len, Math.max(2, n >> 4))) throw new Error('engine memcpy failed');
    const t = best_of(3, () => engine_copy_loop(chan, d, s, len, n));
    dma_unmap_single(dev, d, len, DMA_FROM_DEVICE);
    dma_unmap_single(dev, s, len, DMA_TO_DEVICE);
    dma_release_channel(chan);
    return t / n;
  });
}

function main(argv: string[]): void {
  const json = argv.includes('--json');
  const r: Record<string, number> = {};
  r.map_unmap_ns = Math.round(pair_ns(1000, true, true));
  r.map_unmap_ns_v8_capture = Math.round(pair_ns(1000, true, false));
  r.map_unmap_ns_nostack = Math.round(pair_ns(1000, false, false));
  r.map_unmap_ns_1m_live = Math.round(pair_ns(1_000_000, false, false, 8));
  const copy1m = copy_bps(1 << 20);
  r.buffer_copy_1m_gbps = +(copy1m / 1e9).toFixed(2);
  r.dma_copy_ratio = +(dma_bps() / copy1m).toFixed(3);
  const edu = edu_bps();
  r.edu_copy_ratio = +(edu / copy1m).toFixed(6);
  // The engine, against Buffer.copy of the same size measured in this run.
  const copy64k = copy_bps(1 << 16);
  r.dmaengine_memcpy_ratio = +(((1 << 20) / (engine_ns(1 << 20, 100) / 1e9)) / copy1m).toFixed(3);
  r.dmaengine_memcpy_ratio_64k = +(((1 << 16) / (engine_ns(1 << 16, 1000) / 1e9)) / copy64k).toFixed(3);
  r.dmaengine_desc_per_s = Math.round(1e9 / engine_ns(64, 20000));
  r.dmaengine_vs_edu_4k = +(engine_ns(4096, 5000) / (4096 / edu * 1e9)).toFixed(3);
  if (json) console.log(JSON.stringify(r));
  else for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(28)} ${v}`);
}

main(process.argv.slice(2));
