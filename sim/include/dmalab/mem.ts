// dmalab's stand-ins for C pointer dereferences and struct layout in kernel memory.
// (Not a kernel header: in C you would write *(u32 *)p, or p->field.)
export { get_u8, get_u16, get_u32, get_u64, put_u8, put_u16, put_u32, put_u64, copy_from_mem,
  copy_to_mem } from '../../mm/string.ts';
export { struct_layout } from '../../mm/struct.ts';
export type { Layout } from '../../mm/struct.ts';
