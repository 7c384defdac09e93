// The kernel's virtual address space (the MMU's view): the linear map of all RAM, the kernel
// image, and the vmalloc area (vmalloc, ioremap, task stacks, remapped coherent buffers),
// whose pages are scattered and found through a page table.
import type { Shape } from '../kernel/shapes.ts';
import { PAGE_SIZE, PAGE_SHIFT } from './page_alloc.ts';

/** Page-table entry flags for vmalloc-area pages. */
export const PTE_PRESENT = 1, PTE_UNCACHED = 2, PTE_MMIO = 4, PTE_RO = 8;
export const KIMAGE_SIZE = 64 << 20;
export const MODULES_SIZE = 128 << 20;

export type AreaKind = 'vmalloc' | 'ioremap' | 'stack' | 'coherent';
export interface VmArea { addr: number; size: number; kind: AreaKind; pages: number[]; owner: number; site: unknown }

export class Mmu {
  readonly page_offset: number;
  readonly ram_base: number;
  readonly ram_end: number;
  /** vmalloc page table: virtual page number -> physical page address | PTE flags. */
  private pt = new Map<number, number>();
  readonly areas = new Map<number, VmArea>();
  private vm_next: number;

  constructor(readonly shape: Shape) {
    this.page_offset = shape.page_offset;
    this.ram_base = shape.ram_base;
    this.ram_end = shape.ram_base + shape.ram_size;
    // arm64 maps the kernel image inside the vmalloc area (KIMAGE_VADDR = MODULES_END =
    // VMALLOC_START): vmalloc areas go after it, as on a real arm64 machine.
    const kend = shape.kimage_vaddr + KIMAGE_SIZE;
    const inside = shape.kimage_vaddr >= shape.vmalloc_start && shape.kimage_vaddr < shape.vmalloc_end;
    this.vm_next = inside ? kend + 0x1000000 : shape.vmalloc_start + 0x1000000;
  }

  // ---- the linear map --------------------------------------------------------------------
  is_linear(v: number): boolean {
    return v >= this.page_offset && v < this.page_offset + (this.ram_end - this.ram_base);
  }
  lm_to_phys(v: number): number {
    return v - this.page_offset + this.ram_base;
  }
  phys_to_lm(p: number): number {
    return p - this.ram_base + this.page_offset;
  }

  // ---- the kernel image ------------------------------------------------------------------
  is_kimage(v: number): boolean {
    return v >= this.shape.kimage_vaddr && v < this.shape.kimage_vaddr + KIMAGE_SIZE;
  }
  kimage_to_phys(v: number): number {
    return v - this.shape.kimage_vaddr + this.shape.kimage_phys;
  }

  // ---- module space ----------------------------------------------------------------------
  is_module(v: number): boolean {
    return v >= this.shape.modules_vaddr && v < this.shape.modules_vaddr + MODULES_SIZE;
  }
  /** Map physical pages at a fixed virtual address (module_alloc's pages). */
  map_at(addr: number, phys_pages: number[], flags: number): void {
    for (let i = 0; i < phys_pages.length; i++) this.pt.set(addr / PAGE_SIZE + i, phys_pages[i]! + (flags | PTE_PRESENT));
  }

  // ---- the vmalloc area ------------------------------------------------------------------
  is_vmalloc(v: number): boolean {
    return v >= this.shape.vmalloc_start && v < this.shape.vmalloc_end;
  }

  /** Reserve virtual space for an area (plus a guard page), map the given physical pages. */
  map_area(size: number, phys_pages: number[], flags: number, kind: AreaKind, owner: number, site: unknown, align = PAGE_SIZE): VmArea {
    const addr = Math.ceil(this.vm_next / align) * align;
    const npages = Math.ceil(size / PAGE_SIZE);
    this.vm_next = addr + (npages + 1) * PAGE_SIZE;
    for (let i = 0; i < phys_pages.length; i++) this.pt.set(addr / PAGE_SIZE + i, phys_pages[i]! + (flags | PTE_PRESENT));
    const a: VmArea = { addr, size, kind, pages: phys_pages, owner, site };
    this.areas.set(addr, a);
    return a;
  }

  unmap_area(a: VmArea): void {
    for (let i = 0; i < a.pages.length; i++) this.pt.delete(a.addr / PAGE_SIZE + i);
    this.areas.delete(a.addr);
  }

  /** The area containing v, if any. */
  area_of(v: number): VmArea | undefined {
    const direct = this.areas.get(v);
    if (direct) return direct;
    for (const a of this.areas.values()) if (v >= a.addr && v < a.addr + a.pages.length * PAGE_SIZE) return a;
    return undefined;
  }

  /** The page-table entry of a vmalloc-area address (0 if not mapped). */
  vm_pte(v: number): number {
    return this.pt.get(Math.floor(v / PAGE_SIZE)) ?? 0;
  }

  // ---- any kernel address ----------------------------------------------------------------
  /** Physical address of kernel virtual address v, or -1 if nothing is mapped there. */
  translate(v: number): number {
    if (this.is_linear(v)) return this.lm_to_phys(v);
    if (this.is_kimage(v)) return this.kimage_to_phys(v);
    if (this.is_vmalloc(v) || this.is_module(v)) {
      const pte = this.vm_pte(v);
      return pte ? (pte - (pte % PAGE_SIZE)) + (v % PAGE_SIZE) : -1;
    }
    return -1;
  }

  /** struct page * <-> pfn: vmemmap + pfn * sizeof(struct page). */
  pfn_to_page(pfn: number): number {
    return this.shape.vmemmap + pfn * 64;
  }
  page_to_pfn(page: number): number {
    return Math.floor((page - this.shape.vmemmap) / 64);
  }
  is_page_ptr(page: number): boolean {
    return page >= this.shape.vmemmap && page < this.shape.vmemmap + 64 * 2 ** 32 && (page - this.shape.vmemmap) % 64 === 0;
  }
}

export function pfn_of(phys: number): number {
  return Math.floor(phys / PAGE_SIZE);
}
export { PAGE_SHIFT };
