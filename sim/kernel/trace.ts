// The event trace (like include/trace/events/dma.h and friends): every DMA operation, device
// access and interrupt, with its virtual timestamp, in a ring. Stored as numbers in typed
// arrays and formatted only when someone reads it, so tracing costs a few stores.
import { llx } from '../lib/vsprintf.ts';

export const enum T {
  dma_map, dma_unmap, dma_sync_cpu, dma_sync_dev, dma_alloc, dma_free, dma_map_sg, dma_unmap_sg,
  dma_sync_sg_cpu, dma_sync_sg_dev, swiotlb_bounced, mmio_read, mmio_write, irq_entry, irq_exit,
  dev_read, dev_write, iommu_map, iommu_unmap, iommu_fault, dma_pool_alloc, dma_pool_free,
  note, dma_desc,
}

/** dmaengine descriptor state changes (T.dma_desc's `b`). */
export const DESC_STATE = ['prep', 'submit', 'issue_pending', 'complete', 'callback', 'cyclic_callback',
  'terminate', 'free'] as const;

const DIR = ['BIDIRECTIONAL', 'TO_DEVICE', 'FROM_DEVICE', 'NONE'];
const N = 8192;

export class Trace {
  private t = new Float64Array(N);
  private k = new Uint8Array(N);
  private d = new Int16Array(N);
  private a = new Float64Array(N);
  private b = new Float64Array(N);
  private c = new Float64Array(N);
  private e = new Float64Array(N);
  private notes: (string | undefined)[] = new Array(N);
  private head = 0;
  count = 0;
  enabled = true;
  constructor(private dev_name: (id: number) => string) {}

  emit(now: number, kind: T, dev: number, a: number, b = 0, c = 0, e = 0): void {
    if (!this.enabled) return;
    const i = this.head;
    this.t[i] = now; this.k[i] = kind; this.d[i] = dev;
    this.a[i] = a; this.b[i] = b; this.c[i] = c; this.e[i] = e;
    this.head = (i + 1) & (N - 1);
    this.count++;
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

  /** The last n events, oldest first, formatted like trace-cmd output. */
  tail(n = 20): string[] {
    const have = Math.min(this.count, N, n);
    const out: string[] = [];
    for (let j = have; j > 0; j--) out.push(this.format((this.head - j + N) & (N - 1)));
    return out;
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
