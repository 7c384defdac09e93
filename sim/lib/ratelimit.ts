// printk rate limiting (lib/ratelimit.c): at most `burst` messages per `interval` of virtual
// time; when a new interval starts, the ones held back are counted in one line.
import { M } from '../kernel/machine.ts';

/** DEFAULT_RATELIMIT_INTERVAL (5 s) and DEFAULT_RATELIMIT_BURST (10). */
export class Ratelimit {
  private begin = -1;
  private printed = 0;
  private missed = 0;

  constructor(readonly func: string, readonly interval_ns = 5e9, readonly burst = 10) {}

  /** __ratelimit(): may the message print now? */
  ok(): boolean {
    const now = M.clock.now;
    if (this.begin < 0) this.begin = now;
    if (now > this.begin + this.interval_ns) {
      if (this.missed) {
        M.printk(4, `${this.func}: ${this.missed} callbacks suppressed`);
        this.missed = 0;
      }
      this.begin = now;
      this.printed = 0;
    }
    if (this.burst > this.printed) {
      this.printed++;
      return true;
    }
    this.missed++;
    return false;
  }
}
