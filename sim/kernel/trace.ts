// The event trace (like include/trace/events/dma.h and friends): every DMA operation, device
// access and interrupt, with its virtual timestamp, in a ring. Stored as numbers in typed
// arrays and formatted only when someone reads it, so tracing costs a few stores. dmalab adds
// events the kernel has no tracepoint for (CPU accesses to mapped memory, ownership changes,
// declared transfers): they are for the browser's timeline (dump()), never printed by tail().
import { llx } from '../lib/vsprintf.ts';
import { resolve_site, type Site } from './site.ts';
import { grown } from '../lib/grown.ts';

export const enum T {
  dma_map, dma_unmap, dma_sync_cpu, dma_sync_dev, dma_alloc, dma_free, dma_map_sg, dma_unmap_sg,
  dma_sync_sg_cpu, dma_sync_sg_dev, swiotlb_bounced, mmio_read, mmio_write, irq_entry, irq_exit,
  dev_read, dev_write, iommu_map, iommu_unmap, iommu_fault, dma_pool_alloc, dma_pool_free,
  note, dma_desc,
  // dmalab's own, for the timeline only (not in tail()):
  /** CPU loads/stores into a mapped buffer, one event per run of them from one call site:
   *  a: bus address of the first byte, b: bytes spanned, c: how many, e: the mapping's bus address */
  cpu_read, cpu_write,
  /** who owns a streaming mapping now: a: its bus address, [b, c): the CPU-owned bytes, e: size */
  owner,
  /** a device model declared a transfer (begin) and ended it: a: bus, b: length, c: 1 if it writes */
  xfer_begin, xfer_end,
}

/** T's names, by value (the timeline reads events by these). */
export const KIND_NAMES = ['dma_map', 'dma_unmap', 'dma_sync_cpu', 'dma_sync_dev', 'dma_alloc', 'dma_free', 'dma_map_sg',
  'dma_unmap_sg', 'dma_sync_sg_cpu', 'dma_sync_sg_dev', 'swiotlb_bounced', 'mmio_read', 'mmio_write', 'irq_entry',
  'irq_exit', 'dev_read', 'dev_write', 'iommu_map', 'iommu_unmap', 'iommu_fault', 'dma_pool_alloc', 'dma_pool_free',
  'note', 'dma_desc', 'cpu_read', 'cpu_write', 'owner', 'xfer_begin', 'xfer_end'] as const;
const FIRST_OWN = T.cpu_read;

/** Events as data, for the timeline: [t_ns, kind, dev, a, b, c, e, note, site, t_end_ns]. */
export type TraceRow = [number, number, number, number, number, number, number, string | null, string | null, number | null];
export interface TraceDump {
  kinds: readonly string[];
  /** device names by the events' dev (-1: none) */
  devs: Record<number, string>;
  events: TraceRow[];
  /** events that happened before the first one here (the ring wrapped, or the dump was cut) */
  dropped: number;
}

/** dmaengine descriptor state changes (T.dma_desc's `b`). */
export const DESC_STATE = ['prep', 'submit', 'issue_pending', 'complete', 'callback', 'cyclic_callback',
  'terminate', 'free'] as const;

const DIR = ['BIDIRECTIONAL', 'TO_DEVICE', 'FROM_DEVICE', 'NONE'];
const N = 8192;
/** The ring starts this small and doubles up to N before it wraps: most machines a test builds
 *  log a few hundred events, and a fresh 8192-slot ring costs more than they do. */
const FIRST = 256;

export class Trace {
  private cap = FIRST;
  private t = new Float64Array(FIRST);
  private k = new Uint8Array(FIRST);
  private d = new Int16Array(FIRST);
  private a = new Float64Array(FIRST);
  private b = new Float64Array(FIRST);
  private c = new Float64Array(FIRST);
  private e = new Float64Array(FIRST);
  private notes: (string | undefined)[] = new Array(FIRST);
  /** CPU accesses: the call site and the time of the last access a coalesced event covers. */
  private sites: Site[] = new Array(FIRST);
  private t_end = new Float64Array(FIRST);
  private head = 0;
  count = 0;
  enabled = true;
  constructor(private dev_name: (id: number) => string) {}

  emit(now: number, kind: T, dev: number, a: number, b = 0, c = 0, e = 0): void {
    if (!this.enabled) return;
    const i = this.head;
    this.t[i] = now; this.k[i] = kind; this.d[i] = dev;
    this.a[i] = a; this.b[i] = b; this.c[i] = c; this.e[i] = e;
    if (i === this.cap - 1 && this.cap < N) this.grow();
    this.head = (i + 1) & (this.cap - 1);
    this.count++;
  }

  /** Double the ring (before it has wrapped, so the events stay where they are). */
  private grow(): void {
    const n = this.cap * 2;
    this.t = grown(this.t, n); this.k = grown(this.k, n); this.d = grown(this.d, n);
    this.a = grown(this.a, n); this.b = grown(this.b, n); this.c = grown(this.c, n);
    this.e = grown(this.e, n); this.t_end = grown(this.t_end, n);
    const notes = new Array<string | undefined>(n), sites = new Array<Site>(n);
    for (let j = 0; j < this.cap; j++) { notes[j] = this.notes[j]; sites[j] = this.sites[j]!; }
    this.notes = notes; this.sites = sites;
    this.cap = n;
  }

  /** An event whose formatting needs a name (an IRQ handler's). */
  emit_named(now: number, kind: T, dev: number, name: string, a: number, b = 0, c = 0): void {
    if (!this.enabled) return;
    const i = this.head;
    this.emit(now, kind, dev, a, b, c);
    this.notes[i] = name;
  }

  note(now: number, dev: number, text: string): void {
    const i = this.head;
    this.emit(now, T.note, dev, 0);
    this.notes[i] = text;
  }

  /** A CPU access to a mapped buffer. Accesses in a row from one call site to one mapping (a
   *  loop filling a buffer) stay one event: its span grows, its count and end time move on. */
  cpu(now: number, write: boolean, dev: number, bus: number, len: number, map_bus: number, site: Site): void {
    if (!this.enabled) return;
    const kind = write ? T.cpu_write : T.cpu_read;
    const p = (this.head - 1) & (this.cap - 1);
    if (this.count && this.k[p] === kind && this.d[p] === dev && this.e[p] === map_bus && this.sites[p] === site) {
      const lo = Math.min(this.a[p]!, bus), hi = Math.max(this.a[p]! + this.b[p]!, bus + len);
      this.a[p] = lo; this.b[p] = hi - lo; this.c[p] = this.c[p]! + 1; this.t_end[p] = now;
      return;
    }
    const i = this.head;
    this.emit(now, kind, dev, bus, len, 1, map_bus);
    this.sites[i] = site;
    this.t_end[i] = now;
  }

  /** The last n events, oldest first, formatted like trace-cmd output (the kernel's events only). */
  tail(n = 20): string[] {
    const out: string[] = [];
    for (let j = 1; j <= Math.min(this.count, this.cap) && out.length < n; j++) {
      const i = (this.head - j + this.cap) & (this.cap - 1);
      if (this.k[i]! < FIRST_OWN) out.push(this.format(i));
    }
    return out.reverse();
  }

  /** The last n events as data (the browser's timeline), oldest first. */
  dump(n = 2000): TraceDump {
    const have = Math.min(this.count, this.cap, n);
    const events: TraceRow[] = [];
    const devs: Record<number, string> = {};
    for (let j = have; j > 0; j--) {
      const i = (this.head - j + this.cap) & (this.cap - 1);
      const d = this.d[i]!;
      if (d >= 0 && !(d in devs)) devs[d] = this.dev_name(d);
      const k = this.k[i]!;
      const cpu = k === T.cpu_read || k === T.cpu_write;
      const c = cpu ? resolve_site(this.sites[i]!) : null;
      const named = k === T.note || k === T.irq_entry || k === T.dma_desc;
      events.push([this.t[i]!, k, d, this.a[i]!, this.b[i]!, this.c[i]!, this.e[i]!, named ? this.notes[i] ?? null : null,
        c ? `${c.file}:${c.line}:${c.col} ${c.fn}` : null, cpu ? this.t_end[i]! : null]);
    }
    return { kinds: KIND_NAMES, devs, events, dropped: this.count - have };
  }

  private format(i: number): string {
    const us = Math.floor(this.t[i]! / 1000);
    const ts = `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
    const dev = this.d[i]! >= 0 ? this.dev_name(this.d[i]!) : '';
    const a = this.a[i]!, b = this.b[i]!, c = this.c[i]!, e = this.e[i]!;
    let s: string;
    switch (this.k[i] as T) {
      case T.dma_map: s = `dma_map_phys: ${dev} dir=${DIR[e]} dma_addr=${llx(a)} size=${b} phys_addr=${llx(c)}`; break;
      case T.dma_unmap: s = `dma_unmap_phys: ${dev} dir=${DIR[e]} dma_addr=${llx(a)} size=${b}`; break;
      case T.dma_sync_cpu: s = `dma_sync_single_for_cpu: ${dev} dir=${DIR[e]} dma_addr=${llx(a)} size=${b}`; break;
      case T.dma_sync_dev: s = `dma_sync_single_for_device: ${dev} dir=${DIR[e]} dma_addr=${llx(a)} size=${b}`; break;
      case T.dma_alloc: s = `dma_alloc: ${dev} dir=BIDIRECTIONAL dma_addr=${llx(a)} size=${b} virt_addr=${llx(c)}`; break;
      case T.dma_free: s = `dma_free: ${dev} dir=BIDIRECTIONAL dma_addr=${llx(a)} size=${b} virt_addr=${llx(c)}`; break;
      case T.dma_map_sg: s = `dma_map_sg: ${dev} dir=${DIR[e]} nents=${a} ents=${b} dma_addr=${llx(c)}`; break;
      case T.dma_unmap_sg: s = `dma_unmap_sg: ${dev} dir=${DIR[e]} nents=${a}`; break;
      case T.dma_sync_sg_cpu: s = `dma_sync_sg_for_cpu: ${dev} dir=${DIR[e]} nents=${a}`; break;
      case T.dma_sync_sg_dev: s = `dma_sync_sg_for_device: ${dev} dir=${DIR[e]} nents=${a}`; break;
      case T.swiotlb_bounced: s = `swiotlb_bounced: dev_name: ${dev} dev_addr=${llx(a)} size=${b} ${c ? 'FORCE' : 'NORMAL'}`; break;
      case T.mmio_read: s = `mmio_read: ${dev} bar${e} +0x${llx(a)} width=${b * 8} val=0x${llx(c)}`; break;
      case T.mmio_write: s = `mmio_write: ${dev} bar${e} +0x${llx(a)} width=${b * 8} val=0x${llx(c)}`; break;
      case T.irq_entry: s = `irq_handler_entry: irq=${a} name=${this.notes[i] ?? dev}`; break;
      case T.irq_exit: s = `irq_handler_exit: irq=${a} ret=${b ? 'handled' : 'unhandled'}`; break;
      case T.dev_read: s = `device_dma_read: ${dev} bus_addr=${llx(a)} size=${b} phys_addr=${llx(c)}`; break;
      case T.dev_write: s = `device_dma_write: ${dev} bus_addr=${llx(a)} size=${b} phys_addr=${llx(c)}`; break;
      case T.iommu_map: s = `iommu_map: ${dev} iova=0x${llx(a)} paddr=0x${llx(c)} size=${b}`; break;
      case T.iommu_unmap: s = `iommu_unmap: ${dev} iova=0x${llx(a)} size=${b}`; break;
      case T.iommu_fault: s = `iommu_fault: ${dev} iova=0x${llx(a)} ${b ? 'write' : 'read'}`; break;
      case T.dma_pool_alloc: s = `dma_pool_alloc: ${dev} dma_addr=${llx(a)} size=${b} virt_addr=${llx(c)}`; break;
      case T.dma_pool_free: s = `dma_pool_free: ${dev} dma_addr=${llx(a)} size=${b} virt_addr=${llx(c)}`; break;
      case T.note: s = this.notes[i] ?? ''; break;
      case T.dma_desc: s = `dmaengine_${DESC_STATE[b]}: ${dev} chan=${this.notes[i] ?? '?'}${a ? ` cookie=${a}` : ''}${c ? ` len=${c}` : ''}`; break;
      default: s = '?';
    }
    return `${ts.padStart(13)}: ${s}`;
  }
}
