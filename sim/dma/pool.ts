// DMA pools (mm/dmapool.c, Linux 6.1, before the 6.4 rewrite): many small coherent blocks
// carved from page-sized coherent allocations. dma-debug sees only the pages; dmalab also
// checks each block handed back, as the kernel does only with pool debugging (DMAPOOL_DEBUG).
import { M } from '../kernel/machine.ts';
import { take_site, type Site } from '../kernel/site.ts';
import { T } from '../kernel/trace.ts';
import { px, pa } from '../lib/vsprintf.ts';
import { out, type Ref } from '../lib/ref.ts';
import { dev_driver_string, dev_name, type device } from '../base/device.ts';
import { devres_add, devres_release } from '../base/devres.ts';
import { PAGE_SIZE, ___GFP_ZERO, ___GFP_DIRECT_RECLAIM, ___GFP_KSWAPD_RECLAIM, ___GFP_IO, ___GFP_FS } from '../mm/page_alloc.ts';
import { cpu_fill } from '../mm/access.ts';
import { alloc_coherent_site, free_coherent_site } from './mapping.ts';
import { kmalloc_site, kfree_site } from '../mm/slab_api.ts';
import type { dma_addr_t } from './types.ts';

interface PoolPage { vaddr: number; dma: number; blocks: number; inuse: Uint8Array }

export interface dma_pool {
  name: string;
  dev: device;
  size: number;
  align: number;
  boundary: number;
  allocation: number;
  /** @internal */
  _pages: PoolPage[];
  _site: Site;
  _dead: boolean;
  /** The struct dma_pool itself, in kmalloc memory. */
  _mem: number;
}

/** sizeof(struct dma_pool) in 6.1 on a 64-bit kernel. */
const SIZEOF_DMA_POOL = 136;

function create(name: string, dev: device | null, size: number, align: number, boundary: number, site: Site): dma_pool | null {
  if (!dev) return null;
  if (align === 0) align = 1;
  else if (align & (align - 1)) return null;
  if (size === 0 || size > 0x7fffffff) return null;
  if (size < 16) size = 16;
  size = Math.ceil(size / align) * align;
  const allocation = Math.max(size, PAGE_SIZE);
  if (!boundary) boundary = allocation;
  else if (boundary < size || boundary & (boundary - 1)) return null;
  boundary = Math.min(boundary, allocation);
  // After the argument checks 6.1 kmalloc()s the pool (GFP_KERNEL, so it may sleep, and fail);
  // a pool never destroyed is then what kmemleak reports, as the sim's leak check does.
  M.sched.might_sleep('mm/dmapool.c:225', site);
  const mem = kmalloc_site(SIZEOF_DMA_POOL, ___GFP_DIRECT_RECLAIM | ___GFP_KSWAPD_RECLAIM | ___GFP_IO | ___GFP_FS, site);
  if (!mem) return null;
  return { name, dev, size, align, boundary, allocation, _pages: [], _site: site, _dead: false, _mem: mem };
}

export function dma_pool_create(name: string, dev: device, size: number, align: number, boundary: number): dma_pool | null {
  return create(name, dev, size, align, boundary, take_site(dma_pool_create));
}

/** Block offsets within a page: blocks never cross `boundary`. */
function offsets(pool: dma_pool): number[] {
  const offs: number[] = [];
  let off = 0, next_boundary = pool.boundary;
  while (off + pool.size <= pool.allocation) {
    if (off + pool.size > next_boundary) {
      off = next_boundary;
      next_boundary += pool.boundary;
      continue;
    }
    offs.push(off);
    off += pool.size;
  }
  return offs;
}

const offsets_cache = new WeakMap<dma_pool, number[]>();
function offs(pool: dma_pool): number[] {
  let o = offsets_cache.get(pool);
  if (!o) { o = offsets(pool); offsets_cache.set(pool, o); }
  return o;
}

export function dma_pool_alloc(pool: dma_pool, gfp: number, handle: Ref<dma_addr_t>): number {
  const site = take_site(dma_pool_alloc);
  if (M.faults.should_fail('dma_pool', site)) return 0;
  const o = offs(pool);
  let page = pool._pages.find((p) => p.blocks < o.length);
  if (!page) {
    const h = out(0);
    const vaddr = alloc_coherent_site(pool.dev, pool.allocation, h, gfp & ~___GFP_ZERO, pool._site);
    if (!vaddr) return 0;
    page = { vaddr, dma: h.value, blocks: 0, inuse: new Uint8Array(o.length) };
    pool._pages.push(page);
  }
  const i = page.inuse.indexOf(0);
  page.inuse[i] = 1;
  page.blocks++;
  const v = page.vaddr + o[i]!;
  handle.value = page.dma + o[i]!;
  if (gfp & ___GFP_ZERO) cpu_fill(v, 0, pool.size, dma_pool_alloc);
  M.trace.emit(M.clock.now, T.dma_pool_alloc, pool.dev.id, handle.value, pool.size, v);
  return v;
}

export function dma_pool_zalloc(pool: dma_pool, gfp: number, handle: Ref<dma_addr_t>): number {
  return dma_pool_alloc(pool, gfp | ___GFP_ZERO, handle);
}

/** What mm/dmapool.c checks only under DMAPOOL_DEBUG (CONFIG_SLUB_DEBUG_ON or DEBUG_SLAB), in
 *  its words: dmalab reports it on every machine. */
function block_err(pool: dma_pool, text: string, site: Site): void {
  M.diag.report('DMA_POOL_BAD_FREE', [
    `dmalab: ${dev_driver_string(pool.dev)} ${dev_name(pool.dev)}: ${text}`,
    'dmalab: a kernel with pool debugging (DMAPOOL_DEBUG) prints this; Linux 6.1 without it says nothing and corrupts the pool\'s free list',
  ], { sites: [['Freed at', site], ['Pool created at', pool._site]] });
}

export function dma_pool_free(pool: dma_pool, vaddr: number, dma: dma_addr_t): void {
  const site = take_site(dma_pool_free);
  const o = offs(pool);
  const page = pool._pages.find((p) => dma >= p.dma && dma < p.dma + pool.allocation);
  if (!page) {
    // Always checked (mm/dmapool.c, 6.1): a plain dev_err, and the block stays allocated.
    M.diag.report('DMA_POOL_BAD_DMA', [`${dev_driver_string(pool.dev)} ${dev_name(pool.dev)}: dma_pool_free ${pool.name}, ${px(vaddr)}/${pa(dma)} (bad dma)`],
      { sites: [['Freed at', site], ['Pool created at', pool._site]] });
    return;
  }
  const i = o.indexOf(dma - page.dma);
  if (i < 0 || page.vaddr + o[i]! !== vaddr) {
    block_err(pool, `dma_pool_free ${pool.name}, ${px(vaddr)} (bad vaddr)/${pa(dma)}`, site);
    return;
  }
  if (!page.inuse[i]) {
    block_err(pool, `dma_pool_free ${pool.name}, dma ${pa(dma)} already free`, site);
    return;
  }
  page.inuse[i] = 0;
  page.blocks--;
  M.trace.emit(M.clock.now, T.dma_pool_free, pool.dev.id, dma, pool.size, vaddr);
}

function destroy(pool: dma_pool | null, site: Site): void {
  if (!pool || pool._dead) return;
  pool._dead = true;
  for (const p of pool._pages) {
    if (p.blocks > 0) {
      // One dev_err per busy page; 6.1 leaks the page on purpose (the device may still use
      // it), so dma-debug reports it at unbind as a coherent allocation of the pool's size.
      M.diag.report('DMA_POOL_BUSY', [`${dev_driver_string(pool.dev)} ${dev_name(pool.dev)}: dma_pool_destroy ${pool.name}, ${px(p.vaddr)} busy`],
        { sites: [['Destroyed at', site], ['Pool created at', pool._site]], distinct: true });
    } else free_coherent_site(pool.dev, pool.allocation, p.vaddr, p.dma, site);
  }
  pool._pages = [];
  kfree_site(pool._mem, site);
}

export function dma_pool_destroy(pool: dma_pool | null): void {
  destroy(pool, take_site(dma_pool_destroy));
}

export function dmam_pool_create(name: string, dev: device, size: number, align: number, allocation: number): dma_pool | null {
  const site = take_site(dmam_pool_create);
  const pool = create(name, dev, size, align, allocation, site);
  if (pool) devres_add(dev, 'dmam_pool_create', () => destroy(pool, site), pool);
  return pool;
}
export function dmam_pool_destroy(pool: dma_pool): void {
  if (!devres_release(pool.dev, pool)) destroy(pool, take_site(dmam_pool_destroy));
}
