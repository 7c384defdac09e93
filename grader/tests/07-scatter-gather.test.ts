// Hidden tests of exercise 07 (scatter-gather): sgblk, a disk that walks a descriptor table.
// Transfers from scattered pages on every machine: behind an IOMMU the list maps to fewer,
// merged segments (which a driver reading the CPU half of an entry, or the original count,
// gets wrong), on arm64 and x86-swiotlb each entry is cache-maintained or bounced; a read-ahead
// area mapped once and synced as a list; errors and injected failures that must leave nothing.
import { describe, test } from 'vitest';
import { load_driver } from '../lib/target.ts';
import { run, probe_fault_sweep, errno_str, type Run } from './lib/harness.ts';
import { pattern, plug_sgblk, fill, read } from '#sim/testing';
import { alloc_page, __free_page, page_address, GFP_KERNEL } from '#sim';
import type * as Solution from '../../solutions/07-scatter-gather/driver.ts';
import type { pci_dev, ShapeName, Sgblk } from '#sim/testing';

const drv = await load_driver<typeof Solution>('07-scatter-gather');
const L = 'lessons/07-scatter-gather.md';
const ALL: ShapeName[] = ['x86', 'x86-iommu', 'x86-swiotlb', 'arm64', 'arm64-smmu'];
const IOMMU: ShapeName[] = ['x86-iommu', 'arm64-smmu'];
const FILE = 'exercises/07-scatter-gather/driver.ts';
const PAGE = 4096, SECTOR = 512, MAXSEG = 32768, CAPACITY = 2048, CACHE_SECTORS = 128;

type Blk = Solution.sgblk_dev;

function bound(r: Run): { pdev: pci_dev; model: Sgblk; blk: Blk } | null {
  const { pdev, blk: model } = plug_sgblk();
  r.bind_ok(drv.sgblk_driver, pdev);
  const blk = pdev.dev.driver_data as Blk | undefined;
  if (!blk) {
    r.finding('WRONG_RESULT', `probe succeeded but did not keep its sgblk_dev with pci_set_drvdata(): the tests find it there (${FILE}, sgblk_probe)`);
    r.unbind(pdev);
    return null;
  }
  return { pdev, model, blk };
}

/** `n` pages of kernel memory no two of which are adjacent (every other page of 2n). */
function scattered(n: number): { pages: number[]; free: () => void } {
  const all = Array.from({ length: 2 * n }, () => alloc_page(GFP_KERNEL));
  const spare = all.filter((_, i) => i % 2);
  for (const p of spare) __free_page(p);
  const pages = all.filter((_, i) => i % 2 === 0);
  return { pages, free: () => pages.forEach((p) => __free_page(p)) };
}

/** The `len` bytes the pages hold from `offset` on, as one array. */
function gather(pages: number[], offset: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let pos = 0, off = offset;
  for (const p of pages) {
    if (pos >= len) break;
    const take = Math.min(PAGE - off, len - pos);
    out.set(read(page_address(p) + off, take), pos);
    pos += take;
    off = 0;
  }
  return out;
}

/** Put `data` into the pages from `offset` on. */
function scatter(pages: number[], offset: number, data: Uint8Array): void {
  let pos = 0, off = offset;
  for (const p of pages) {
    if (pos >= data.length) break;
    const take = Math.min(PAGE - off, data.length - pos);
    fill(page_address(p) + off, data.subarray(pos, pos + take));
    pos += take;
    off = 0;
  }
}

/** What the device was given, for a failed check. */
function table_of(model: Sgblk): string {
  const t = model.last_table;
  return `${t.length} descriptor${t.length === 1 ? '' : 's'} (${t.slice(0, 6).map((s) => s.len).join(', ')}${t.length > 6 ? ', ...' : ''} bytes)`;
}

function why(shape: ShapeName): string {
  if (IOMMU.includes(shape)) return 'behind an IOMMU the list maps to fewer, merged segments: program the device from for_each_sgtable_dma_sg() with sg_dma_address() and sg_dma_len() only';
  if (shape === 'x86-swiotlb') return 'under swiotlb each entry was bounced: the device must be given sg_dma_address(), the bounce slot, not the page';
  if (shape === 'arm64') return 'on this machine the device sees RAM at another address (the host bridge offset): sg_dma_address(), not sg_phys()';
  return '';
}

const SIZES = [SECTOR, PAGE, PAGE + SECTOR, 16 * PAGE, 31 * PAGE];

describe('a transfer from scattered pages', () => {
  for (const shape of ALL) {
    test(`sgblk_rw() writes and reads back ${SIZES.length} lengths at page offsets 0 and 512 (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#programming-the-device-from-the-dma-side` }, (r) => {
        const b = bound(r);
        if (!b) return;
        const { pdev, model, blk } = b;
        let lba = 0;
        outer: for (const offset of [0, SECTOR]) {
          for (const [k, len] of SIZES.entries()) {
            const n = Math.ceil((offset + len) / PAGE);
            const { pages, free } = scattered(n);
            const data = pattern(len, 31 + k + offset);
            scatter(pages, offset, data);
            const what = `sgblk_rw(blk, <${n} pages>, ${offset}, ${len}, ${lba}, true)`;
            const w = r.call(pdev, what, () => drv.sgblk_rw(blk, pages, offset, len, lba, true));
            if (!r.expect_result(`${what}, given ${table_of(model)},`, w, 0)) { free(); break outer; }
            if (!r.expect_bytes(`${what}: the disk at sector ${lba} holds other bytes than the pages (${table_of(model)}); ${why(shape)}`,
              model.disk.slice(lba * SECTOR, lba * SECTOR + len), data)) { free(); break outer; }
            const back = pattern(len, 71 + k + offset);
            model.disk.set(back, lba * SECTOR);
            scatter(pages, offset, new Uint8Array(len));
            const rd = `sgblk_rw(blk, <${n} pages>, ${offset}, ${len}, ${lba}, false)`;
            const g = r.call(pdev, rd, () => drv.sgblk_rw(blk, pages, offset, len, lba, false));
            if (!r.expect_result(`${rd}, given ${table_of(model)},`, g, 0)) { free(); break outer; }
            if (!r.expect_bytes(`${rd}: the pages hold other bytes than the disk at sector ${lba}; ${why(shape)}`, gather(pages, offset, len), back)) { free(); break outer; }
            if (model.last_table.some((s) => s.len > MAXSEG)) {
              r.finding('WRONG_RESULT', `${rd}: a descriptor of ${Math.max(...model.last_table.map((s) => s.len))} bytes, more than the device's MAXSEG ${MAXSEG}`);
            }
            free();
            lba += Math.ceil(len / SECTOR);
          }
        }
        r.unbind(pdev);
      });
    });
  }
});

describe('the read-ahead area: one list mapped for the life of the device', () => {
  for (const shape of ALL) {
    test(`sgblk_read_cached() returns what the disk holds, 12 times through the one mapping (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#syncing-a-list` }, (r) => {
        const b = bound(r);
        if (!b) return;
        const { pdev, model, blk } = b;
        for (let i = 0; i < 12; i++) {
          const lba = (i * 173) % (CAPACITY - CACHE_SECTORS);
          const want = pattern(CACHE_SECTORS * SECTOR, 501 + i);
          model.disk.set(want, lba * SECTOR);
          const what = `read #${i + 1}: sgblk_read_cached(blk, ${lba})`;
          const got = r.call(pdev, what, () => drv.sgblk_read_cached(blk, lba));
          if (typeof got === 'number') {
            r.finding('WRONG_RESULT', `${what} returned ${errno_str(got)}; it should return the ${CACHE_SECTORS * SECTOR} bytes on the disk there (the device was given ${table_of(model)})`);
            break;
          }
          if (!r.expect_bytes(`${what} returned other bytes than the disk holds${shape.startsWith('arm64') ? ' (on this non-coherent machine every entry needs its invalidate: dma_sync_sgtable_for_cpu() syncs the whole list)' : ''}`, got, want)) break;
        }
        r.unbind(pdev);
      });
    });
  }
});

describe('requests the driver or the device must refuse', () => {
  test('sgblk_rw() rejects a length of 0, one that is not whole sectors, and more than 32 pages with -EINVAL (x86-iommu)', (ctx) => {
    run(ctx, { shape: 'x86-iommu', lesson: `${L}#the-exercise` }, (r) => {
      const b = bound(r);
      if (!b) return;
      const { pdev, blk } = b;
      const { pages, free } = scattered(33);
      for (const [len, n] of [[0, 1], [100, 1], [33 * PAGE, 33]] as const) {
        const what = `sgblk_rw(blk, <${n} pages>, 0, ${len}, 0, true)`;
        r.expect_result(what, r.call(pdev, what, () => drv.sgblk_rw(blk, pages.slice(0, n), 0, len, 0, true)), -22);
      }
      free();
      r.unbind(pdev);
    });
  });

  for (const shape of ['x86', 'arm64-smmu'] as ShapeName[]) {
    test(`a transfer past the end of the disk fails with -EIO and leaves nothing mapped (${shape})`, (ctx) => {
      run(ctx, { shape, allow: ['DEVICE_GUEST_ERROR'], lesson: `${L}#unmapping-a-list` }, (r) => {
        const b = bound(r);
        if (!b) return;
        const { pdev, blk } = b;
        const { pages, free } = scattered(4);
        const what = `sgblk_rw(blk, <4 pages>, 0, 16384, ${CAPACITY - 8}, false)`;
        r.expect_result(what, r.call(pdev, what, () => drv.sgblk_rw(blk, pages, 0, 4 * PAGE, CAPACITY - 8, false)), -5);
        free();
        r.unbind(pdev);
      });
    });
  }
});

describe('when building or mapping the list fails', () => {
  for (const [shape, kind] of [['x86', 'sg_alloc_table'], ['x86-iommu', 'dma_map'], ['x86-swiotlb', 'dma_map'], ['arm64-smmu', 'sg_alloc_table']] as const) {
    test(`sgblk_rw() returns -ENOMEM and leaves nothing behind when ${kind === 'dma_map' ? 'the mapping' : 'the table allocation'} fails (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#mapping-a-list` }, (r) => {
        const b = bound(r);
        if (!b) return;
        const { pdev, blk } = b;
        const { pages, free } = scattered(8);
        r.m.faults.always.add(kind);
        const what = `sgblk_rw(blk, <8 pages>, 0, 32768, 0, true) with ${kind} failing`;
        const ret = r.call(pdev, what, () => drv.sgblk_rw(blk, pages, 0, 8 * PAGE, 0, true));
        r.m.faults.always.delete(kind);
        r.expect_result(what, ret, -12);
        free();
        r.unbind(pdev);
      });
    });
  }

  test('sgblk_rw() returns -ENOMEM when the IOMMU has no IOVA space left, and nothing is left mapped (x86-iommu)', (ctx) => {
    run(ctx, { shape: 'x86-iommu', iova_pages: 24, lesson: `${L}#mapping-a-list` }, (r) => {
      const b = bound(r);
      if (!b) return;
      const { pdev, blk } = b;
      const { pages, free } = scattered(16);
      const what = 'sgblk_rw(blk, <16 pages>, 0, 65536, 0, true) with 24 IOVA pages for the device';
      r.expect_result(what, r.call(pdev, what, () => drv.sgblk_rw(blk, pages, 0, 16 * PAGE, 0, true)), -12);
      free();
      r.unbind(pdev);
    });
  });

  for (const shape of ['x86', 'arm64-smmu'] as ShapeName[]) {
    test(`every failure in probe is unwound: nothing left mapped or allocated (${shape})`, (ctx) => {
      probe_fault_sweep(ctx, drv.sgblk_driver, { shape, lesson: `${L}#the-exercise`, setup: () => plug_sgblk().pdev });
    });
  }
});
