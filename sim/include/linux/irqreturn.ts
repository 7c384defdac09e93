// include/linux/irqreturn.h
export { IRQ_NONE, IRQ_HANDLED, IRQ_WAKE_THREAD } from '../../irq/core.ts';
export type { irqreturn_t } from '../../irq/core.ts';
