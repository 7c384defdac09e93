// Where each check's WARN fires in Linux 6.1 (kernel/dma/debug.c and friends), as the kernel
// prints it after "WARNING: CPU: 0 PID: n at ". Measured on the kernel rig (see
// docs/kernel-6.1-measured.md and sim/dma/kernel-6.1-warn-sites.json); where a check was not
// measured, its line comes from the 6.1 source and the offset is left out.
import measured from './kernel-6.1-warn-sites.json' with { type: 'json' };

const FALLBACK: Record<string, string> = {
  'C-M1': 'kernel/dma/debug.c:1223 debug_dma_map_single',
  'C-M2': 'kernel/dma/debug.c:1227 debug_dma_map_single',
  'C-M3': 'kernel/dma/debug.c:1068 check_for_stack+0xd7/0xe7',
  'C-M4': 'kernel/dma/debug.c:1078 check_for_stack+0x162/0x19d',
  'C-M5': 'kernel/dma/debug.c:1095 check_for_illegal_area',
  'C-M6': 'kernel/dma/debug.c:1168 check_sg_segment',
  'C-M7': 'kernel/dma/debug.c:1180 check_sg_segment',
  'C-M8': 'kernel/dma/debug.c:577 add_dma_entry',
  'C-M9': 'kernel/dma/debug.c:1260 debug_dma_map_resource',
  'C-U1': 'kernel/dma/debug.c:970 check_unmap+0xc8/0x69b',
  'C-U2': 'kernel/dma/debug.c:975 check_unmap',
  'C-U3': 'kernel/dma/debug.c:984 check_unmap+0x1f4/0x69b',
  'C-U4': 'kernel/dma/debug.c:992 check_unmap',
  'C-U5': 'kernel/dma/debug.c:1001 check_unmap',
  'C-U6': 'kernel/dma/debug.c:1012 check_unmap',
  'C-U7': 'kernel/dma/debug.c:1024 check_unmap',
  'C-U8': 'kernel/dma/debug.c:1038 check_unmap+0x5c8/0x69b',
  'C-S1': 'kernel/dma/debug.c:1103 check_sync',
  'C-S2': 'kernel/dma/debug.c:1111 check_sync',
  'C-S3': 'kernel/dma/debug.c:1125 check_sync+0x23f/0x4bd',
  'C-S4': 'kernel/dma/debug.c:1135 check_sync',
  'C-S5': 'kernel/dma/debug.c:1146 check_sync+0x3d9/0x4bd',
  'C-S6': 'kernel/dma/debug.c:1155 check_sync',
  'C-L1': 'kernel/dma/debug.c:859 dma_debug_device_change+0x11b/0x145',
  VMALLOC_REJECT: 'include/linux/dma-mapping.h:332 dma_map_single_attrs.constprop.0+0x59/0x103',
  DIRECT_OVERFLOW: 'kernel/dma/direct.h:103 dma_direct_map_page',
  SWIOTLB_OVERFLOW: 'kernel/dma/swiotlb.c:949 swiotlb_map+0x115/0x127',
  SWIOTLB_BOUNCE_OVERFLOW: 'kernel/dma/swiotlb.c:587 swiotlb_bounce+0x172/0x1a6',
  SWIOTLB_BOUNCE_OVERFLOW_OFFSET: 'kernel/dma/swiotlb.c:577 swiotlb_bounce',
  DMA_NO_MASK: 'kernel/dma/mapping.c:152 dma_map_page_attrs',
  NO_COHERENT_MASK: 'kernel/dma/mapping.c:499 dma_alloc_attrs',
  FREE_IRQS_DISABLED: 'kernel/dma/mapping.c:533 dma_free_attrs',
  DMAM_FREE: 'kernel/dma/mapping.c:66 dmam_free_coherent',
};

type Measured = Record<string, { where?: string | null; func?: string | null } | string>;

/** 'kernel/dma/debug.c:984 check_unmap+0x1f4/0x69b' for a check id (see the JSON). */
export function warn_at(id: string, module?: string): string {
  const m = (measured as unknown as Measured)[id];
  const fb = FALLBACK[id] ?? `kernel/dma/debug.c ${id}`;
  let s = fb;
  if (m && typeof m === 'object' && m.where) s = `${m.where} ${m.func ?? fb.split(' ')[1]!.replace(/\+.*$/, '')}`;
  if (id === 'VMALLOC_REJECT') s = s.replace(/ \[[^\]]*\]$/, '') + (module ? ` [${module}]` : '');
  return s;
}
