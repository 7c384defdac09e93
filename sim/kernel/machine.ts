// One simulated machine: its shape, RAM and caches, MMU, clock, buses and devices, and the
// kernel state that goes with them. Exactly one machine is current at a time (`M`); kernel
// functions act on it, as kernel code acts on the machine it runs on.
import type { Site } from './site.ts';
import { Clock } from '../hw/clock.ts';
import { Ram } from '../hw/ram.ts';
import { Cache } from '../hw/cache.ts';
import { Rng } from './random.ts';
import { SHAPE, shape_by_name, type Shape, type ShapeName } from './shapes.ts';
import { Dmesg, kfmt } from './printk.ts';
import { DiagLog } from './diag.ts';
import { Trace } from './trace.ts';
import { Sched } from './sched.ts';
import { Faults } from './fault.ts';
import { set_capture } from './site.ts';
import { __set_jiffies } from './time.ts';
import { PageAllocator, PageKind, type Placement } from '../mm/page_alloc.ts';
import { Mmu } from '../mm/memory.ts';
import { Slab } from '../mm/slab.ts';
import { KImage, ModuleSpace } from '../mm/kimage.ts';
import { Stacks } from '../mm/stack.ts';
import { Ownership } from '../dma/ownership.ts';
import { MemoryOrder } from '../mm/order.ts';
import { DmaDebug } from '../dma/debug.ts';
import { Swiotlb } from '../dma/swiotlb.ts';
import { IommuHw } from '../hw/iommu.ts';
import { PciBus } from '../hw/pci.ts';
import { MmioMap } from '../hw/bus.ts';
import { IrqCore } from '../irq/core.ts';
import { DriverCore } from '../base/dd.ts';
import type { device } from '../base/device.ts';
import { give_buffers } from '../lib/recycle.ts';

export interface MachineOptions {
  /** Machine shape (default 'x86'). */
  shape?: ShapeName | Shape;
  /** Seed for every random choice the machine makes (default 0x5eed). */
  seed?: number;
  /** Where allocations land: 'low' (fresh machine) or 'high' (under memory pressure). */
  placement?: Placement;
  /** RAM size in bytes, overriding the shape's. */
  ram_size?: number;
  /** Capture call sites by V8 stack walk where driver code was not rewritten (default true). */
  callsites?: boolean;
  /** Keep the event trace (default true). */
  trace?: boolean;
  /** Number of 2 KiB swiotlb slots, overriding the shape's pool size. Exact (the kernel would
   *  round swiotlb=<nslabs> up to 128): a small pool is a nearly full one. */
  swiotlb_slots?: number;
  /** Force swiotlb bouncing on a shape that has a pool. */
  swiotlb_force?: boolean;
  /** Real time one harness call into the driver may take before the watchdog fires (ms). */
  wall_budget_ms?: number;
  /** Fault injection: IOVA pages per IOMMU domain (exhausts IOVA space). */
  iova_pages?: number;
  /** Fault injection: lose this many interrupts. */
  drop_irqs?: number;
  /** Fault injection: deliver interrupts this late (ns). */
  delay_irqs_ns?: number;
}

export let M: Machine = undefined as unknown as Machine;

export class Machine {
  readonly shape: Shape;
  readonly seed: number;
  readonly rng: Rng;
  readonly clock = new Clock();
  readonly ram: Ram;
  readonly cache: Cache | null;
  readonly dmesg = new Dmesg();
  readonly diag = new DiagLog();
  readonly trace: Trace;
  readonly sched = new Sched();
  readonly faults = new Faults();
  readonly pages: PageAllocator;
  readonly mmu: Mmu;
  readonly slab: Slab;
  readonly kimage: KImage;
  /** Module space: the course drivers' static data. */
  readonly modspace: ModuleSpace;
  readonly stacks = new Stacks();
  readonly own: Ownership;
  readonly dbg: DmaDebug;
  readonly swiotlb: Swiotlb | null;
  readonly iommu: IommuHw | null;
  readonly pci: PciBus;
  /** The physical address map's register windows (PCI BARs, platform devices' resources):
   *  what a CPU MMIO access or a bus master's DMA to a non-RAM address reaches. */
  readonly mmio: MmioMap;
  readonly irq: IrqCore;
  readonly drivers: DriverCore;
  /** Every struct device, by its sim id (the checker keys entries by it). */
  readonly devices: device[] = [];
  /** The driver whose code is running (for leak attribution); 0 = none. */
  owner = 0;
  /** The weak ordering of CPU accesses to coherent memory (sim/mm/order.ts): arm64 only. */
  readonly order: MemoryOrder | null;
  /** The device that driver code is running for (probe, remove, a harness call), if known. */
  cur_dev: device | null = null;
  /** The DMA API call a backend is working for, so a report from deep inside it (swiotlb's
   *  bounce overflow) can name the learner's line: its site (0: none) and label. Two fields, so
   *  the map/unmap fast path allocates nothing. */
  api_site: Site = 0;
  api_label = '';
  /** Set by die(): the kernel panicked (oops=panic, as on the rig); no driver code runs after. */
  panicked = false;

  constructor(opts: MachineOptions = {}) {
    M = this;
    const base = typeof opts.shape === 'object' ? opts.shape : shape_by_name(opts.shape ?? 'x86');
    this.shape = { ...base, ...(opts.ram_size ? { ram_size: opts.ram_size } : {}) };
    if (opts.swiotlb_force && this.shape.swiotlb) this.shape = { ...this.shape, swiotlb: { ...this.shape.swiotlb, force: true } };
    this.seed = (opts.seed ?? 0x5eed) >>> 0;
    this.rng = new Rng(this.seed);
    set_capture(opts.callsites ?? true);
    if (opts.wall_budget_ms !== undefined) this.sched.wall_budget_ms = opts.wall_budget_ms;
    this.faults.iova_pages = opts.iova_pages ?? 0;
    this.faults.drop_irqs = opts.drop_irqs ?? 0;
    this.faults.delay_irqs_ns = opts.delay_irqs_ns ?? 0;
    this.ram = new Ram(this.shape.ram_base, this.shape.ram_size, this.seed);
    this.cache = this.shape.cache ? new Cache(this.ram, this.shape.cache.size, this.shape.cache.ways, this.rng.fork(1)) : null;
    this.trace = new Trace((id) => this.devices[id]?.init_name ?? '?');
    this.trace.enabled = opts.trace ?? true;
    this.pages = new PageAllocator(this.shape, this.rng.fork(2), opts.placement ?? 'low');
    this.mmu = new Mmu(this.shape);
    this.slab = new Slab(this.shape.kmalloc_minalign);
    this.kimage = new KImage(this.shape);
    this.modspace = new ModuleSpace(this.shape, this.mmu);
    this.pages.reserve(this.shape.kimage_phys, 16 << 20, PageKind.KIMAGE);
    this.order = this.shape.arch === 'arm64' ? new MemoryOrder(new Rng(this.seed ^ 0x0bde7), this.shape.ram_base, this.shape.ram_size) : null;
    if (this.order) { const o = this.order; this.clock.on_event = () => o.full(); }
    this.own = new Ownership();
    this.dbg = new DmaDebug();
    const sw = this.shape.swiotlb;
    this.swiotlb = sw ? new Swiotlb(sw.base, opts.swiotlb_slots ? opts.swiotlb_slots * 2048 : sw.size, sw.force) : null;
    if (this.swiotlb) this.pages.reserve(this.swiotlb.base, this.swiotlb.size);
    this.iommu = this.shape.iommu ? new IommuHw(this.shape.iommu) : null;
    this.pci = new PciBus(this.shape);
    this.mmio = new MmioMap(this.pci);
    this.irq = new IrqCore();
    this.drivers = new DriverCore();
    // The timer tick: jiffies advance HZ times a (virtual) second.
    const hz = this.shape.HZ, period = 1e9 / hz;
    __set_jiffies(0, hz);
    const tick = () => {
      __set_jiffies(this.clock.now, hz);
      this.clock.schedule(period, tick, 'tick');
    };
    this.clock.schedule(period, tick, 'tick');
    this.printk(6, `Linux version 6.1.0-dmalab (dmalab machine '${this.shape.name}', seed 0x${this.seed.toString(16)})`);
    if (this.swiotlb) this.printk(6, `software IO TLB: mapped [mem 0x${this.swiotlb.base.toString(16).padStart(16, '0')}-0x${(this.swiotlb.base + this.swiotlb.size - 1).toString(16).padStart(16, '0')}] (${this.swiotlb.size >> 20}MB)`);
    if (this.iommu) this.printk(6, this.iommu.kind === 'intel' ? 'DMAR: IOMMU enabled' : 'arm-smmu 9000000.iommu: probing hardware configuration...');
  }

  /** Make this machine the current one again (tests that juggle two). */
  activate(): this {
    if (this.retired) throw new Error(`dmalab: machine '${this.shape.name}' (seed 0x${this.seed.toString(16)}) was retired; build a new one`);
    M = this;
    return this;
  }

  /** Set by retire(). */
  retired = false;

  /** The test is done with this machine: its big buffers go to the next one (sim/lib/recycle.ts).
   *  Nothing may use the machine afterwards; its log (dmesg, diag) stays readable. */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    for (const part of [this.ram, this.pages, this.cache, this.order, this.swiotlb]) if (part) give_buffers(part.buffers);
  }

  printk(level: number, text: string): void {
    this.dmesg.push(this.clock.now, level, text);
  }

  /** printk with a printf-style format. */
  printf(level: number, fmt: string, ...args: unknown[]): void {
    this.printk(level, kfmt(fmt, args));
  }

  /** Module names of bound drivers ("Modules linked in:"). */
  modules(): string[] {
    return this.drivers.module_names();
  }

  register_device(d: device): number {
    this.devices.push(d);
    return this.devices.length - 1;
  }
}

export { SHAPE };
