// include/linux/jiffies.h: `jiffies` is a live binding, advanced by the timer tick.
export { jiffies, HZ, INITIAL_JIFFIES, get_jiffies_64, msecs_to_jiffies, usecs_to_jiffies,
  jiffies_to_msecs, jiffies_to_usecs, time_after, time_before, time_after_eq, time_before_eq,
  time_is_before_jiffies, time_is_after_jiffies } from '../../kernel/time.ts';
