/// <reference lib="dom" />
// The timeline drawn as SVG (a few hundred elements at most: culled to the view, redrawn on
// zoom and pan; no framework). Lanes down, virtual time across; the wheel zooms around the
// pointer, dragging pans; a tip follows the pointer over anything that has one.
import { owner_at, time_label, type Lane, type Timeline } from '../timeline.ts';

const L = 250, ROW = 26, AXIS = 24, TOP = 22;
const FILL: Record<string, string> = { device: '#ffd8a8', cpu: '#b6e3ff', shared: '#d3f9d8' };
const MARK: Record<string, { c: string; s: string }> = {
  map: { c: '#1a7f37', s: 'map' }, alloc: { c: '#1a7f37', s: 'alloc' }, unmap: { c: '#6e7781', s: 'unmap' }, free: { c: '#6e7781', s: 'free' },
  sync_cpu: { c: '#0969da', s: '→cpu' }, sync_dev: { c: '#bc4c00', s: '→dev' }, desc: { c: '#8250df', s: '' }, bounce: { c: '#9a6700', s: 'bounce' },
  fault: { c: '#cf222e', s: 'fault' },
};
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function nice_step(span: number): number {
  const raw = span / 8;
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

/** An axis label precise enough for the step (100.000081 ms when zoomed to nanoseconds). */
function tick_label(t: number, step: number): string {
  const unit = Math.abs(t) >= 1e9 ? 1e9 : Math.abs(t) >= 1e6 ? 1e6 : Math.abs(t) >= 1e3 ? 1e3 : 1;
  const digits = Math.max(0, Math.min(9, Math.ceil(-Math.log10(step / unit) - 1e-9)));
  return `${(t / unit).toFixed(digits)} ${({ 1e9: 's', 1e6: 'ms', 1e3: 'µs', 1: 'ns' } as Record<number, string>)[unit]}`;
}

export class TimelineView {
  private tl: Timeline | undefined;
  private key = '';
  private v0 = 0;
  private v1 = 1;
  private plot: HTMLElement;
  private bar: HTMLElement;

  constructor(private root: HTMLElement, private tip: HTMLElement, close: () => void) {
    root.innerHTML = `<div class="bar"><span class="title"></span><span class="muted count"></span><span class="spacer"></span>
<button data-act="diag" title="zoom to the first diagnostic">first diagnostic</button><button data-act="in">+</button><button data-act="out">−</button>
<button data-act="fit">fit</button><button data-act="close" title="close">×</button></div><div class="plot"></div>
<div class="legend"><i style="background:${FILL.device}"></i>device owns<i style="background:${FILL.cpu}"></i>CPU owns<i style="background:${FILL.shared}"></i>coherent (shared)<i style="background:#e8590c;height:.25rem"></i>transfer in flight<i style="background:#8250df"></i>device read/write<i style="background:#0969da"></i>CPU access<i style="background:#cf222e"></i>collision / diagnostic · wheel: zoom · drag: pan</div>`;
    this.bar = root.querySelector('.bar')!;
    this.plot = root.querySelector('.plot')!;
    this.bar.addEventListener('click', (e) => {
      const act = (e.target as HTMLElement).closest('button')?.dataset.act;
      if (act === 'close') close();
      else if (act === 'fit') this.fit();
      else if (act === 'diag') this.zoom_to_diag();
      else if (act === 'in' || act === 'out') this.zoom(act === 'in' ? 0.5 : 2, (this.v0 + this.v1) / 2);
    });
    this.plot.addEventListener('wheel', (e) => {
      e.preventDefault();
      this.zoom(Math.pow(1.2, e.deltaY / 100), this.t_at(e.clientX));
    }, { passive: false });
    let drag: { x: number; v0: number; v1: number } | null = null;
    this.plot.addEventListener('mousedown', (e) => {
      drag = { x: e.clientX, v0: this.v0, v1: this.v1 };
      this.plot.classList.add('dragging');
    });
    window.addEventListener('mouseup', () => {
      drag = null;
      this.plot.classList.remove('dragging');
    });
    window.addEventListener('mousemove', (e) => {
      if (drag) {
        const dt = ((e.clientX - drag.x) / this.width()) * (drag.v1 - drag.v0);
        this.v0 = drag.v0 - dt;
        this.v1 = drag.v1 - dt;
        this.draw();
      }
    });
    this.plot.addEventListener('mousemove', (e) => this.hover(e));
    this.plot.addEventListener('mouseleave', () => (this.tip.hidden = true));
    window.addEventListener('resize', () => this.draw());
  }

  private width(): number {
    return Math.max(200, this.plot.clientWidth - L - 16);
  }
  private t_at(clientX: number): number {
    const r = this.plot.getBoundingClientRect();
    return this.v0 + ((clientX - r.left - L) / this.width()) * (this.v1 - this.v0);
  }

  /** Show a timeline; the view (zoom) stays while it is the same test's. */
  show(tl: Timeline, title: string): void {
    const key = `${title}|${tl.t0}|${tl.t1}|${tl.lanes.length}`;
    this.tl = tl;
    (this.bar.querySelector('.title') as HTMLElement).textContent = `timeline · ${title}`;
    (this.bar.querySelector('.count') as HTMLElement).textContent =
      `${tl.shown} events${tl.dropped ? ` (the last ${tl.shown}; ${tl.dropped} earlier ones not shown)` : ''} · virtual time ${time_label(tl.t0)} – ${time_label(tl.t1)}`;
    if (key !== this.key) {
      this.key = key;
      this.fit();
    } else this.draw();
  }

  fit(): void {
    if (!this.tl) return;
    const pad = (this.tl.t1 - this.tl.t0) * 0.02 || 1;
    this.v0 = this.tl.t0 - pad;
    this.v1 = this.tl.t1 + pad;
    this.draw();
  }

  zoom(f: number, at: number): void {
    const span = Math.max(4, (this.v1 - this.v0) * f);
    const r = (at - this.v0) / (this.v1 - this.v0);
    this.v0 = at - r * span;
    this.v1 = this.v0 + span;
    this.draw();
  }

  /** Around the first diagnostic: back over the events just before it, up to the first long
   *  quiet gap (a DMA that took 100 ms of virtual time), and a little after. */
  zoom_to_diag(): void {
    const d = this.tl?.diags[0];
    if (!this.tl || !d) return;
    const times = this.tl.lanes.flatMap((l) => [...l.marks.map((m) => m.t), ...l.ticks.map((t) => t.t0)]).filter((t) => t < d.t).sort((a, b) => b - a);
    let back = 0;
    for (const t of times) {
      if (d.t - t > 20 * back + 100) break;
      back = d.t - t;
    }
    back = Math.max(50, back * 1.15);
    this.v0 = d.t - back;
    this.v1 = d.t + back * 0.35;
    this.draw();
  }

  private hover(e: MouseEvent): void {
    const el = (e.target as Element).closest('[data-tip]');
    if (!el) {
      this.tip.hidden = true;
      return;
    }
    this.tip.textContent = el.getAttribute('data-tip');
    this.tip.hidden = false;
    const w = this.tip.offsetWidth, h = this.tip.offsetHeight;
    this.tip.style.left = `${Math.min(e.clientX + 14, innerWidth - w - 8)}px`;
    this.tip.style.top = `${Math.max(4, e.clientY - h - 10)}px`;
  }

  draw(): void {
    const tl = this.tl;
    if (!tl) return;
    const W = this.width(), v0 = this.v0, v1 = this.v1;
    const x = (t: number) => L + ((t - v0) / (v1 - v0)) * W;
    const vis = (a: number, b: number) => b >= v0 && a <= v1;
    const cx = (t: number) => Math.max(L - 4, Math.min(L + W + 4, x(t)));
    const order = (l: Lane) => ({ buffer: 0, other: 1, chan: 2, mmio: 3, irq: 4 })[l.kind];
    const lanes = [...tl.lanes].sort((a, b) => order(a) - order(b));
    const H = AXIS + TOP + lanes.length * ROW + 8;
    const o: string[] = [];
    o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${L + W + 16}" height="${H}" data-v0="${v0}" data-v1="${v1}" data-left="${L}" data-width="${W}">`);
    o.push(`<defs><clipPath id="plotclip"><rect x="${L}" y="0" width="${W}" height="${H}"/></clipPath></defs>`);
    // axis
    const step = nice_step(v1 - v0);
    for (let t = Math.ceil(v0 / step) * step; t <= v1; t += step) {
      const xx = x(t);
      o.push(`<line x1="${xx}" y1="${AXIS - 4}" x2="${xx}" y2="${H}" stroke="#eaeef2"/><text x="${xx + 2}" y="${AXIS - 8}" fill="#57606a">${esc(tick_label(t, step))}</text>`);
    }
    o.push(`<text x="6" y="${AXIS - 8}" fill="#57606a">virtual time →</text>`);
    o.push(`<text x="6" y="${AXIS + TOP - 7}" fill="#cf222e">diagnostics</text><line x1="0" y1="${AXIS + TOP}" x2="${L + W + 16}" y2="${AXIS + TOP}" stroke="#d0d7de"/>`);
    o.push(`<g clip-path="url(#plotclip)">`);
    lanes.forEach((l, i) => {
      const y = AXIS + TOP + i * ROW;
      if (i % 2) o.push(`<rect x="${L}" y="${y}" width="${W}" height="${ROW}" fill="#f6f8fa"/>`);
      const end = l.t1 ?? tl.t1;
      if (l.kind === 'buffer' && vis(l.t0, end)) o.push(`<rect x="${cx(l.t0)}" y="${y + 3}" width="${Math.max(1, cx(end) - cx(l.t0))}" height="${ROW - 6}" fill="none" stroke="#d0d7de"/>`);
      for (const b of l.bands) {
        if (!vis(b.t0, b.t1)) continue;
        o.push(`<rect class="band" data-owner="${b.owner}" x="${cx(b.t0)}" y="${y + 4}" width="${Math.max(1, cx(b.t1) - cx(b.t0))}" height="${ROW - 8}" fill="${FILL[b.owner]}" data-tip="${esc(`${b.tip}\n${time_label(b.t0)} – ${time_label(b.t1)}`)}"/>`);
      }
      for (const f of l.flights) {
        const f1 = f.t1 ?? tl.t1;
        if (!vis(f.t0, f1)) continue;
        o.push(`<rect class="flight" x="${cx(f.t0)}" y="${y + ROW - 8}" width="${Math.max(2, cx(f1) - cx(f.t0))}" height="4" fill="#e8590c" data-tip="${esc(`${f.tip}\n${time_label(f.t0)} – ${time_label(f1)}`)}"/>`);
      }
      for (const tk of l.ticks) {
        if (!vis(tk.t0, tk.t1)) continue;
        const w = Math.max(3, x(tk.t1) - x(tk.t0));
        const cpu = tk.kind.startsWith('cpu');
        const dev = tk.kind.startsWith('dev');
        const fill = tk.collision ? '#cf222e' : cpu ? '#0969da' : dev ? '#8250df' : tk.kind === 'irq' ? '#e8590c' : '#8c959f';
        const yy = cpu ? y + 3 : dev ? y + ROW / 2 : y + 5;
        const hh = cpu || dev ? ROW / 2 - 3 : ROW - 10;
        o.push(`<rect class="tick ${tk.kind}${tk.collision ? ' collision' : ''}" data-t="${tk.t0}" x="${x(tk.t0) - (w === 3 ? 1.5 : 0)}" y="${yy}" width="${w}" height="${hh}" fill="${fill}" data-tip="${esc(`${tk.tip}\n${time_label(tk.t0)}${tk.t1 > tk.t0 ? ` – ${time_label(tk.t1)}` : ''}`)}"/>`);
      }
      for (const m of l.marks) {
        if (!vis(m.t, m.t)) continue;
        const st = MARK[m.kind] ?? { c: '#57606a', s: m.kind };
        const xx = x(m.t);
        o.push(`<g class="mark ${m.kind}" data-t="${m.t}" data-tip="${esc(`${m.tip}\n${time_label(m.t)}`)}"><line x1="${xx}" y1="${y + 1}" x2="${xx}" y2="${y + ROW - 1}" stroke="${st.c}" stroke-width="2"/>` +
          (st.s ? `<text x="${xx + 3}" y="${y + 11}" fill="${st.c}" font-size="9">${st.s}</text>` : '') + `<rect x="${xx - 4}" y="${y}" width="8" height="${ROW}" fill="transparent"/></g>`);
      }
    });
    for (const d of tl.diags) {
      if (!vis(d.t, d.t)) continue;
      const xx = x(d.t);
      const li = lanes.findIndex((l) => l.id === d.lane);
      o.push(`<line x1="${xx}" y1="${AXIS}" x2="${xx}" y2="${H}" stroke="#cf222e" stroke-dasharray="3 3" opacity=".7"/>`);
      const dy = AXIS + TOP / 2;
      o.push(`<path class="diag" data-code="${esc(d.code)}" data-t="${d.t}" data-lane="${esc(d.lane ?? '')}" d="M${xx} ${dy - 7}L${xx + 7} ${dy}L${xx} ${dy + 7}L${xx - 7} ${dy}Z" fill="#cf222e" data-tip="${esc(d.tip)}"/>`);
      if (li >= 0) {
        const ly = AXIS + TOP + li * ROW + ROW / 2;
        o.push(`<circle class="collision-mark" data-code="${esc(d.code)}" data-t="${d.t}" cx="${xx}" cy="${ly}" r="6" fill="none" stroke="#cf222e" stroke-width="2.5" data-tip="${esc(d.tip)}"/>`);
      }
    }
    o.push('</g>');
    lanes.forEach((l, i) => {
      const y = AXIS + TOP + i * ROW;
      const label = l.label;
      const state = l.kind === 'buffer' ? owner_at(l, v1) : undefined;
      o.push(`<text x="6" y="${y + ROW / 2 + 4}" fill="#1f2328" data-tip="${esc(`${label}${l.dev_name ? `\n${l.dev_name}` : ''}${state ? `\nowner at the right edge: ${state}` : ''}`)}">${esc(label.length > 38 ? label.slice(0, 37) + '…' : label)}</text>`);
    });
    o.push(`<line x1="${L}" y1="${AXIS}" x2="${L}" y2="${H}" stroke="#d0d7de"/></svg>`);
    this.plot.innerHTML = o.join('');
  }
}
