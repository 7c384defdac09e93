// include/linux/mm.h, asm/page.h: pages and the addresses around them
export { PAGE_SIZE, PAGE_SHIFT, PAGE_MASK, PAGE_ALIGN, offset_in_page, get_order, virt_addr_valid,
  is_vmalloc_addr, virt_to_page, virt_to_pfn, page_address, page_to_virt, page_to_pfn, pfn_to_page,
  page_to_phys } from '../../mm/mm_api.ts';
