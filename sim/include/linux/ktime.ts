// include/linux/ktime.h, timekeeping.h
export { ktime_get, ktime_get_ns, ktime_to_ns, ktime_to_us, ktime_to_ms, ktime_sub } from '../../kernel/time.ts';
