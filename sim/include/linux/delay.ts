// include/linux/delay.h
export { msleep, msleep_interruptible, ssleep, usleep_range, fsleep, udelay, ndelay, mdelay } from '../../kernel/time.ts';
