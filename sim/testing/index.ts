// The harness hidden tests and sim tests are written against: build a machine of a given
// shape and seed, plug devices, bind a driver, drive it, unbind, and read what the machine
// said (diagnostics, dmesg, trace) in the shape the grader reports (docs/contracts.md §3).
import { Machine, M, type MachineOptions } from '../kernel/machine.ts';
import { SHAPES, type ShapeName } from '../kernel/shapes.ts';
import { clear_site, site_str, resolve_site, type Site } from '../kernel/site.ts';
import { stamp } from '../kernel/printk.ts';
import type { Diagnostic } from '../kernel/diag.ts';
import type { Code } from '../kernel/codes.ts';
import type { Outcome } from '../base/dd.ts';
import { Edu, type EduOptions } from '../hw/edu.ts';
import { IrqGen } from '../hw/irqgen.ts';
import { Sgblk } from '../hw/sgblk.ts';
import { Cmdq } from '../hw/cmdq.ts';
import { E1000 } from '../hw/e1000.ts';
import { NetPeer } from '../hw/netpeer.ts';
import { pci_plug, pci_bind, pci_unbind, pci_register_driver, pci_unregister_driver, type pci_dev, type pci_driver } from '../pci/pci.ts';
import type { PciModel } from '../hw/pci.ts';
import { cpu_read, cpu_write, unchecked } from '../mm/access.ts';
import { of_platform_plug, of_describe_disabled, type DtNode } from '../of/platform.ts';
import { platform_bind, platform_unbind, platform_driver_register, platform_driver_unregister,
  type platform_device, type platform_driver, type platform_module } from '../base/platform.ts';
import type { PlatformModel } from '../hw/platform.ts';
import { Dmac, type DmacOptions } from '../hw/dmac.ts';
import { Pdma, type PdmaOptions } from '../hw/pdma.ts';
import { Uart, UartRemote, type UartOptions } from '../hw/uart.ts';
import { I2s, I2sCodec } from '../hw/i2s.ts';
import type { DmaRequester, DmaRequestSink } from '../hw/dmareq.ts';
import type { device_node } from '../of/base.ts';
import type { device } from '../base/device.ts';
import type { FaultKind, FaultPoint } from '../kernel/fault.ts';
import type { TraceDump } from '../kernel/trace.ts';

export { Machine, M, SHAPES, Edu, IrqGen, Sgblk, Cmdq, E1000, NetPeer };
export type { MachineOptions, ShapeName, Diagnostic, Code, pci_dev, pci_driver, Outcome, FaultKind, FaultPoint };
export type { platform_device, platform_driver, platform_module, PlatformModel, DtNode };
export { site_str };
// Values in the tests' messages as the kernel prints them: pointers as %px, physical and DMA
// addresses as %pa / %pad, errnos as '-5 (-EIO)'.
export { px, pa } from '../lib/vsprintf.ts';
export { errno_str } from '../kernel/errno.ts';
export type { EduOptions as EduOptionsPublic };

/** 'exercises/01-mmio-and-probe/driver.ts:41:17' for a recorded site, or '' if unknown. */
export function site_where(s: Site): string {
  const c = resolve_site(s);
  return c ? site_str(c) : '';
}

/** A new machine; it becomes the current one. */
export function machine(opts: MachineOptions = {}): Machine {
  return new Machine(opts);
}

/** Plug an edu device (slot 3, like QEMU's -device edu on q35) and enumerate it. */
export function plug_edu(slot = 3, opts: EduOptions = {}): { pdev: pci_dev; edu: Edu } {
  const edu = new Edu(opts);
  const pdev = pci_plug(edu, slot);
  return { pdev, edu };
}

/** Plug an sgblk scatter-gather disk (slot 4) and enumerate it. */
export function plug_sgblk(slot = 4): { pdev: pci_dev; blk: Sgblk } {
  const blk = new Sgblk();
  return { pdev: pci_plug(blk, slot), blk };
}

/** Plug an interrupt generator; slot 7 shares edu's INTx line (slot 3). */
export function plug_irqgen(slot = 7): { pdev: pci_dev; gen: IrqGen } {
  const gen = new IrqGen();
  return { pdev: pci_plug(gen, slot), gen };
}

/** Plug the command-queue device of exercise 09 (slot 4: INTx line of its own on q35). */
export function plug_cmdq(slot = 4): { pdev: pci_dev; cmdq: Cmdq } {
  const cmdq = new Cmdq();
  return { pdev: pci_plug(cmdq, slot), cmdq };
}

/** Plug the 82540EM of exercise 10 (slot 5, as QEMU's -device e1000 on a q35 with edu in 3)
 *  with its link partner. */
export function plug_e1000(slot = 5, peer = new NetPeer()): { pdev: pci_dev; nic: E1000; peer: NetPeer } {
  const nic = new E1000(peer);
  return { pdev: pci_plug(nic, slot), nic, peer };
}

/** The sizes of a device's live coherent allocations as dma-debug records them (a dma_pool's
 *  pages appear as allocations of the pool's page size). */
export function coherent_allocations(pdev: pci_dev): number[] {
  const d = M.dbg;
  return d.entries_of(pdev.dev).filter((e) => d.e_type[e] === 2).map((e) => d.e_size[e]!);
}

export function plug(model: PciModel, slot: number): pci_dev {
  return pci_plug(model, slot);
}

/** Bind `drv` to `pdev` (probe runs as insmod); returns probe's result. */
export function bind(drv: pci_driver, pdev: pci_dev): number {
  return pci_bind(drv, pdev);
}
/** pci_register_driver, as module load does. */
export function load(drv: pci_driver): number {
  return pci_register_driver(drv);
}
/** Unbind (remove runs as sh, then devres, then the unbind checks). */
export function unbind(pdev: pci_dev): void {
  pci_unbind(pdev);
}
export function unload(drv: pci_driver): void {
  pci_unregister_driver(drv);
}

// ---- platform devices (the machine description) -------------------------------------------

/** Describe a peripheral (a device-tree node: dmas, dma-names, dma-coherent, iommus, ...),
 *  wire its model into the machine and create its platform device; drivers already loaded
 *  that match it probe it at once. */
export function plug_platform(model: PlatformModel, node: DtNode = {}): platform_device {
  return of_platform_plug(model, node);
}
export { of_describe_disabled as describe_disabled };
export { Dmac };
export type { DmacOptions };
/** Plug the DMA controller (sim/hw/dmac.ts): one request-line cell per "dmas" entry. Its
 *  driver (sim/drivers/dma/dmac.ts) binds if loaded. */
export function plug_dmac(o: DmacOptions = {}, node: DtNode = {}): { pdev: platform_device; hw: Dmac } {
  const hw = new Dmac(o);
  return { pdev: of_platform_plug(hw, { '#dma-cells': 1, ...node }), hw };
}

export { Pdma };
export type { PdmaOptions };
/** Plug the PL330-like DMA controller of exercise 14 (sim/hw/pdma.ts): compatible
 *  "dmalab,pdma", one request-line cell per "dmas" entry, its event lines then its abort line. */
export function plug_pdma(o: PdmaOptions = {}, node: DtNode = {}): { pdev: platform_device; hw: Pdma } {
  const hw = new Pdma(o);
  return { pdev: of_platform_plug(hw, { '#dma-cells': 1, ...node }), hw };
}

/** A peripheral's DMA wiring: the controller (plug_dmac's result, or a node described but
 *  never probed) and, per dma-name, the request line its output drives. */
export interface DmaWiring {
  dmac: { pdev: platform_device | device_node; hw?: DmaRequestSink | null };
  lines: Record<string, number>;
}

/** Plug a peripheral with DMA request outputs: each named output wired to its controller line,
 *  and the node's "dmas" / "dma-names" saying the same (unless `node` gives its own). Without
 *  wiring the node has no "dmas" at all: a client then finds no channel (-ENODEV). */
export function plug_dma_peripheral(model: PlatformModel & DmaRequester, wiring: DmaWiring | null, node: DtNode = {}): platform_device {
  if (wiring) {
    const names = Object.keys(wiring.lines);
    for (const n of names) {
      const out = model.dma_requests[n];
      if (!out) throw new Error(`${model.name} has no DMA request output '${n}'`);
      if (wiring.dmac.hw) out.wire(wiring.dmac.hw, wiring.lines[n]!);
    }
    node = { dmas: names.map((n) => [wiring.dmac.pdev, wiring.lines[n]!] as [platform_device | device_node, number]), 'dma-names': names, ...node };
  }
  return of_platform_plug(model, node);
}

export { Uart, UartRemote };
export type { UartOptions };
/** Plug the UART (sim/hw/uart.ts) with its rx and tx requests on the controller's lines
 *  (default 0 and 1), or without DMA when `dmac` is null. */
export function plug_uart(dmac: DmaWiring['dmac'] | null = null, o: { rx?: number; tx?: number; node?: DtNode; uart?: UartOptions } = {}):
  { pdev: platform_device; uart: Uart } {
  const uart = new Uart(o.uart);
  const wiring = dmac ? { dmac, lines: { rx: o.rx ?? 0, tx: o.tx ?? 1 } } : null;
  return { pdev: plug_dma_peripheral(uart, wiring, o.node), uart };
}

export { I2s, I2sCodec };
/** Plug the audio serializer (sim/hw/i2s.ts) with its tx and rx requests on the controller's
 *  lines (default 2 and 3), or without DMA when `dmac` is null. */
export function plug_i2s(dmac: DmaWiring['dmac'] | null = null, o: { tx?: number; rx?: number; node?: DtNode } = {}):
  { pdev: platform_device; i2s: I2s } {
  const i2s = new I2s();
  const wiring = dmac ? { dmac, lines: { tx: o.tx ?? 2, rx: o.rx ?? 3 } } : null;
  return { pdev: plug_dma_peripheral(i2s, wiring, o.node), i2s };
}

/** A described device with no hardware of its own (no registers, no interrupt): a node whose
 *  driver only uses other devices' services, a DMA_MEMCPY client for one. */
class NodeOnly implements PlatformModel {
  readonly regions = [];
  readonly irqs = 0;
  constructor(readonly name: string, readonly compatible: string[]) {}
  attach(): void {}
}
/** Plug such a node ('dma-copy', compatible 'dmalab,dma-copy' by default). */
export function plug_node(name = 'dma-copy', compatible = ['dmalab,dma-copy'], node: DtNode = {}): platform_device {
  return of_platform_plug(new NodeOnly(name, compatible), node);
}

/** platform_driver_register (module load), or a module_platform_driver()'s init. */
export function load_platform(drv: platform_driver | platform_module): number {
  return 'init' in drv ? drv.init() : platform_driver_register(drv);
}
export function unload_platform(drv: platform_driver | platform_module): void {
  if ('exit' in drv) drv.exit();
  else platform_driver_unregister(drv);
}
/** Bind one platform device by hand: probe's result. */
export function bind_platform(drv: platform_driver, pdev: platform_device): number {
  return platform_bind(drv, pdev);
}
export function unbind_platform(pdev: platform_device): void {
  platform_unbind(pdev);
}

/** Run driver code (one of its exported functions) as a task, on behalf of pdev's driver:
 *  crashes become oops reports instead of exceptions. */
export function call<R>(pdev: { dev: device } | null, fn: () => R, comm = 'test', pid = 42): Outcome<R> {
  const drv = pdev?.dev.driver ?? null;
  const rec = drv ? M.drivers.record(drv) : null;
  return M.drivers.run(rec, comm, pid, fn, pdev?.dev ?? null);
}

/** Like call(), but returns the value and throws a readable error if the driver crashed. */
export function run<R>(pdev: { dev: device } | null, fn: () => R): R {
  const o = call(pdev, fn);
  if (!o.ok) throw new Error(`the driver crashed (${o.halt}): ${o.error instanceof Error ? o.error.message : String(o.error)}`);
  return o.value;
}

/** Let virtual time pass with the CPU idle. The idle task runs it, so the wall-clock watchdog
 *  covers an interrupt handler that never returns, as it covers calls into the driver. */
export function run_for_ms(ms: number): void {
  clear_site();
  M.sched.as_task({ comm: 'swapper/0', pid: 0 }, () => {
    M.clock.advance_to(M.clock.now + ms * 1e6);
    M.irq.deliver();
  });
}

// ---- kernel memory from the test's side (as a caller of the driver would pass it) ---------

export function fill(addr: number, bytes: Uint8Array): void {
  clear_site();
  cpu_write(addr, bytes, 0, bytes.length, fill);
}
export function read(addr: number, len: number): Uint8Array {
  clear_site();
  const b = new Uint8Array(len);
  cpu_read(addr, b, 0, len, read);
  return b;
}
/** read(), for a test that only looks (what a buffer held before a transfer, while it runs):
 *  no checker sees it, as no driver or caller made it. */
export function peek(addr: number, len: number): Uint8Array {
  return unchecked(() => read(addr, len));
}
/** A reproducible byte pattern (like dmatest's): a function of the seed and the index. */
export function pattern(len: number, seed = 1): Uint8Array {
  const b = new Uint8Array(len);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < len; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}
/** "n of len bytes differ" (null if equal). */
export function compare(got: Uint8Array, want: Uint8Array, what = 'bytes'): string | null {
  let n = 0, first = -1;
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) { if (first < 0) first = i; n++; }
  if (!n) return null;
  return `${n} of ${want.length} ${what} differ (first at offset ${first}: got 0x${(got[first] ?? 0).toString(16).padStart(2, '0')}, expected 0x${want[first]!.toString(16).padStart(2, '0')})`;
}

// ---- what the machine said -----------------------------------------------------------------

export function diagnostics(): Diagnostic[] {
  return M.diag.list;
}
export function codes(): Code[] {
  return M.diag.codes();
}
export function has(code: Code): boolean {
  return M.diag.list.some((d) => d.code === code);
}
/** dmesg lines without timestamps. */
export function dmesg(): string[] {
  return M.dmesg.texts();
}
/** The lines the kernel rig's extract.sh keeps from a log: the DMA-API lines, the WARNING
 *  locations and the dma-mapping WARN_ONCEs, to compare with reference/kernel-ground-truth.md. */
export function ground_truth_lines(lines = dmesg()): string[] {
  const keep = /DMA-API: [A-Za-z0-9_.-]+ [0-9a-f]{4}:|One of leaked|rejecting DMA map|overflow \(mask|WARNING: .* at (kernel\/dma\/|include\/linux\/dma-mapping)/;
  return lines.filter((l) => keep.test(l));
}

/** The report a hidden test attaches for the grader (docs/contracts.md §3). */
export interface TestReport {
  shape: string;
  seed: number;
  diagnostics: { code: string; origin: string; lines: string[]; sites: { label: string; file: string; line: number; col: number; fn: string }[]; lesson: string; time_ns: number; count: number }[];
  dmesg: string[];
  trace: string[];
  events?: TraceDump;
  data?: string[];
  lesson?: string;
}

/** The last n trace events as data, for the grader's timeline (a failing test attaches them). */
export function trace_events(n = 2000): TraceDump {
  return M.trace.dump(n);
}
export type { TraceDump };

export function report(data: string[] = [], lesson?: string, dmesg_tail = 40, trace_tail = 20): TestReport {
  const m = M;
  return {
    shape: m.shape.name,
    seed: m.seed,
    diagnostics: m.diag.list.map((d) => ({
      code: d.code, origin: d.origin, lines: d.lines, lesson: d.lesson, time_ns: d.time_ns, count: d.count,
      sites: d.sites.map((s) => ({ label: s.label, file: s.site.file, line: s.site.line, col: s.site.col, fn: s.site.fn })),
    })),
    dmesg: m.dmesg.lines.slice(-dmesg_tail).map(stamp),
    trace: m.trace.tail(trace_tail),
    ...(data.length ? { data } : {}),
    ...(lesson ? { lesson } : {}),
  };
}

/** Human-readable diagnostics, as the grader prints them (for assertion messages). */
export function explain(list: Diagnostic[] = M.diag.list): string {
  return list.map((d) => [...d.lines, ...d.sites.map((s) => `  ${s.label}: ${site_str(s.site)} (${s.site.fn})`)].join('\n')).join('\n\n');
}

// ---- fault injection sweeps (like fail-nth) ------------------------------------------------

/** Run `scenario` once counting injection points, then once per point with that point made
 *  to fail. `scenario` builds its own machine (with the given options) and returns it. */
export function fail_nth_sweep(scenario: (fail_nth: number) => Machine, limit = 200): { points: number; runs: { n: number; kind: string; machine: Machine }[] } {
  const first = scenario(0);
  const points = Math.min(first.faults.count, limit);
  const runs: { n: number; kind: string; machine: Machine }[] = [];
  for (let n = 1; n <= points; n++) {
    const m = scenario(n);
    runs.push({ n, kind: m.faults.injected?.kind ?? '?', machine: m });
  }
  return { points, runs };
}

/** One run of probe_sweep(): the point made to fail, what probe returned, what was reported. */
export interface ProbeSweepRun { n: number; kind: FaultKind | '?'; where: string; ret: number; codes: Code[]; machine: Machine }

/** fail-nth over a probe, as the kernel's fail-nth over insmod: one run counts the injection
 *  points a successful probe passes, then one run per point makes that point fail. Each run is a
 *  new machine (`opts`, plus the fault settings), `plug()` (edu in slot 3 by default), bind, and,
 *  if probe still succeeded, unbind. `make` returns the driver (a fresh object per machine).
 *  `only` limits which kinds of calls count as points. */
export function probe_sweep(make: () => pci_driver, opts: MachineOptions = {},
  o: { plug?: () => pci_dev; only?: FaultKind[]; limit?: number } = {}): { points: FaultPoint[]; ret0: number; runs: ProbeSweepRun[] } {
  const plug_one = o.plug ?? (() => plug_edu().pdev);
  const start = (n: number): { m: Machine; pdev: pci_dev } => {
    const m = new Machine(opts);
    const pdev = plug_one();
    if (o.only) m.faults.only = new Set(o.only);
    m.faults.fail_nth = n;
    return { m, pdev };
  };
  const first = start(0);
  const ret0 = pci_bind(make(), first.pdev);
  const points = first.m.faults.points.slice(0, Math.min(first.m.faults.count, o.limit ?? 200));
  const runs: ProbeSweepRun[] = [];
  if (ret0 !== 0) return { points, ret0, runs };
  for (let n = 1; n <= points.length; n++) {
    const { m, pdev } = start(n);
    const ret = pci_bind(make(), pdev);
    if (ret === 0) pci_unbind(pdev);
    const inj = m.faults.injected;
    runs.push({ n, kind: inj?.kind ?? '?', where: inj ? site_where(inj.site) : '', ret, codes: m.diag.codes(), machine: m });
  }
  return { points, ret0, runs };
}

export function all_shapes(): ShapeName[] {
  return [...SHAPES];
}
