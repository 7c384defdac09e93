// A failing test's trace as a timeline (what the browser draws, grader/web/client/timeline-view.ts):
// one lane per buffer or mapping, from its map (or alloc) to its unmap (or free), with who owned
// it at each moment as bands (device, CPU, a declared transfer in flight, shared for coherent
// memory), its map/sync/unmap marks, the device's reads and writes and the CPU's accesses as
// ticks (a CPU access while the device owns the bytes is a collision); one lane for interrupts,
// one per DMA channel, one per device's MMIO; and each diagnostic at its virtual time, on the lane
// of the buffer its text names. Pure data in, data out: the browser and the tests use it alike.
import type { TraceEvents } from '../lib/report.ts';

export type Owner = 'device' | 'cpu' | 'shared';
export interface Band { t0: number; t1: number; owner: Owner; tip: string }
export interface Mark { t: number; kind: string; tip: string }
export interface Tick { t0: number; t1: number; kind: 'dev_read' | 'dev_write' | 'cpu_read' | 'cpu_write' | 'mmio_read' | 'mmio_write' | 'irq'; tip: string; site?: string; collision?: boolean }
export interface Lane {
  id: string;
  kind: 'buffer' | 'irq' | 'chan' | 'mmio' | 'other';
  label: string;
  /** the device (its trace id and name) and the bus range (buffers) */
  dev: number;
  dev_name: string;
  bus: number;
  size: number;
  t0: number;
  t1: number | null;
  bands: Band[];
  /** declared transfers running over it */
  flights: { t0: number; t1: number | null; tip: string }[];
  marks: Mark[];
  ticks: Tick[];
}
export interface DiagInput { code: string; lines: string[]; time_ns?: number; sites: { label: string; file: string; line: number; col: number; fn?: string }[] }
export interface DiagMark { t: number; code: string; tip: string; site: string | null; lane: string | null }
export interface Timeline { t0: number; t1: number; lanes: Lane[]; diags: DiagMark[]; shown: number; dropped: number }

const DIR = ['BIDIRECTIONAL', 'TO_DEVICE', 'FROM_DEVICE', 'NONE'];
const hex = (n: number) => '0x' + Math.round(n).toString(16);
/** 'exercises/04-streaming-dma/driver.ts:61:15 edu_recv' → 'driver.ts:61:15 (edu_recv)' */
export function short_site(s: string | null | undefined): string {
  if (!s) return '';
  const [where, fn] = s.split(' ');
  return `${where!.split('/').pop()}${fn && fn !== '<anonymous>' ? ` (${fn})` : ''}`;
}

export function time_label(ns: number): string {
  const a = Math.abs(ns);
  if (a >= 1e9) return `${+(ns / 1e9).toFixed(9)} s`;
  if (a >= 1e6) return `${+(ns / 1e6).toFixed(6)} ms`;
  if (a >= 1e3) return `${+(ns / 1e3).toFixed(2)} µs`;
  return `${Math.round(ns)} ns`;
}

export function build_timeline(tr: TraceEvents, diagnostics: DiagInput[] = []): Timeline {
  const K = (name: string) => tr.kinds.indexOf(name);
  const k = {
    map: K('dma_map'), unmap: K('dma_unmap'), sync_cpu: K('dma_sync_cpu'), sync_dev: K('dma_sync_dev'), alloc: K('dma_alloc'),
    free: K('dma_free'), map_sg: K('dma_map_sg'), unmap_sg: K('dma_unmap_sg'), sg_cpu: K('dma_sync_sg_cpu'), sg_dev: K('dma_sync_sg_dev'),
    bounced: K('swiotlb_bounced'), mmio_r: K('mmio_read'), mmio_w: K('mmio_write'), irq_in: K('irq_entry'), irq_out: K('irq_exit'),
    dev_r: K('dev_read'), dev_w: K('dev_write'), iommu_fault: K('iommu_fault'), pool_alloc: K('dma_pool_alloc'), pool_free: K('dma_pool_free'),
    note: K('note'), desc: K('dma_desc'), cpu_r: K('cpu_read'), cpu_w: K('cpu_write'), owner: K('owner'), x_begin: K('xfer_begin'), x_end: K('xfer_end'),
  };
  const api = (kind: number) => API[tr.kinds[kind] ?? ''] ?? tr.kinds[kind] ?? '?';
  const ev = tr.events;
  const lanes: Lane[] = [];
  const open = new Map<string, Lane>();
  const devname = (d: number) => tr.devs[d] ?? (d >= 0 ? `dev${d}` : '');
  const key = (dev: number, bus: number) => `${dev}:${bus}`;
  let t0 = ev.length ? ev[0]![0] : 0;
  let t1 = ev.length ? ev[ev.length - 1]![0] : 0;
  for (const e of ev) if (e[9] !== null && e[9] > t1) t1 = e[9];
  for (const d of diagnostics) {
    if (d.time_ns === undefined) continue;
    t0 = Math.min(t0, d.time_ns);
    t1 = Math.max(t1, d.time_ns);
  }

  const new_lane = (l: Omit<Lane, 'bands' | 'flights' | 'marks' | 'ticks' | 't1' | 'dev_name'> & { t1?: number | null }): Lane => {
    const lane: Lane = { t1: null, bands: [], flights: [], marks: [], ticks: [], dev_name: devname(l.dev), ...l };
    lanes.push(lane);
    return lane;
  };
  const band = (l: Lane, t: number, owner: Owner, tip: string) => {
    const last = l.bands[l.bands.length - 1];
    if (last && last.t1 === Infinity) last.t1 = t;
    l.bands.push({ t0: t, t1: Infinity, owner, tip });
  };
  const close = (l: Lane, t: number) => {
    l.t1 = t;
    const last = l.bands[l.bands.length - 1];
    if (last && last.t1 === Infinity) last.t1 = t;
    for (const f of l.flights) if (f.t1 === null) f.t1 = t;
    for (const [kk, v] of open) if (v === l) open.delete(kk);
  };
  /** The buffer lane of dev holding bus address `bus` at time t: open ones first, then the most
   *  recently closed (an access after unmap lands on the buffer it was meant for). */
  const lane_at = (dev: number, bus: number): Lane | undefined => {
    for (const l of open.values()) if (l.dev === dev && bus >= l.bus && bus < l.bus + Math.max(1, l.size)) return l;
    for (let i = lanes.length - 1; i >= 0; i--) {
      const l = lanes[i]!;
      if (l.kind === 'buffer' && l.dev === dev && bus >= l.bus && bus < l.bus + Math.max(1, l.size)) return l;
    }
    return undefined;
  };
  const other = (dev: number): Lane => {
    const id = `other:${dev}`;
    return lanes.find((l) => l.id === id) ?? new_lane({ id, kind: 'other', label: `${devname(dev)}: other DMA`, dev, bus: 0, size: 0, t0 });
  };
  let irq: Lane | undefined;
  const irq_open = new Map<number, number>();
  const chans = new Map<string, Lane>();
  const mmio = new Map<number, Lane>();
  let seq = 0;

  for (const e of ev) {
    const [t, kind, dev, a, b, c, ee, note, site, t_end] = e;
    if (kind === k.map || kind === k.alloc || kind === k.pool_alloc || kind === k.map_sg) {
      const sg = kind === k.map_sg;
      const bus = sg ? c : a;
      if (bus >= 2 ** 63) continue; // DMA_MAPPING_ERROR: nothing was mapped
      const coherent = kind !== k.map && !sg;
      const what = kind === k.map ? `map ${DIR[ee]}` : kind === k.alloc ? 'coherent' : kind === k.pool_alloc ? 'pool block' : `sg ×${a} ${DIR[ee]}`;
      const size = sg ? 0 : b;
      const l = new_lane({ id: `buf${seq++}`, kind: 'buffer', label: `${what} ${size ? `${size} B ` : ''}@${hex(bus)}`, dev, bus, size, t0: t });
      open.set(key(dev, bus), l);
      l.marks.push({ t, kind: coherent ? 'alloc' : 'map', tip: `${api(kind) ?? ''} ${devname(dev)} dma_addr=${hex(bus)}${size ? ` size=${size}` : ''}${sg ? ` nents=${a} ents=${b}` : ''} ${coherent ? '' : `dir=${DIR[ee]}`}` });
      band(l, t, coherent ? 'shared' : 'device', coherent ? 'coherent: CPU and device may both use it' : 'the device owns it (mapped)');
    } else if (kind === k.unmap || kind === k.free || kind === k.pool_free) {
      const l = open.get(key(dev, a)) ?? lane_at(dev, a);
      if (!l) continue;
      l.marks.push({ t, kind: kind === k.unmap ? 'unmap' : 'free', tip: `${api(kind)} ${devname(dev)} dma_addr=${hex(a)} size=${b}` });
      close(l, t);
    } else if (kind === k.unmap_sg) {
      const l = [...open.values()].reverse().find((x) => x.dev === dev && x.label.startsWith('sg'));
      if (!l) continue;
      l.marks.push({ t, kind: 'unmap', tip: `dma_unmap_sg ${devname(dev)} nents=${a}` });
      close(l, t);
    } else if (kind === k.sync_cpu || kind === k.sync_dev || kind === k.sg_cpu || kind === k.sg_dev) {
      const sg = kind === k.sg_cpu || kind === k.sg_dev;
      const l = sg ? [...open.values()].reverse().find((x) => x.dev === dev && x.label.startsWith('sg')) : lane_at(dev, a);
      if (!l) continue;
      const cpu = kind === k.sync_cpu || kind === k.sg_cpu;
      l.marks.push({ t, kind: cpu ? 'sync_cpu' : 'sync_dev', tip: `${api(kind)} ${devname(dev)} ${sg ? `nents=${a}` : `dma_addr=${hex(a)} size=${b}`} dir=${DIR[ee]}` });
      // Without ownership records (an sg list), the sync says who owns it next.
      if (sg) band(l, t, cpu ? 'cpu' : 'device', cpu ? 'the CPU owns it (synced for the CPU)' : 'the device owns it (synced for the device)');
    } else if (kind === k.owner) {
      const l = open.get(key(dev, a)) ?? lane_at(dev, a);
      if (!l) continue;
      if (b >= c) band(l, t, 'device', 'the device owns it');
      else band(l, t, 'cpu', b === 0 && c >= ee ? 'the CPU owns it (synced for the CPU)' : `the CPU owns bytes ${b}–${c}, the device the rest`);
    } else if (kind === k.x_begin || kind === k.x_end) {
      const l = lane_at(dev, a);
      if (!l) continue;
      if (kind === k.x_begin) l.flights.push({ t0: t, t1: null, tip: `transfer in flight: the device ${c ? 'writes' : 'reads'} ${b} bytes at ${hex(a)}` });
      else {
        const f = l.flights.find((x) => x.t1 === null);
        if (f) f.t1 = t;
      }
    } else if (kind === k.dev_r || kind === k.dev_w) {
      const l = lane_at(dev, a) ?? other(dev);
      l.ticks.push({ t0: t, t1: t, kind: kind === k.dev_r ? 'dev_read' : 'dev_write', tip: `device ${kind === k.dev_r ? 'read' : 'wrote'} ${b} bytes at ${hex(a)}` });
    } else if (kind === k.cpu_r || kind === k.cpu_w) {
      let l = open.get(key(dev, ee)) ?? lane_at(dev, ee);
      if (!l) {
        l = new_lane({ id: `buf${seq++}`, kind: 'buffer', label: `mapped before the window @${hex(ee)}`, dev, bus: ee, size: 0, t0 });
        open.set(key(dev, ee), l);
      }
      const end = t_end ?? t;
      const owned = owner_at(l, t);
      // Reading a TO_DEVICE buffer the device owns is allowed (the device only reads it too).
      const collision = owned === 'device' && !(kind === k.cpu_r && l.label.includes('TO_DEVICE'));
      l.ticks.push({
        t0: t, t1: end, kind: kind === k.cpu_r ? 'cpu_read' : 'cpu_write', site: site ?? undefined, collision,
        tip: `CPU ${kind === k.cpu_r ? 'read' : 'wrote'} ${c > 1 ? `${c}× ` : ''}${b} bytes at ${hex(a)}${owned ? ` while ${owned === 'shared' ? 'shared' : `the ${owned} owned it`}` : ''}${site ? `\n${short_site(site)}` : ''}`,
      });
    } else if (kind === k.irq_in || kind === k.irq_out) {
      irq ??= new_lane({ id: 'irq', kind: 'irq', label: 'interrupts', dev: -1, bus: 0, size: 0, t0 });
      if (kind === k.irq_in) irq_open.set(a, irq.ticks.push({ t0: t, t1: t, kind: 'irq', tip: `irq ${a} ${note ?? ''}` }) - 1);
      else {
        const i = irq_open.get(a);
        if (i !== undefined) {
          const tk = irq.ticks[i]!;
          tk.t1 = t;
          tk.tip += b ? ' (handled)' : ' (unhandled)';
          irq_open.delete(a);
        }
      }
    } else if (kind === k.desc) {
      const name = note ?? '?';
      let l = chans.get(name);
      if (!l) chans.set(name, (l = new_lane({ id: `chan:${name}`, kind: 'chan', label: `channel ${name}`, dev, bus: 0, size: 0, t0 })));
      l.marks.push({ t, kind: 'desc', tip: `dmaengine ${DESC[b] ?? b}${a ? ` cookie=${a}` : ''}${c ? ` len=${c}` : ''}` });
    } else if (kind === k.mmio_r || kind === k.mmio_w) {
      let l = mmio.get(dev);
      if (!l) mmio.set(dev, (l = new_lane({ id: `mmio:${dev}`, kind: 'mmio', label: `${devname(dev)} registers`, dev, bus: 0, size: 0, t0 })));
      l.ticks.push({ t0: t, t1: t, kind: kind === k.mmio_r ? 'mmio_read' : 'mmio_write', tip: `${kind === k.mmio_r ? 'readl' : 'writel'} bar${ee} +${hex(a)} = ${hex(c)}` });
    } else if (kind === k.bounced || kind === k.iommu_fault) {
      const l = lane_at(dev, a) ?? other(dev);
      l.marks.push({ t, kind: kind === k.bounced ? 'bounce' : 'fault', tip: kind === k.bounced ? `swiotlb bounced ${b} bytes` : `IOMMU fault at ${hex(a)} (${b ? 'write' : 'read'})` });
    }
  }
  for (const l of lanes) for (const bd of l.bands) if (bd.t1 === Infinity) bd.t1 = Math.max(t1, bd.t0);

  const diags: DiagMark[] = diagnostics.filter((d) => d.time_ns !== undefined).map((d) => {
    const s = d.sites[0];
    const site = s ? `${s.file.split('/').pop()}:${s.line}:${s.col}${s.fn ? ` (${s.fn})` : ''}` : null;
    const m = /\b(?:device|bus) address=0x([0-9a-f]+)/.exec(d.lines.join('\n'));
    const lane = m ? lanes.find((l) => l.kind === 'buffer' && contains(l, parseInt(m[1]!, 16), d.time_ns!)) : undefined;
    const sites = d.sites.map((x) => `${x.label}: ${x.file.split('/').pop()}:${x.line}:${x.col}${x.fn ? ` (${x.fn})` : ''}`);
    return { t: d.time_ns!, code: d.code, site, lane: lane?.id ?? null, tip: [`${d.code} at ${time_label(d.time_ns!)}`, ...sites, d.lines[0] ?? ''].join('\n') };
  });
  // A CPU access the checker complained about is the collision, whatever the bands say.
  for (const dm of diags) {
    if (!CPU_CODES.has(dm.code)) continue;
    const l = lanes.find((x) => x.id === dm.lane);
    for (const tk of l?.ticks ?? []) if (tk.kind.startsWith('cpu') && tk.t0 <= dm.t && dm.t <= tk.t1) tk.collision = true;
  }
  return { t0, t1: Math.max(t1, t0 + 1), lanes, diags, shown: ev.length, dropped: tr.dropped };
}

function contains(l: Lane, bus: number, t: number): boolean {
  return bus >= l.bus && bus < l.bus + Math.max(1, l.size) && t >= l.t0 && (l.t1 === null || t <= l.t1 + 1);
}

/** The diagnostics about a CPU access (their tick on the buffer is the collision). */
const CPU_CODES = new Set(['CPU_ACCESS_DEVICE_OWNED', 'CPU_RACES_DEVICE', 'CACHELINE_SHARED']);

/** Who owned lane l at time t (its band then). */
export function owner_at(l: Lane, t: number): Owner | undefined {
  for (let i = l.bands.length - 1; i >= 0; i--) {
    const b = l.bands[i]!;
    if (b.t0 <= t && t < b.t1) return b.owner;
  }
  return undefined;
}

/** The call behind each kind of event, for the tips. */
const API: Record<string, string> = {
  dma_map: 'dma_map_single', dma_unmap: 'dma_unmap_single', dma_sync_cpu: 'dma_sync_single_for_cpu',
  dma_sync_dev: 'dma_sync_single_for_device', dma_alloc: 'dma_alloc_coherent', dma_free: 'dma_free_coherent',
  dma_sync_sg_cpu: 'dma_sync_sg_for_cpu', dma_sync_sg_dev: 'dma_sync_sg_for_device',
};
const DESC = ['prep', 'submit', 'issue_pending', 'complete', 'callback', 'cyclic_callback', 'terminate', 'free'];
