// DMA pools (mm/dmapool.c, Linux 6.1, before the 6.4 rewrite): many small coherent blocks
// carved from page-sized coherent allocations. dma-debug sees only the pages. Each page keeps
// 6.1's free list (the offset of the first free block, each free block naming the next) and
// its in_use count, so a wrong free does to the pool what it does on 6.1 without pool debugging
// (DMAPOOL_DEBUG): dma_pool_free finds the page by the handle and frees the block by its vaddr,
// unchecked. dmalab also says, in its own lines, what a kernel with pool debugging would.
import { M } from '../kernel/machine.ts';
import { take_site, type Site } from '../kernel/site.ts';
import { T } from '../kernel/trace.ts';
import { px, pa, vsprintf } from '../lib/vsprintf.ts';
import { out, type Ref } from '../lib/ref.ts';
import { dev_driver_string, dev_name, type device } from '../base/device.ts';
import { devres_add, devres_release } from '../base/devres.ts';
import { PAGE_SIZE, ___GFP_ZERO, ___GFP_DIRECT_RECLAIM, ___GFP_KSWAPD_RECLAIM, ___GFP_IO, ___GFP_FS } from '../mm/page_alloc.ts';
import { cpu_fill } from '../mm/access.ts';
import { alloc_coherent_site, free_coherent_site } from './alloc.ts';
import { kmalloc_site, kfree_site } from '../mm/slab_api.ts';
import type { dma_addr_t } from './types.ts';

interface PoolPage {
  vaddr: number;
  dma: number;
  /** 6.1's `unsigned int in_use`: a double free takes it below zero (0xffffffff). */
  in_use: number;
  /** 6.1's `offset`: the first free block; >= allocation when the page is full. */
  offset: number;
  /** The free list's links, as 6.1 keeps them in each free block's first 4 bytes. */
  next: Map<number, number>;
  /** dmalab's view: offset -> handle of each block dma_pool_alloc handed out and not freed. */
  live: Map<number, number>;
}

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

/** pool_initialise_page()'s chain: each block names the next, skipping to the next boundary
 *  when the block after would reach it (6.1 tests `next + size >= boundary`, so the last block
 *  before each boundary is never used: 63 blocks of 64 bytes fit a 4 KiB page). */
function initial_next(pool: dma_pool, offset: number): number {
  const next_boundary = (Math.floor(offset / pool.boundary) + 1) * pool.boundary;
  const next = offset + pool.size;
  return next + pool.size >= next_boundary ? next_boundary : next;
}

function next_of(pool: dma_pool, page: PoolPage, offset: number): number {
  return page.next.get(offset) ?? initial_next(pool, offset);
}

export function dma_pool_alloc(pool: dma_pool, gfp: number, handle: Ref<dma_addr_t>): number {
  const site = take_site(dma_pool_alloc);
  if (M.faults.should_fail('dma_pool', site)) return 0;
  let page = pool._pages.find((p) => p.offset < pool.allocation);
  if (!page) {
    const h = out(0);
    const vaddr = alloc_coherent_site(pool.dev, pool.allocation, h, gfp & ~___GFP_ZERO, pool._site);
    if (!vaddr) return 0;
    page = { vaddr, dma: h.value, in_use: 0, offset: 0, next: new Map(), live: new Map() };
    pool._pages.unshift(page);   // list_add: new pages go first
  }
  page.in_use = (page.in_use + 1) >>> 0;
  const offset = page.offset;
  page.offset = next_of(pool, page, offset);
  const v = page.vaddr + offset;
  handle.value = page.dma + offset;
  page.live.set(offset, handle.value);
  if (gfp & ___GFP_ZERO) cpu_fill(v, 0, pool.size, dma_pool_alloc);
  M.trace.emit(M.clock.now, T.dma_pool_alloc, pool.dev.id, handle.value, pool.size, v);
  return v;
}

export function dma_pool_zalloc(pool: dma_pool, gfp: number, handle: Ref<dma_addr_t>): number {
  return dma_pool_alloc(pool, gfp | ___GFP_ZERO, handle);
}

/** What 6.1 says nothing about without DMAPOOL_DEBUG, in dmalab's words: what the free was
 *  given, what is wrong with it, and what the kernel did with it. */
function bad_free(pool: dma_pool, what: string, did: string, site: Site): void {
  M.diag.report('DMA_POOL_BAD_FREE', [`dmalab: ${dev_driver_string(pool.dev)} ${dev_name(pool.dev)}: ${what}`, `dmalab: ${did}`],
    { sites: [['Freed at', site], ['Pool created at', pool._site]] });
}

function free_args(pool: dma_pool, vaddr: number, dma: dma_addr_t): string {
  return `dma_pool_free ${pool.name}, ${px(vaddr)}/${pa(dma)}`;
}

export function dma_pool_free(pool: dma_pool, vaddr: number, dma: dma_addr_t): void {
  const site = take_site(dma_pool_free);
  const page = pool._pages.find((p) => dma >= p.dma && dma - p.dma < pool.allocation);
  if (!page) {
    // Always checked (mm/dmapool.c, 6.1): a plain dev_err, and the block stays allocated.
    M.diag.report('DMA_POOL_BAD_DMA', [`${dev_driver_string(pool.dev)} ${dev_name(pool.dev)}: ${vsprintf('dma_pool_free %s, %p/%pad (bad dma)', [pool.name, vaddr, dma])}`],
      { sites: [['Freed at', site], ['Pool created at', pool._site]] });
    return;
  }
  const offset = (vaddr - page.vaddr) >>> 0;
  const given = page.live.get(offset);
  if (given === undefined) {
    const args = free_args(pool, vaddr, dma);
    const block = offset < pool.allocation && offset % pool.size === 0;
    bad_free(pool, block ? `${args}: this block is already free` : `${args}: not the address of a block dma_pool_alloc handed out`,
      block ? 'Linux 6.1 without pool debugging says nothing and puts the block on the free list twice: the next allocations hand it out again, and dma_pool_destroy finds the page busy (a kernel with DMAPOOL_DEBUG prints "already free")'
        : 'Linux 6.1 without pool debugging says nothing and frees the block by this address: the pool\'s free list now points there (a kernel with DMAPOOL_DEBUG prints "(bad vaddr)")', site);
  } else if (given !== dma) {
    bad_free(pool, `${free_args(pool, vaddr, dma)}: dma_pool_alloc gave this block the handle ${pa(given)}`,
      'Linux 6.1 without pool debugging finds the page by the handle and frees the block by its address, and says nothing (a kernel with DMAPOOL_DEBUG prints "(bad vaddr)")', site);
  }
  // 6.1: in_use--, *(int *)vaddr = page->offset, page->offset = offset.
  page.live.delete(offset);
  page.in_use = (page.in_use - 1) >>> 0;
  page.next.set(offset, page.offset);
  page.offset = offset;
  M.trace.emit(M.clock.now, T.dma_pool_free, pool.dev.id, dma, pool.size, vaddr);
}

function destroy(pool: dma_pool | null, site: Site): void {
  if (!pool || pool._dead) return;
  pool._dead = true;
  for (const p of pool._pages) {
    if (p.in_use !== 0) {
      // One dev_err per busy page; 6.1 leaks the page on purpose (the device may still use
      // it), so dma-debug reports it at unbind as a coherent allocation of the pool's size.
      M.diag.report('DMA_POOL_BUSY', [`${dev_driver_string(pool.dev)} ${dev_name(pool.dev)}: ${vsprintf('dma_pool_destroy %s, %p busy', [pool.name, p.vaddr])}`],
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
