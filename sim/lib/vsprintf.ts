// Number formatting the way the kernel's vsprintf prints it (lib/vsprintf.c): %016llx, %pa,
// %pad, %px, %p (hashed). Sim addresses are JS numbers below 2^53; a negative number stands for
// the same bits as a u64 (so DMA_MAPPING_ERROR, which is -1, prints as 0xffffffffffffffff).

/** The u64 bit pattern of a sim number (negative numbers wrap like a C cast). */
export function u64(n: number | bigint): bigint {
  return BigInt.asUintN(64, typeof n === 'bigint' ? n : BigInt(Math.trunc(n)));
}

/** %llx: lowercase hex, no padding. Sim numbers in [2^52, 2^53) are kernel virtual addresses
 *  stored without their top bits (see px below): they print as the kernel would print them,
 *  e.g. a CPU pointer passed where a DMA address belongs shows as ffff888..., not 1f888.... */
export function llx(n: number | bigint): string {
  if (typeof n === 'number' && n >= 2 ** 52 && n < 2 ** 53) return (0xffe0000000000000n | BigInt(n)).toString(16);
  if (typeof n === 'number' && n >= 0 && n <= Number.MAX_SAFE_INTEGER) return n.toString(16);
  return u64(n).toString(16);
}

/** %016llx: 16 lowercase hex digits. */
export function x016(n: number | bigint): string {
  return llx(n).padStart(16, '0');
}

/** %08x on a u32. */
export function x08(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** %pa / %pad on a 64-bit machine: 0x + 16 hex digits. */
export function pa(n: number | bigint): string {
  return '0x' + x016(n);
}

/** Kernel virtual addresses are stored without their top 11 bits (all ones on x86-64 and
 *  arm64) so they fit a JS number; %px puts them back. */
const KERNEL_VA_TOP = 0xffe0000000000000n;
export function px(vaddr: number): string {
  if (vaddr >= 2 ** 52 && vaddr < 2 ** 53) return (KERNEL_VA_TOP | BigInt(vaddr)).toString(16);
  return x016(vaddr);
}

/** The 64 bits a number stands for when a driver writes it to a 64-bit register: a kernel
 *  virtual address gets its top bits back (a device given a CPU pointer sees ffff8000...). */
export function u64_bits(v: number): bigint {
  if (v >= 2 ** 52 && v < 2 ** 53) return KERNEL_VA_TOP | BigInt(v);
  return BigInt.asUintN(64, BigInt(v));
}

/** A number of bytes the way people read them: 4096 -> '4 KiB'. */
export function size_str(n: number): string {
  for (const [unit, div] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (n >= div && n % div === 0) return `${n / div} ${unit}`;
  }
  return `${n} bytes`;
}

// A subset of the kernel's printf (lib/vsprintf.c), so dev_info(dev, "dma=%pad\n", h) reads
// as in C. Pointer extensions take values, not pointers: %pa/%pad print the number given.
const SPEC = /%([-+ 0#]*)(\d+|\*)?(?:\.(\d+))?(hh|h|ll|l|z|t)?(p[a-zA-Z]*|[diouxXcs%])/g;

export function vsprintf(fmt: string, args: readonly unknown[]): string {
  let i = 0;
  return fmt.replace(SPEC, (_all, flags: string, width: string | undefined, prec: string | undefined,
    len: string | undefined, conv: string) => {
    if (conv === '%') return '%';
    let w = width === '*' ? Number(args[i++]) : width ? parseInt(width, 10) : 0;
    const arg = args[i++];
    let s: string;
    if (conv.startsWith('p')) {
      const ext = conv.slice(1);
      const n = typeof arg === 'bigint' ? arg : Number(arg ?? 0);
      if (ext === 'a' || ext === 'ad') s = pa(n);
      else if (ext === 'x' || ext === '' || ext === 'K') {
        s = typeof n === 'number' ? px(n) : x016(n);
        // %p and %pK hash the address (the kernel keeps raw pointers out of its log); NULL and
        // error pointers print as they are.
        if (ext !== 'x' && n !== 0 && n !== 0n && !(typeof n === 'number' && n < 0 && n >= -4095)) s = hashed_ptr(s);
      }
      else s = String(arg);
      return s;
    }
    switch (conv) {
      case 'd': case 'i': s = typeof arg === 'bigint' ? arg.toString() : String(Math.trunc(Number(arg))); break;
      case 'u': s = typeof arg === 'bigint' ? arg.toString() :
        (len === 'll' || len === 'l' || len === 'z' ? u64(Number(arg)).toString() : String(Number(arg) >>> 0)); break;
      case 'x': case 'X': {
        const v = typeof arg === 'bigint' ? arg : Number(arg);
        s = len === 'll' || len === 'l' || len === 'z' || typeof v === 'bigint' || v > 0xffffffff ? llx(v)
          : (Number(v) >>> 0).toString(16);
        if (flags.includes('#') && v !== 0) s = '0x' + s;
        if (conv === 'X') s = s.toUpperCase();
        break;
      }
      case 'o': s = (Number(arg) >>> 0).toString(8); break;
      case 'c': s = typeof arg === 'number' ? String.fromCharCode(arg) : String(arg); break;
      case 's': s = String(arg); if (prec) s = s.slice(0, parseInt(prec, 10)); break;
      default: s = String(arg);
    }
    if (w && s.length < w) {
      if (flags.includes('-')) s = s.padEnd(w);
      else if (flags.includes('0') && conv !== 's') {
        const neg = s.startsWith('-');
        s = (neg ? '-' : '') + s.slice(neg ? 1 : 0).padStart(w - (neg ? 1 : 0), '0');
      } else s = s.padStart(w);
    }
    return s;
  });
}

/** What %p (and %pK, with kptr_restrict 0) prints: the kernel hashes pointers with a key drawn
 *  at boot, so any stable 32-bit value, zero-extended, will do; this is FNV-1a of `key` (a name
 *  or an address), the same on every run. */
export function hashed_ptr(key: string | number): string {
  const k = String(key);
  let h = 0x811c9dc5;
  for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(16, '0');
}
