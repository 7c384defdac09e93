// include/linux/err.h
export { ERR_PTR, PTR_ERR, IS_ERR, IS_ERR_OR_NULL, PTR_ERR_OR_ZERO, MAX_ERRNO } from '../../kernel/errno.ts';
