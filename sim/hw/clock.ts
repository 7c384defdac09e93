// Virtual time and the machine's one event queue. Devices do their work as events; events
// run when time advances (in waits, delays, MMIO reads, and when the harness runs the clock).

export interface Event {
  at: number;
  seq: number;
  fn: () => void;
  live: boolean;
  what: string;
}

export class Clock {
  /** Virtual time in ns since power-on. */
  now = 0;
  /** Time of the earliest pending event (Infinity when none). */
  next = Infinity;
  private heap: Event[] = [];
  private seq = 0;
  private running = 0;
  /** Runs before every event: time has passed, so the CPU's store buffer has drained. */
  on_event: (() => void) | null = null;

  schedule(delay_ns: number, fn: () => void, what = ''): Event {
    const ev: Event = { at: this.now + Math.max(0, delay_ns), seq: this.seq++, fn, live: true, what };
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p]!, ev)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = ev;
    this.next = h[0]!.at;
    return ev;
  }

  cancel(ev: Event | null | undefined): void {
    if (ev) ev.live = false;
  }

  pending(): number {
    let n = 0;
    for (const e of this.heap) if (e.live) n++;
    return n;
  }

  private pop(): Event {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        let mv = last;
        if (l < n && less(h[l]!, mv)) { m = l; mv = h[l]!; }
        if (r < n && less(h[r]!, mv)) { m = r; mv = h[r]!; }
        if (m === i) break;
        h[i] = h[m]!;
        i = m;
      }
      h[i] = last;
    }
    this.next = h.length ? h[0]!.at : Infinity;
    return top;
  }

  /** Run every event due at or before `t`, then set the time to `t` (never backwards). */
  advance_to(t: number): void {
    this.running++;
    try {
      while (this.next <= t) {
        const ev = this.pop();
        if (!ev.live) continue;
        if (ev.at > this.now) this.now = ev.at;
        if (this.on_event) this.on_event();
        ev.fn();
      }
    } finally {
      this.running--;
    }
    if (t > this.now) this.now = t;
  }

  /** Run events until `pred()` holds or `deadline` passes; returns pred(). */
  run_until(pred: () => boolean, deadline: number): boolean {
    while (!pred()) {
      if (this.next > deadline) {
        if (deadline > this.now) this.now = deadline;
        return pred();
      }
      this.advance_to(this.next);
    }
    return true;
  }
}

function less(a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
