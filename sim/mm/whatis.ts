// What the kernel knows about an address a driver handed a device, so a report can say what
// it is: "0xffff888004d2c000 is a CPU virtual address (kmalloc'd at driver.ts:41:9)". Only
// what mm knows: whether the address is also a live DMA mapping is the caller's to ask.
import { M } from '../kernel/machine.ts';
import { resolve_site, site_str } from '../kernel/site.ts';
import { px, x016 } from '../lib/vsprintf.ts';
import { PAGE_SIZE, PageKind } from './page_alloc.ts';

/** The top bits a 64-bit register gets from a CPU pointer (lib/vsprintf.ts's u64_bits). */
const KVA = 0xffe0000000000000n;

function at(what: string, site: unknown): string {
  const c = resolve_site(site as Parameters<typeof resolve_site>[0]);
  return c ? `${what} at ${site_str(c)}` : what;
}

/** Who allocated the RAM at phys ("kmalloc'd at path:line:col"), or ''. */
export function allocated_at(phys: number): string {
  const loc = M.slab.locate(phys);
  if (loc && !loc.sp.free[loc.i]) return at("kmalloc'd", loc.sp.site[loc.i]);
  const pages = M.pages, pfn = Math.floor(phys / PAGE_SIZE);
  if (!pages.valid(pfn)) return '';
  const h = pages.head(pfn) - pages.base_pfn;
  switch (pages.kind[h]) {
    case PageKind.KMALLOC_LARGE: return at("kmalloc'd", pages.site[h]);
    case PageKind.BUDDY: return at('allocated', pages.site[h]);
    case PageKind.VMALLOC: return at("vmalloc'd", pages.site[h]);
    case PageKind.KIMAGE: return 'in the kernel image';
    default: return '';
  }
}

const AREA: Record<string, string> = { vmalloc: "vmalloc'd", stack: 'on a task\'s stack', ioremap: 'ioremap()ed registers', coherent: 'dma_alloc_coherent()\'s CPU address' };

/** What a 64-bit value a driver gave a device as an address is, if it is a CPU pointer or the
 *  physical address of RAM; null if mm knows nothing of it. */
export function what_is(value: bigint): string | null {
  const mmu = M.mmu;
  if ((value & KVA) === KVA) {
    const v = Number(value & ((1n << 53n) - 1n));
    let where = '';
    const a = mmu.is_vmalloc(v) ? mmu.area_of(v) : undefined;
    if (a) where = a.kind === 'stack' ? AREA.stack! : at(AREA[a.kind]!, a.site);
    else if (M.kimage.section_of(v)) where = 'the driver image\'s static data';
    else if (mmu.is_linear(v)) where = allocated_at(mmu.lm_to_phys(v));
    return `${px(v)} is a CPU virtual address${where ? ` (${where})` : ''}, not a DMA address`;
  }
  const p = Number(value);
  if (value < 2n ** 53n && M.pages.is_ram(p)) {
    const w = allocated_at(p);
    return `0x${x016(p)} is a physical address${w ? ` (of memory ${w})` : ''}, not a DMA address`;
  }
  return null;
}
