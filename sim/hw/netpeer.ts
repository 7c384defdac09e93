// The NIC's link partner (sim/hw/e1000.ts): what is at the other end of the cable. A test
// scripts it: send(frames) puts frames on the wire, arriving at seeded times; every frame the
// NIC transmits lands in `received`; pause() holds the NIC's transmitter (an 802.3x XOFF, which
// the 82540EM honours: STATUS.TXOFF), resume() lets it go. In loopback mode it sends each frame
// it receives straight back after a seeded delay.
import { Rng } from '../kernel/random.ts';
import { M } from '../kernel/machine.ts';

/** The NIC's side of the cable. */
export interface NetPort {
  /** A frame is on the wire (or the schedule changed): look at next_at() again. */
  wire_changed(): void;
  /** The peer's PAUSE ended. */
  resumed(): void;
}

export interface SendOptions {
  /** When the first frame arrives, in ns from now (default: one gap). */
  at_ns?: number;
  /** Seeded gap between frames, [min, max] ns (default [1000, 12000]: a busy gigabit link). */
  gap_ns?: [number, number];
}

export class NetPeer {
  /** The link partner is there (STATUS.LU once the NIC sets CTRL.SLU). */
  up = true;
  loopback = false;
  paused = false;
  /** Loopback: how long a frame takes to come back, [min, max] ns. */
  loopback_ns: [number, number] = [2000, 20000];
  /** Every frame the NIC put on the wire, in order. */
  readonly received: Uint8Array[] = [];
  /** Frames on their way to the NIC, by arrival time. */
  private wire: { frame: Uint8Array; at: number }[] = [];
  private last_at = 0;
  private port: NetPort | null = null;
  private readonly rng: Rng;

  constructor(seed = M.seed) {
    this.rng = new Rng(seed ^ 0x9ee4);
  }

  connect(p: NetPort): void {
    this.port = p;
  }

  /** Put frames on the wire; they arrive in order, gaps seeded. */
  send(frames: Uint8Array[], o: SendOptions = {}): void {
    const [lo, hi] = o.gap_ns ?? [1000, 12000];
    let at = Math.max(this.last_at, M.clock.now + (o.at_ns ?? 0));
    for (const f of frames) {
      at += lo + this.rng.below(hi - lo + 1);
      this.wire.push({ frame: f.slice(), at });
    }
    this.last_at = at;
    this.port?.wire_changed();
  }

  /** Arrival time of the next frame on the wire (Infinity if none). */
  next_at(): number {
    return this.wire.length ? this.wire[0]!.at : Infinity;
  }
  /** Frames still on the wire. */
  in_flight(): number {
    return this.wire.length;
  }
  /** The NIC takes the next frame off the wire (arrived, or pulled forward by a device step). */
  take(): Uint8Array | null {
    return this.wire.shift()?.frame ?? null;
  }

  /** The NIC transmitted a frame. */
  deliver(frame: Uint8Array): void {
    this.received.push(frame);
    if (this.loopback) {
      const [lo, hi] = this.loopback_ns;
      const at = Math.max(this.last_at, M.clock.now) + lo + this.rng.below(hi - lo + 1);
      this.wire.push({ frame, at });
      this.last_at = at;
      this.port?.wire_changed();
    }
  }

  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    this.port?.resumed();
  }
}
