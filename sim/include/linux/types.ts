// include/linux/types.h: the names C gives to sizes and addresses. They are all numbers here
// (u64 is a bigint where it must hold a full 64-bit mask).
export type u8 = number;
export type u16 = number;
export type u32 = number;
export type s32 = number;
export type size_t = number;
export type gfp_t = number;
export type { dma_addr_t, phys_addr_t, u64 } from '../../dma/types.ts';
export type { iomem } from '../../io/io.ts';
