// include/linux/spinlock.h
export { DEFINE_SPINLOCK, spin_lock_init, spin_lock, spin_unlock, spin_lock_bh, spin_unlock_bh,
  spin_lock_irq, spin_unlock_irq, spin_lock_irqsave, spin_unlock_irqrestore, spin_trylock } from '../../kernel/spinlock.ts';
export type { spinlock_t } from '../../kernel/spinlock.ts';
