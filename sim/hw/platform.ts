// On-chip peripherals as hardware (QEMU's sysbus): a device model has MMIO register windows at
// fixed addresses and interrupt outputs wired to the interrupt controller. No enumeration, no
// command register: the machine description (sim/of/platform.ts) says where each one sits.
import { M } from '../kernel/machine.ts';
import type { Site } from '../kernel/site.ts';
import type { device } from '../base/device.ts';
import type { IrqSource } from '../irq/core.ts';
import type { BarModel } from './pci.ts';

/** A platform device model: its register windows (reg) and how many interrupt outputs. */
export interface PlatformModel {
  /** Node name in the description: 'dma-controller', 'serial'. */
  name: string;
  compatible: string[];
  regions: BarModel[];
  irqs: number;
  /** Called once it is wired into the machine. */
  attach(node: PlatformNodeHw): void;
}

class IrqOut implements IrqSource {
  level = false;
  constructor(readonly node: PlatformNodeHw) {}
  get dev(): device | null { return this.node.dev; }
  asserting(): boolean { return this.level; }
}

/** One peripheral on the SoC bus: where its windows are and which interrupt lines it drives. */
export class PlatformNodeHw {
  /** The kernel's struct device for it (set when the platform device is created). */
  dev: device | null = null;
  readonly base: number[] = [];
  readonly irq: number[] = [];
  private outs: IrqOut[] = [];
  /** Call site of the last MMIO write (io.ts sets it) and of the write that started a DMA. */
  last_write_site: Site = 0;
  dma_site: Site = 0;

  /** Its stream id at the IOMMU (the SMMU's requester id in fault lines), after the PCI
   *  functions' devfns. */
  readonly stream_id: number;

  constructor(readonly model: PlatformModel, stream_id: number) {
    this.stream_id = stream_id;
  }

  /** Platform devices decode their registers from power-on: there is no enable bit. */
  memory_enabled(): boolean {
    return true;
  }

  /** Drive interrupt output `i` (level-triggered, as a GIC SPI wired high). */
  set_irq(i: number, level: boolean): void {
    const o = this.outs[i];
    if (!o || o.level === level) return;
    o.level = level;
    M.irq.level_changed(this.irq[i]!);
  }

  /** @internal */
  _wire(base: number[], irqs: number[]): void {
    this.base.push(...base);
    this.irq.push(...irqs);
    for (const n of irqs) {
      const o = new IrqOut(this);
      this.outs.push(o);
      M.irq.line(n).sources.push(o);
    }
  }
}

interface PlatformHwState { nodes: PlatformNodeHw[]; mmio_next: number; irq_next: number }
const machines = new WeakMap<object, PlatformHwState>();

function state(): PlatformHwState {
  let s = machines.get(M);
  if (!s) {
    // An SoC's peripheral window (arm64: below DRAM, past the SMMU at 0x9000000); on the PC,
    // the chipset's fixed MMIO just below the PCI window. Lines from 64 up (GIC SPIs on arm64,
    // IOAPIC pins on x86), clear of PCI's INTx and MSI numbers.
    s = { nodes: [], mmio_next: M.shape.arch === 'arm64' ? 0x09100000 : 0xfe000000, irq_next: 64 };
    machines.set(M, s);
  }
  return s;
}

const WINDOW = 0x10000;

/** Wire a model into the current machine: its windows get addresses, its outputs lines. */
export function platform_hw_add(model: PlatformModel, at?: number): PlatformNodeHw {
  const s = state();
  const node = new PlatformNodeHw(model, 0x100 + s.nodes.length);
  const base: number[] = [];
  for (const r of model.regions) {
    const a = base.length === 0 && at !== undefined ? at : s.mmio_next;
    base.push(a);
    s.mmio_next = Math.max(s.mmio_next, a + Math.ceil(r.size / WINDOW) * WINDOW);
  }
  const irqs = Array.from({ length: model.irqs }, () => s.irq_next++);
  node._wire(base, irqs);
  s.nodes.push(node);
  model.attach(node);
  return node;
}

/** Which peripheral window decodes this physical address (for MMIO and for DMA to a FIFO)? */
export function platform_decode(phys: number): { fn: PlatformNodeHw; bar: number; off: number; model: BarModel } | null {
  const s = machines.get(M);
  if (!s) return null;
  for (const fn of s.nodes) {
    const regs = fn.model.regions;
    for (let i = 0; i < regs.length; i++) {
      const a = fn.base[i]!, r = regs[i]!;
      if (phys >= a && phys < a + r.size) return { fn, bar: i, off: phys - a, model: r };
    }
  }
  return null;
}
