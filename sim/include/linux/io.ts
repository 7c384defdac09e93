// include/linux/io.h, asm/io.h: MMIO and the CPU <-> physical address conversions
export { ioremap, ioremap_uc, ioremap_wc, iounmap, readb, readw, readl, readq, writeb, writew, writel,
  writeq, readb_relaxed, readw_relaxed, readl_relaxed, readq_relaxed, writeb_relaxed,
  writew_relaxed, writel_relaxed, writeq_relaxed, ioread8, ioread16, ioread32, ioread64, iowrite8,
  iowrite16, iowrite32, iowrite64, lo_hi_writeq, memcpy_fromio, memcpy_toio, memset_io } from '../../io/io.ts';
export type { iomem } from '../../io/io.ts';
export { virt_to_phys, phys_to_virt, __pa, __va } from '../../mm/mm_api.ts';
