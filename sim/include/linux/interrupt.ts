// include/linux/interrupt.h, irqreturn.h
export { IRQ_NONE, IRQ_HANDLED, IRQ_WAKE_THREAD } from '../../irq/core.ts';
export type { irqreturn_t, irq_handler_t } from '../../irq/core.ts';
export { request_irq, request_threaded_irq, free_irq, devm_request_irq, devm_request_threaded_irq,
  devm_free_irq, disable_irq, disable_irq_nosync, enable_irq, synchronize_irq, IRQF_SHARED,
  IRQF_ONESHOT, IRQF_NO_SUSPEND, IRQF_TRIGGER_NONE, IRQF_TRIGGER_RISING, IRQF_TRIGGER_FALLING,
  IRQF_TRIGGER_HIGH, IRQF_TRIGGER_LOW } from '../../irq/manage.ts';
export { local_irq_save, local_irq_restore, local_irq_disable, local_irq_enable, irqs_disabled,
  in_interrupt, in_irq } from '../../kernel/spinlock.ts';
export { tasklet_setup, tasklet_init, DECLARE_TASKLET, tasklet_schedule, tasklet_hi_schedule, tasklet_kill,
  tasklet_disable, tasklet_enable } from '../../kernel/softirq.ts';
export type { tasklet_struct } from '../../kernel/softirq.ts';
