// The kernel image: text, rodata, data and bss of a built-in driver. Driver files declare
// their static buffers with DEFINE_STATIC_BUFFER / DEFINE_RODATA (sim/include/dmalab/static.ts);
// each machine places them here the first time they are used, so "don't DMA to static or
// read-only data" can be taught with real addresses.
import type { Shape } from '../kernel/shapes.ts';

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
