// How a weakly ordered CPU's accesses to coherent memory look to a device, and a device's
// writes to the CPU: the arm64 shapes only (x86 keeps program order for these cases, as TSO
// does, and has no MemoryOrder at all). Coherent memory there is mapped Normal non-cacheable,
// which is still weakly ordered (arch/arm64/include/asm/barrier.h, Documentation/
// memory-barriers.txt "dma_wmb() / dma_rmb()"). Two mechanisms, both seeded:
//
// - A store buffer. A CPU store to a coherent page waits here instead of reaching RAM; a device
//   reads RAM, so it sees only what has drained. dma_wmb()/wmb()/mb(), writel() (arm64's
//   __iowmb() before the relaxed write), the sync calls, spin_unlock, a harness boundary and any
//   event on the clock (a real store buffer empties in nanoseconds) drain it all, in program
//   order. writel_relaxed() does not. When a device touches bytes a store is still pending for,
//   each such store drains first with probability 1/2 (two stores to one address stay in order);
//   a store still pending then is what the device did not see (DMA_STORE_REORDERED).
// - Loads performed early. A CPU load of bytes the device wrote since the CPU's last load
//   ordering point (dma_rmb()/rmb()/mb(), readl()'s __iormb(), a spinlock, an interrupt or
//   harness entry, a clock event) may return their value from before that write, with
//   probability 1/2, if an earlier load since the ordering point already returned another part
//   of the same device write: the length read "before" the DD bit it depends on
//   (DMA_LOAD_REORDERED). Loads of bytes already read since the ordering point stay coherent.
//
// Device models whose work can overlap the CPU's (a NIC receiving frames) register a step: with
// probability 1/8 it runs before a CPU load from coherent memory, as a device running
// concurrently would. No rule here counts barriers: a report is made only when a side saw a value
// the other side had already replaced.
import { M } from '../kernel/machine.ts';
import { take_site, type Site } from '../kernel/site.ts';
import { take_buffer } from '../lib/recycle.ts';
import type { Rng } from '../kernel/random.ts';
import { px, x016 } from '../lib/vsprintf.ts';
import { PAGE_SIZE } from './page_alloc.ts';
import type { BusMaster } from '../hw/bus.ts';

interface Store { phys: number; bytes: Uint8Array; site: Site }
interface DevWrite {
  phys: number; len: number; seq: number; old: Uint8Array; who: string;
  /** An earlier load since the ordering point returned part of this write: its site. */
  observed: Site | null; observed_v: number;
}

/** A store buffer this deep drains its oldest entry when full. */
const SB_ENTRIES = 64;
/** Device writes remembered since the last ordering point. */
const HISTORY = 64;
const P_DRAIN = 1 / 2, P_EARLY = 1 / 2, P_STEP = 1 / 8;

const overlaps = (a: number, alen: number, b: number, blen: number) => a < b + blen && b < a + alen;

export class MemoryOrder {
  private sb: Store[] = [];
  private hist: DevWrite[] = [];
  /** Bytes loaded since the ordering point that returned a device write newer than it. */
  private seen: number[] = [];
  private seq = 0;
  /** Per page of RAM: 1 where a coherent buffer is mapped for the CPU. */
  private readonly coh: Uint8Array;
  /** The buffers it took (sim/lib/recycle.ts). */
  readonly buffers: ArrayBuffer[] = [];
  private readonly base_pfn: number;
  private steppers: (() => void)[] = [];
  private stepping = false;

  constructor(private readonly rng: Rng, ram_base: number, ram_size: number) {
    this.base_pfn = Math.floor(ram_base / PAGE_SIZE);
    const n = Math.ceil(ram_size / PAGE_SIZE);
    this.coh = new Uint8Array(take_buffer(this.buffers, n), 0, n);
  }

  // ---- which memory -------------------------------------------------------------------------

  /** dma_alloc_coherent() mapped [phys, phys+len) uncached for the CPU (or is freeing it). */
  mark(phys: number, len: number, on: boolean): void {
    if (!on) this.drain();
    const first = Math.floor(phys / PAGE_SIZE) - this.base_pfn;
    const n = Math.ceil(len / PAGE_SIZE);
    this.coh.fill(on ? 1 : 0, first, first + n);
  }
  coherent(phys: number): boolean {
    return this.coh[Math.floor(phys / PAGE_SIZE) - this.base_pfn] === 1;
  }

  /** A device model whose work can overlap the CPU's: `fn` does one piece of it now. */
  add_step(fn: () => void): void {
    this.steppers.push(fn);
  }
  remove_step(fn: () => void): void {
    this.steppers = this.steppers.filter((f) => f !== fn);
  }

  // ---- ordering points ----------------------------------------------------------------------

  /** Every pending store reaches memory, in program order (dma_wmb, wmb, writel's __iowmb). */
  drain(): void {
    const sb = this.sb;
    for (let i = 0; i < sb.length; i++) M.ram.write(sb[i]!.phys, sb[i]!.bytes, 0, sb[i]!.bytes.length);
    sb.length = 0;
  }
  /** A load ordering point (dma_rmb, rmb, readl's __iormb, lock acquire, interrupt entry). */
  point(): void {
    this.hist.length = 0;
    this.seen.length = 0;
  }
  /** Both (mb(), the sync calls, a harness boundary, a clock event). */
  full(): void {
    this.drain();
    this.point();
  }

  // ---- the CPU's side -----------------------------------------------------------------------

  /** A CPU store to coherent memory: into the store buffer. */
  cpu_write(phys: number, src: Uint8Array, off: number, len: number, entry: Function): void {
    if (this.sb.length >= SB_ENTRIES) {
      const o = this.sb.shift()!;
      M.ram.write(o.phys, o.bytes, 0, o.bytes.length);
    }
    this.sb.push({ phys, bytes: src.slice(off, off + len), site: take_site(entry) });
  }
  cpu_fill(phys: number, value: number, len: number, entry: Function): void {
    this.cpu_write(phys, new Uint8Array(len).fill(value), 0, len, entry);
  }

  /** A CPU load from coherent memory: RAM, maybe from before a device write, then the CPU's
   *  own pending stores on top (store-to-load forwarding). `v` is the CPU's address. */
  cpu_read(phys: number, dst: Uint8Array, off: number, len: number, v: number, entry: Function): void {
    if (this.steppers.length && !this.stepping && this.rng.chance(P_STEP)) this.step();
    M.ram.read(phys, dst, off, len);
    if (this.hist.length) this.early(phys, dst, off, len, v, entry);
    const sb = this.sb;
    for (let i = 0; i < sb.length; i++) {
      const s = sb[i]!;
      if (!overlaps(s.phys, s.bytes.length, phys, len)) continue;
      const lo = Math.max(s.phys, phys), hi = Math.min(s.phys + s.bytes.length, phys + len);
      dst.set(s.bytes.subarray(lo - s.phys, hi - s.phys), off + lo - phys);
    }
  }

  private step(): void {
    this.stepping = true;
    try {
      for (const f of this.steppers) f();
    } finally {
      this.stepping = false;
    }
  }

  /** The load side: may this load have been performed before the write it would see? */
  private early(phys: number, dst: Uint8Array, off: number, len: number, v: number, entry: Function): void {
    const h = this.hist;
    let rec: DevWrite | null = null;
    for (let i = h.length - 1; i >= 0; i--) if (overlaps(h[i]!.phys, h[i]!.len, phys, len)) { rec = h[i]!; break; }
    if (!rec) return;
    // Bytes this CPU already read since the ordering point never go back in time.
    const seen = this.seen;
    let coherent = false;
    for (let i = 0; i < seen.length; i += 2) if (overlaps(seen[i]!, seen[i + 1]!, phys, len)) { coherent = true; break; }
    if (!coherent && rec.observed !== null && this.rng.chance(P_EARLY)) {
      // As of the ordering point: undo, newest first, every later device write to these bytes.
      const cur = dst.slice(off, off + len);
      for (let i = h.length - 1; i >= 0; i--) {
        const w = h[i]!;
        if (!overlaps(w.phys, w.len, phys, len)) continue;
        const lo = Math.max(w.phys, phys), hi = Math.min(w.phys + w.len, phys + len);
        dst.set(w.old.subarray(lo - w.phys, hi - w.phys), off + lo - phys);
      }
      let same = true;
      for (let i = 0; i < len; i++) if (dst[off + i] !== cur[i]) { same = false; break; }
      if (!same) {
        M.diag.report('DMA_LOAD_REORDERED', [
          `dmalab: ${rec.who}: the CPU read ${px(v)} (${len} bytes: its value from before the device's write-back) after reading ${px(rec.observed_v)}, which the device wrote in the same write-back`,
          'dmalab: loads from coherent memory are not ordered after the load of the ownership bit without dma_rmb(): the later load may be performed first',
        ], { sites: [['Read at', take_site(entry)], ['Ownership bit read at', rec.observed]] });
      }
      return;
    }
    seen.push(phys, len);
    if (rec.observed === null) { rec.observed = take_site(entry); rec.observed_v = v; }
  }

  // ---- the device's side --------------------------------------------------------------------

  /** A device read or write of RAM [phys, phys+len) at bus address `bus`, before it happens:
   *  pending stores to those bytes drain or stay (then reported); a write to coherent memory is
   *  remembered with the bytes it replaces. */
  device_access(m: BusMaster, bus: number, phys: number, len: number, write: boolean): void {
    if (this.sb.length) this.pending_stores(m, bus, phys, len, write);
    if (write && this.coherent(phys)) {
      const old = new Uint8Array(len);
      M.ram.read(phys, old, 0, len);
      if (this.hist.length >= HISTORY) this.hist.shift();
      const dev = m.dev;
      this.hist.push({ phys, len, seq: ++this.seq, old, who: dev ? `${dev.driver?.name ?? 'pci'} ${dev.init_name}` : m.bdf,
        observed: null, observed_v: 0 });
    }
  }

  private pending_stores(m: BusMaster, bus: number, phys: number, len: number, write: boolean): void {
    const sb = this.sb;
    let stale: Store | null = null;
    for (let i = 0; i < sb.length;) {
      const s = sb[i]!;
      if (!overlaps(s.phys, s.bytes.length, phys, len)) { i++; continue; }
      // An older store to any of the same bytes still pending holds this one back.
      let held = false;
      for (let j = 0; j < i; j++) if (overlaps(sb[j]!.phys, sb[j]!.bytes.length, s.phys, s.bytes.length)) { held = true; break; }
      if (!held && this.rng.chance(P_DRAIN)) {
        M.ram.write(s.phys, s.bytes, 0, s.bytes.length);
        sb.splice(i, 1);
        continue;
      }
      stale ??= s;
      i++;
    }
    if (!stale) return;
    const dev = m.dev;
    const who = dev ? `${dev.driver?.name ?? 'pci'} ${dev.init_name}` : m.bdf;
    M.diag.report('DMA_STORE_REORDERED', [
      write
        ? `dmalab: ${who}: the device wrote [bus address=0x${x016(bus)}] [size=${len} bytes] while the CPU's store to it was still in its store buffer: the CPU's store lands after the device's write and replaces it`
        : `dmalab: ${who}: the device read [bus address=0x${x016(bus)}] [size=${len} bytes] while the CPU's store to it was still in its store buffer: it used the old value`,
      'dmalab: stores to coherent memory are not ordered before writel_relaxed() (or before another store the device polls) without dma_wmb()',
    ], { sites: [['Store at', stale.site], ['Doorbell at', m.dma_site]] });
  }
}
