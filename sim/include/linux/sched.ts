// include/linux/sched.h (the parts drivers use)
export { schedule, schedule_timeout, schedule_timeout_uninterruptible, cpu_relax } from '../../kernel/time.ts';
export { might_sleep, in_atomic } from '../../kernel/spinlock.ts';
