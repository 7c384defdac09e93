// The playground run of exercise 07 (npm run try -- 07 [--shape x86-iommu]): bind (probe maps the
// read-ahead list), write 40 KiB from ten scattered pages to the disk and read it back, print the
// descriptors the device was given each time (behind an IOMMU: fewer, merged), read through the
// read-ahead area once, unbind.
import type { Playground } from '../try.ts';
import type * as Solution from '../../solutions/07-scatter-gather/driver.ts';
import { alloc_page, __free_page, GFP_KERNEL } from '#linux/gfp';
import { page_address } from '#linux/mm';
import { copy_to_mem, copy_from_mem } from '#dmalab/mem';

export default function workload(t: Playground, drv: typeof Solution): void {
  const { pdev, blk: disk } = t.plug_sgblk();
  if (t.bind(drv.sgblk_driver, pdev) !== 0) return;
  const blk = pdev.dev.driver_data as Solution.sgblk_dev;
  const table = () => disk.last_table.map((s) => `${s.len}@0x${s.addr.toString(16)}`).join(' ');
  const all = t.call(pdev, () => Array.from({ length: 20 }, () => alloc_page(GFP_KERNEL)));
  const pages = all.filter((_, i) => i % 2 === 0);
  const msg = new TextEncoder().encode('scattered pages, one transfer '.repeat(1400)).subarray(0, 10 * 4096);
  t.call(pdev, () => pages.forEach((p, i) => copy_to_mem(page_address(p), msg.subarray(i * 4096, (i + 1) * 4096))));
  t.log(`sgblk_rw(blk, <10 pages>, 0, 40960, 0, write) = ${t.call(pdev, () => drv.sgblk_rw(blk, pages, 0, 40960, 0, true))}`);
  t.log(`  the device was given: ${table()}`);
  t.call(pdev, () => pages.forEach((p) => copy_to_mem(page_address(p), new Uint8Array(4096))));
  t.log(`sgblk_rw(blk, <10 pages>, 0, 40960, 0, read) = ${t.call(pdev, () => drv.sgblk_rw(blk, pages, 0, 40960, 0, false))}`);
  const back = t.call(pdev, () => copy_from_mem(page_address(pages[0]!), 30));
  t.log(`  first page now starts with '${new TextDecoder().decode(back)}'`);
  const got = t.call(pdev, () => drv.sgblk_read_cached(blk, 0));
  t.log(`sgblk_read_cached(blk, 0) = ${typeof got === 'number' ? got : `${got.length} bytes, '${new TextDecoder().decode(got.subarray(0, 30))}...'`}`);
  t.log(`  the device was given: ${table()}`);
  t.call(pdev, () => all.filter((_, i) => i % 2).concat(pages).forEach((p) => __free_page(p)));
  t.unbind(pdev);
}
