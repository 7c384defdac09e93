// struct device and the dev_printk family (include/linux/device.h, drivers/base/core.c).
import { M } from '../kernel/machine.ts';
import { kfmt } from '../kernel/printk.ts';
import { errname } from '../kernel/errno.ts';
import type { Site } from '../kernel/site.ts';

export interface bus_type { name: string }
export interface device_driver { name: string; bus: bus_type }

export interface device_dma_parameters { max_segment_size: number; segment_boundary_mask: number }

/** A resource a driver took that must be given back (dmalab tracks them for leak reports). */
export interface HeldResource { kind: string; desc: string; site: Site; owner: number }

export interface device {
  /** Index of this device in the machine (the checker keys its entries by it). */
  readonly id: number;
  /** dev_name(): '0000:00:03.0'. */
  init_name: string;
  bus: bus_type | null;
  driver: device_driver | null;
  /** The streaming DMA mask; null where the bus gives the device none (DMA then fails). */
  dma_mask: bigint | null;
  coherent_dma_mask: bigint;
  /** Does this device snoop CPU caches? */
  dma_coherent: boolean;
  dma_parms: device_dma_parameters | null;
  driver_data: unknown;
  /** The device-tree node it was created from (platform devices); null for enumerated ones. */
  of_node?: import('../of/base.ts').device_node | null;
  /** @internal managed resources, released in reverse at unbind */
  _devres: { release: () => void; what: string; key?: unknown }[];
  /** @internal resources taken (regions, iomaps, IRQs, enable) for leak reports */
  _held: Set<HeldResource>;
  /** @internal the DMA mask as a number limit (addresses above it are out of reach) */
  _dma_limit: number;
  _coherent_limit: number;
  /** @internal error of the last failed dma_set_mask*, 0 if the last one succeeded */
  _mask_error: number;
  /** @internal is DMA from this device translated by the IOMMU? */
  _iommu: boolean;
  /** @internal the bus's DMA master gate: may the device issue DMA right now? */
  _can_master: () => boolean;
}

/** Make a struct device (the bus code embeds it in its own device struct). */
export function new_device(name: string, bus: bus_type | null, coherent: boolean): device {
  const d = {
    id: -1, init_name: name, bus, driver: null, dma_mask: null, coherent_dma_mask: 0n,
    dma_coherent: coherent, dma_parms: null, driver_data: null, _devres: [], _held: new Set(),
    _dma_limit: 0, _coherent_limit: 0, _mask_error: 0, _iommu: false, _can_master: () => true,
  } as device;
  (d as { id: number }).id = M.register_device(d);
  return d;
}

export function dev_name(dev: device): string {
  return dev.init_name;
}

/** The bound driver's name, else the bus name (as dma-debug prints after unbind). */
export function dev_driver_string(dev: device): string {
  return dev.driver ? dev.driver.name : dev.bus ? dev.bus.name : '';
}

export function dev_get_drvdata<T = unknown>(dev: device): T {
  return dev.driver_data as T;
}
export function dev_set_drvdata(dev: device, data: unknown): void {
  dev.driver_data = data;
}

function dev_printk(level: number, dev: device, fmt: string, args: unknown[]): void {
  M.printk(level, `${dev_driver_string(dev)} ${dev_name(dev)}: ${kfmt(fmt, args)}`);
}
export function dev_emerg(dev: device, fmt: string, ...args: unknown[]): void { dev_printk(0, dev, fmt, args); }
export function dev_crit(dev: device, fmt: string, ...args: unknown[]): void { dev_printk(2, dev, fmt, args); }
export function dev_err(dev: device, fmt: string, ...args: unknown[]): void { dev_printk(3, dev, fmt, args); }
export function dev_warn(dev: device, fmt: string, ...args: unknown[]): void { dev_printk(4, dev, fmt, args); }
export function dev_notice(dev: device, fmt: string, ...args: unknown[]): void { dev_printk(5, dev, fmt, args); }
export function dev_info(dev: device, fmt: string, ...args: unknown[]): void { dev_printk(6, dev, fmt, args); }
/** dev_dbg prints nothing unless dynamic debug is on (it is off, as on a stock kernel). */
export function dev_dbg(_dev: device, _fmt: string, ..._args: unknown[]): void {}

/** dev_err_probe(): log unless -EPROBE_DEFER, return err (drivers/base/core.c). */
export function dev_err_probe(dev: device, err: number, fmt: string, ...args: unknown[]): number {
  // "error %pe": the errno's name (CONFIG_SYMBOLIC_ERRNAME, as distribution kernels have).
  if (err !== -517) dev_printk(3, dev, `error ${errname(err)}: ${kfmt(fmt, args)}`, []);
  return err;
}

/** Note a resource taken by the current driver; returns the record to release. */
export function hold(dev: device, kind: string, desc: string, site: Site): HeldResource {
  const r: HeldResource = { kind, desc, site, owner: M.owner };
  dev._held.add(r);
  return r;
}
export function unhold(dev: device, r: HeldResource | undefined): void {
  if (r) dev._held.delete(r);
}
/** Find a held resource by kind and description. */
export function find_held(dev: device, kind: string, desc?: string): HeldResource | undefined {
  for (const r of dev._held) if (r.kind === kind && (desc === undefined || r.desc === desc)) return r;
  return undefined;
}
