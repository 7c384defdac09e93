// include/linux/vmalloc.h
export { vmalloc, vzalloc, vfree, vmalloc_to_page, vmalloc_to_pfn, is_vmalloc_addr } from '../../mm/mm_api.ts';
