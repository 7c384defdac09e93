// Static data of a driver: DEFINE_STATIC_BUFFER(64) is `static u8 buf[64];` (.bss),
// DEFINE_RODATA([..]) is `static const u8 table[] = {..};` (.rodata). Declare them at the top
// of a driver file; `.addr` is where the running machine holds them: in module space for the
// course's drivers (exercises, solutions, mutants: loadable modules, as a learner's driver is),
// in the kernel image for the sim's own drivers (built in), unless they say otherwise.
import { M } from '../../kernel/machine.ts';
import { course_path } from '../../site/which.ts';

export interface static_buffer { readonly addr: number; readonly size: number }
/** Where the driver that declares it is linked: 'module' (loaded with insmod) or 'builtin'. */
export type linkage = 'module' | 'builtin';

const MODULE_FILE = /^(exercises|solutions)\/|^\.dmalab\/(mutants|stubs)\//;

/** The file that called DEFINE_*: a course driver is a module. */
function caller_linkage(): linkage {
  const o: { stack?: string } = {};
  Error.captureStackTrace(o, caller_linkage);
  const frames = (o.stack ?? '').split('\n').slice(1);
  const here = frames.find((l) => !l.includes('/sim/include/dmalab/static.ts'));
  const m = here ? /(?:file:\/\/)?(\/[^():]+\.ts):\d+:\d+\)?$/.exec(here) : null;
  return m && MODULE_FILE.test(course_path(m[1]!)) ? 'module' : 'builtin';
}

function define(size: number, ro: boolean, init: Uint8Array | null, align: number, link: linkage): static_buffer {
  const key = {};
  return {
    size,
    get addr(): number {
      const mod = link === 'module';
      const placed = mod ? M.modspace.placed : M.kimage.placed;
      let a = placed.get(key);
      if (a === undefined) {
        a = mod ? M.modspace.place(size, ro, align) : M.kimage.place(size, ro, align);
        placed.set(key, a);
        const phys = mod ? M.modspace.phys_of(a) : M.mmu.kimage_to_phys(a);
        if (init) M.ram.write(phys, init, 0, init.length);
        else M.ram.fill(phys, 0, size);
      }
      return a;
    },
  };
}

export function DEFINE_STATIC_BUFFER(size: number, align = 8, link: linkage = caller_linkage()): static_buffer {
  return define(size, false, null, align, link);
}
export function DEFINE_RODATA(bytes: readonly number[] | Uint8Array, link: linkage = caller_linkage()): static_buffer {
  const b = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
  return define(b.length, true, b, 8, link);
}
