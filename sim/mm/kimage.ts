// Where a driver's static data lives: in the kernel image (text, rodata, data and bss) for a
// built-in driver, in module space for a loadable module (the course's drivers: every driver a
// learner writes is a module). Driver files declare their static buffers with
// DEFINE_STATIC_BUFFER / DEFINE_RODATA (sim/include/dmalab/static.ts); each machine places them
// the first time they are used, so "don't DMA to static or read-only data" is taught with real
// addresses.
import type { Shape } from '../kernel/shapes.ts';
import type { Mmu } from './memory.ts';
import { PTE_RO } from './memory.ts';

const MiB = 1 << 20;
export const TEXT_OFF = 0, RODATA_OFF = 8 * MiB, DATA_OFF = 12 * MiB, END_OFF = 16 * MiB;

export class KImage {
  private rodata_next: number;
  private data_next: number;
  readonly placed = new WeakMap<object, number>();

  constructor(readonly shape: Shape) {
    this.rodata_next = shape.kimage_vaddr + RODATA_OFF + 0x3000;
    this.data_next = shape.kimage_vaddr + DATA_OFF + 0x5000;
  }

  /** Reserve `size` bytes of rodata or data/bss, aligned to `align`. */
  place(size: number, ro: boolean, align: number): number {
    const at = (n: number) => Math.ceil(n / align) * align;
    if (ro) {
      const a = at(this.rodata_next);
      this.rodata_next = a + size;
      return a;
    }
    const a = at(this.data_next);
    this.data_next = a + size;
    return a;
  }

  section_of(v: number): 'text' | 'rodata' | 'data' | null {
    const off = v - this.shape.kimage_vaddr;
    if (off < 0 || off >= END_OFF) return null;
    return off < RODATA_OFF ? 'text' : off < DATA_OFF ? 'rodata' : 'data';
  }

  is_rodata(v: number, len: number): boolean {
    const a = this.section_of(v), b = this.section_of(v + len - 1);
    return a === 'rodata' || a === 'text' || b === 'rodata' || b === 'text';
  }
}

/** A module's core sections, as module_alloc() places them: read-only (text, rodata) pages,
 *  then read-write (data, bss) ones, mapped from module space. The pages are the last MiB of
 *  the image's reservation, so placing a module changes no other allocation. */
export const MODULE_PHYS_OFF = 15 * MiB;
const MOD_RO = 0, MOD_RW = 512 * 1024, MOD_END = 1024 * 1024;

export class ModuleSpace {
  private next = [MOD_RO + 0x440, MOD_RW + 0x440];
  private mapped = new Set<number>();
  readonly placed = new WeakMap<object, number>();

  constructor(readonly shape: Shape, private mmu: Mmu) {}

  place(size: number, ro: boolean, align: number): number {
    const k = ro ? 0 : 1;
    const off = Math.ceil(this.next[k]! / align) * align;
    if (off + size > (ro ? MOD_RW : MOD_END)) throw new Error(`dmalab: module static data over ${MOD_RW >> 10} KiB`);
    this.next[k] = off + size;
    for (let p = Math.floor(off / 4096); p * 4096 < off + size; p++) {
      if (this.mapped.has(p)) continue;
      this.mapped.add(p);
      this.mmu.map_at(this.shape.modules_vaddr + p * 4096, [this.shape.kimage_phys + MODULE_PHYS_OFF + p * 4096], ro ? PTE_RO : 0);
    }
    return this.shape.modules_vaddr + off;
  }

  /** 'rodata' | 'data' for a placed module address, or null. */
  section_of(v: number): 'rodata' | 'data' | null {
    const off = v - this.shape.modules_vaddr;
    if (off < 0 || off >= MOD_END || !this.mapped.has(Math.floor(off / 4096))) return null;
    return off < MOD_RW ? 'rodata' : 'data';
  }

  phys_of(v: number): number {
    return v - this.shape.modules_vaddr + this.shape.kimage_phys + MODULE_PHYS_OFF;
  }
}
