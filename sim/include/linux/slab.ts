// include/linux/slab.h
export * from './gfp.ts';
export { kmalloc, kzalloc, kmalloc_array, kcalloc, krealloc, kfree, kfree_sensitive, ksize, kmemdup,
  ZERO_SIZE_PTR } from '../../mm/slab_api.ts';
