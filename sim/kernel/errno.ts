// include/uapi/asm-generic/errno-base.h and errno.h values, plus include/linux/err.h helpers.
// Functions return them negated, as in the kernel.

export const EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7,
  ENOEXEC = 8, EBADF = 9, ECHILD = 10, EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14,
  EBUSY = 16, EEXIST = 17, ENODEV = 19, EINVAL = 22, ENOSPC = 28, EPIPE = 32, ERANGE = 34, ENOSYS = 38,
  ENODATA = 61, ETIME = 62, EREMOTEIO = 121, EOPNOTSUPP = 95, ETIMEDOUT = 110,
  EINPROGRESS = 115, ECANCELED = 125, EPROBE_DEFER = 517;

const NAMES: Record<number, string> = {
  [EPERM]: 'EPERM', [ENOENT]: 'ENOENT', [ESRCH]: 'ESRCH', [EINTR]: 'EINTR', [EIO]: 'EIO',
  [ENXIO]: 'ENXIO', [E2BIG]: 'E2BIG', [ENOEXEC]: 'ENOEXEC', [EBADF]: 'EBADF', [ECHILD]: 'ECHILD',
  [EAGAIN]: 'EAGAIN', [ENOMEM]: 'ENOMEM', [EACCES]: 'EACCES', [EFAULT]: 'EFAULT',
  [EBUSY]: 'EBUSY', [EEXIST]: 'EEXIST', [ENODEV]: 'ENODEV', [EINVAL]: 'EINVAL',
  [ENOSPC]: 'ENOSPC', [EPIPE]: 'EPIPE', [ERANGE]: 'ERANGE', [ENOSYS]: 'ENOSYS', [ENODATA]: 'ENODATA',
  [ETIME]: 'ETIME', [EREMOTEIO]: 'EREMOTEIO', [EOPNOTSUPP]: 'EOPNOTSUPP',
  [ETIMEDOUT]: 'ETIMEDOUT', [EINPROGRESS]: 'EINPROGRESS', [ECANCELED]: 'ECANCELED',
  [EPROBE_DEFER]: 'EPROBE_DEFER',
};

/** An errno as dmalab's messages give it, the number the driver returned and its name:
 *  '-5 (-EIO)'; 0 and values that are not errnos as the number alone. */
export function errno_str(err: number): string {
  const n = Number.isInteger(err) && err < 0 ? NAMES[-err] : undefined;
  return n ? `${err} (-${n})` : String(err);
}

/** '-ENOMEM' for -12; the number itself for unknown values. */
export function errname(err: number): string {
  const n = NAMES[-err];
  return n ? `-${n}` : String(err);
}

// include/linux/err.h: an error pointer is a small negative number in a pointer's place.
// Sim pointers are numbers, so ERR_PTR(-EPROBE_DEFER) is simply -517.
export const MAX_ERRNO = 4095;
export function ERR_PTR<T = number>(error: number): T {
  return error as unknown as T;
}
export function PTR_ERR(ptr: unknown): number {
  return ptr as number;
}
export function IS_ERR(ptr: unknown): boolean {
  return typeof ptr === 'number' && ptr < 0 && ptr >= -MAX_ERRNO;
}
export function IS_ERR_OR_NULL(ptr: unknown): boolean {
  return !ptr || IS_ERR(ptr);
}
export function PTR_ERR_OR_ZERO(ptr: unknown): number {
  return IS_ERR(ptr) ? (ptr as number) : 0;
}
