// include/linux/string.h
export { memset, memcpy, memmove, memcmp, memzero_explicit } from '../../mm/string.ts';
