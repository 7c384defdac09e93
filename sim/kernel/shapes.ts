// The machine shapes a driver is tested on (DESIGN.md "Machine shapes"). A shape fixes the
// architecture, cache coherence, memory map, DMA path and the kernel's virtual layout.

export type ShapeName = 'x86' | 'x86-iommu' | 'x86-swiotlb' | 'arm64' | 'arm64-smmu';
export const SHAPES: readonly ShapeName[] = ['x86', 'x86-iommu', 'x86-swiotlb', 'arm64', 'arm64-smmu'];

export interface Shape {
  name: ShapeName;
  arch: 'x86_64' | 'arm64';
  /** Do devices snoop the CPU caches? (x86: yes; this arm64 SoC: no, dma-noncoherent.) */
  coherent: boolean;
  /** CPU cache model for non-coherent machines: total bytes and ways; 64-byte lines. */
  cache: { size: number; ways: number } | null;
  /** L1_CACHE_BYTES. */
  l1_cache_bytes: number;
  /** ARCH_DMA_MINALIGN, or 1 where the arch defines none (x86): dma_get_cache_alignment(). */
  dma_minalign: number;
  /** ARCH_KMALLOC_MINALIGN: the smallest kmalloc alignment and size step. */
  kmalloc_minalign: number;
  /** Physical RAM. */
  ram_base: number;
  ram_size: number;
  /** dma-ranges: bus address = physical address + bus_offset (0 on a PC). */
  bus_offset: number;
  /** Top of ZONE_DMA as a physical address (exclusive). */
  zone_dma_end: number;
  /** Top of ZONE_DMA32 as a physical address (exclusive); 0 if the arch has none. */
  zone_dma32_end: number;
  /** PCI memory window: where BARs are assigned, as CPU physical = bus addresses. */
  mmio_base: number;
  /** The kernel's virtual layout, stored without the top 11 bits (see lib/vsprintf px). */
  page_offset: number;
  vmalloc_start: number;
  vmalloc_end: number;
  kimage_vaddr: number;
  /** Where loadable modules go (module_alloc): a module's code and static data. */
  modules_vaddr: number;
  /** Base of the struct page array (vmemmap): a struct page * is vmemmap + pfn * 64. */
  vmemmap: number;
  /** Where the kernel image sits in RAM. */
  kimage_phys: number;
  /** IOMMU translating this machine's PCI devices, if any. */
  iommu: null | 'intel' | 'smmu';
  /** swiotlb pool: physical base and size; force = every streaming mapping bounces. */
  swiotlb: { base: number; size: number; force: boolean } | null;
  HZ: number;
}

const MiB = 1 << 20;

// x86-64 (4-level paging): ffff888000000000 linear map, ffffc90000000000 vmalloc,
// ffffffff81000000 kernel text. A QEMU q35 PC with 512 MiB, edu's BAR at 0xfea00000.
const X86 = {
  arch: 'x86_64',
  coherent: true,
  cache: null,
  l1_cache_bytes: 64,
  dma_minalign: 1,
  kmalloc_minalign: 8,
  ram_base: 0,
  ram_size: 512 * MiB,
  bus_offset: 0,
  zone_dma_end: 16 * MiB,
  zone_dma32_end: 4096 * MiB,
  mmio_base: 0xfea00000,
  page_offset: 0x1f888000000000,
  vmalloc_start: 0x1fc90000000000,
  vmalloc_end: 0x1fe8ffffffffff,
  kimage_vaddr: 0x1fffff81000000,
  modules_vaddr: 0x1fffffa0000000,   // MODULES_VADDR, ffffffffa0000000: neither linear nor vmalloc
  vmemmap: 0x1fea0000000000,
  kimage_phys: 0x1000000,
  iommu: null,
  swiotlb: null,
  HZ: 250,
} as const;

// arm64 (48-bit VA): ffff000000000000 linear map, ffff800008000000 vmalloc. An SoC whose DRAM
// starts at 0x40000000 and whose interconnect shows it to bus masters at 0x08000000
// (dma-ranges), non-coherent, with a DMA zone covering the first 128 MiB of DRAM.
const ARM64 = {
  arch: 'arm64',
  coherent: false,
  cache: { size: 128 * 1024, ways: 8 },
  l1_cache_bytes: 64,
  dma_minalign: 128,
  kmalloc_minalign: 128,
  ram_base: 0x40000000,
  ram_size: 512 * MiB,
  bus_offset: 0x08000000 - 0x40000000,
  zone_dma_end: 0x40000000 + 128 * MiB,
  zone_dma32_end: 0,
  mmio_base: 0x10000000,
  page_offset: 0x1f000000000000,
  vmalloc_start: 0x1f800008000000,
  vmalloc_end: 0x1ffbffffffffff,
  kimage_vaddr: 0x1f800008010000,
  // module_alloc_base without KASLR: _etext - 128 MiB, below VMALLOC_START (not vmalloc).
  modules_vaddr: 0x1f800008010000 + 8 * MiB - 128 * MiB,
  vmemmap: 0x1ffc0000000000,
  kimage_phys: 0x40210000,
  iommu: null,
  swiotlb: { base: 0x40000000 + 96 * MiB, size: 16 * MiB, force: false },
  HZ: 250,
} as const;

export const SHAPE: Record<ShapeName, Shape> = {
  'x86': { ...X86, name: 'x86' },
  'x86-iommu': { ...X86, name: 'x86-iommu', iommu: 'intel' },
  // swiotlb=force with the pool low enough for a 28-bit device (as with 256 MiB guests).
  'x86-swiotlb': { ...X86, name: 'x86-swiotlb', swiotlb: { base: 0x0ba00000, size: 64 * MiB, force: true } },
  'arm64': { ...ARM64, name: 'arm64' },
  'arm64-smmu': { ...ARM64, name: 'arm64-smmu', iommu: 'smmu' },
};

export function shape_by_name(name: string): Shape {
  const s = SHAPE[name as ShapeName];
  if (!s) throw new Error(`unknown machine shape '${name}' (known: ${SHAPES.join(', ')})`);
  return s;
}
