// Static data of a built-in driver: DEFINE_STATIC_BUFFER(64) is `static u8 buf[64];` (.bss),
// DEFINE_RODATA([..]) is `static const u8 table[] = {..};` (.rodata). Declare them at the top
// of a driver file; `.addr` is where the running machine's kernel image holds them.
import { M } from '../../kernel/machine.ts';

export interface static_buffer { readonly addr: number; readonly size: number }

function define(size: number, ro: boolean, init: Uint8Array | null, align: number): static_buffer {
  const key = {};
  return {
    size,
    get addr(): number {
      let a = M.kimage.placed.get(key);
      if (a === undefined) {
        a = M.kimage.place(size, ro, align);
        M.kimage.placed.set(key, a);
        const phys = M.mmu.kimage_to_phys(a);
        if (init) M.ram.write(phys, init, 0, init.length);
        else M.ram.fill(phys, 0, size);
      }
      return a;
    },
  };
}

export function DEFINE_STATIC_BUFFER(size: number, align = 8): static_buffer {
  return define(size, false, null, align);
}
export function DEFINE_RODATA(bytes: readonly number[] | Uint8Array): static_buffer {
  const b = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
  return define(b.length, true, b, 8);
}
