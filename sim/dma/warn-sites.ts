// Where each check's WARN fires in Linux 6.1 (kernel/dma/debug.c and friends), as the kernel
// prints it after "WARNING: CPU: 0 PID: n at ". Measured on the kernel rig (see
// docs/kernel-6.1-measured.md and sim/dma/kernel-6.1-warn-sites.json); where a check was not
// measured, file:line and func+off/len come from the rig kernel's own __bug_table (each WARN's
// ud2 with its file and line, resolved against the symbol table: tools/kernel-rig-bug-table.py).
import measured from './kernel-6.1-warn-sites.json' with { type: 'json' };

const FALLBACK: Record<string, string> = {
  'C-M1': 'kernel/dma/debug.c:1199 debug_dma_map_single+0x99/0x133',
  'C-M2': 'kernel/dma/debug.c:1203 debug_dma_map_single+0x121/0x133',
  'C-M3': 'kernel/dma/debug.c:1068 check_for_stack+0xd7/0xe7',
  'C-M4': 'kernel/dma/debug.c:1078 check_for_stack+0x162/0x19d',
  'C-M5': 'kernel/dma/debug.c:1088 check_for_illegal_area+0xa9/0xbb',
  'C-M6': 'kernel/dma/debug.c:1177 debug_dma_map_sg+0x207/0x2ff',
  'C-M7': 'kernel/dma/debug.c:1187 debug_dma_map_sg+0x2c4/0x2ff',
  'C-M8': 'kernel/dma/debug.c:571 add_dma_entry+0x178/0x196',
  'C-U1': 'kernel/dma/debug.c:970 check_unmap+0xc8/0x69b',
  'C-U2': 'kernel/dma/debug.c:974 check_unmap+0x140/0x69b',
  'C-U3': 'kernel/dma/debug.c:984 check_unmap+0x1f4/0x69b',
  'C-U4': 'kernel/dma/debug.c:992 check_unmap+0x2ab/0x69b',
  'C-U5': 'kernel/dma/debug.c:1000 check_unmap+0x384/0x69b',
  'C-U6': 'kernel/dma/debug.c:1012 check_unmap+0x43a/0x69b',
  'C-U7': 'kernel/dma/debug.c:1023 check_unmap+0x508/0x69b',
  'C-U8': 'kernel/dma/debug.c:1038 check_unmap+0x5c8/0x69b',
  'C-S1': 'kernel/dma/debug.c:1104 check_sync+0xb1/0x4bd',
  'C-S2': 'kernel/dma/debug.c:1112 check_sync+0x15c/0x4bd',
  'C-S3': 'kernel/dma/debug.c:1125 check_sync+0x23f/0x4bd',
  'C-S4': 'kernel/dma/debug.c:1136 check_sync+0x319/0x4bd',
  'C-S5': 'kernel/dma/debug.c:1146 check_sync+0x3d9/0x4bd',
  'C-S6': 'kernel/dma/debug.c:1156 check_sync+0x492/0x4bd',
  'C-L1': 'kernel/dma/debug.c:859 dma_debug_device_change+0x11b/0x145',
  VMALLOC_REJECT: 'include/linux/dma-mapping.h:332 dma_map_single_attrs.constprop.0+0x59/0x103',
  DIRECT_OVERFLOW: 'kernel/dma/direct.h:103 dma_map_page_attrs+0x1bc/0x1f8',
  SWIOTLB_OVERFLOW: 'kernel/dma/swiotlb.c:949 swiotlb_map+0x115/0x127',
  SWIOTLB_BOUNCE_OVERFLOW: 'kernel/dma/swiotlb.c:587 swiotlb_bounce+0x172/0x1a6',
  SWIOTLB_BOUNCE_OVERFLOW_OFFSET: 'kernel/dma/swiotlb.c:577 swiotlb_bounce+0x10e/0x1a6',
  DMA_NO_MASK: 'kernel/dma/mapping.c:152 dma_map_page_attrs+0x2d/0x1f8',
  DMA_NO_MASK_SG: 'kernel/dma/mapping.c:190 __dma_map_sg_attrs+0x1e/0x9e',
  DMA_NO_MASK_RESOURCE: 'kernel/dma/mapping.c:303 dma_map_resource+0x1e/0x88',
  NO_COHERENT_MASK: 'kernel/dma/mapping.c:499 dma_alloc_attrs+0x2a/0x83',
  FREE_IRQS_DISABLED: 'kernel/dma/mapping.c:533 dma_free_attrs+0x2d/0x98',
  DMAM_FREE: 'kernel/dma/mapping.c:66 dmam_free_coherent+0x4c/0x69',
  PCI_DISABLE_DISABLED: 'drivers/pci/pci.c:2347 pci_disable_device+0x5d/0x7f',
};

type Measured = Record<string, { where?: string | null; func?: string | null } | string>;

/** 'kernel/dma/debug.c:984 check_unmap+0x1f4/0x69b' for a check id (see the JSON). */
export function warn_at(id: string, module?: string): string {
  const m = (measured as unknown as Measured)[id];
  const fb = FALLBACK[id] ?? `kernel/dma/debug.c ${id}`;
  let s = fb;
  if (m && typeof m === 'object' && m.where) {
    // Not measured firing: the bug table's func+off/len when it is the same WARN, else the name.
    const fb_func = fb.startsWith(`${m.where} `) ? fb.split(' ')[1]! : fb.split(' ')[1]!.replace(/\+.*$/, '');
    s = `${m.where} ${m.func ?? fb_func}`;
  }
  if (id === 'VMALLOC_REJECT') s = s.replace(/ \[[^\]]*\]$/, '') + (module ? ` [${module}]` : '');
  return s;
}
