// include/linux/mutex.h
export { DEFINE_MUTEX, mutex_init, mutex_lock, mutex_trylock, mutex_unlock, mutex_is_locked } from '../../kernel/spinlock.ts';
export type { mutex } from '../../kernel/spinlock.ts';
