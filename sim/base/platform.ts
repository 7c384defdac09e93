// The platform bus (drivers/base/platform.c): devices that are not enumerated but described
// (sim/of/platform.ts makes one per device-tree node), drivers matched by of_match_table, then
// by id_table, then by name; resources (register windows, interrupts) handed out by index; a
// probe that returns -EPROBE_DEFER tried again when another driver binds.
import { M } from '../kernel/machine.ts';
import { take_site, type Site } from '../kernel/site.ts';
import { EBUSY, EINVAL, ENOMEM, ENXIO, EPROBE_DEFER, ENODEV } from '../kernel/errno.ts';
import { ERR_PTR } from '../kernel/errno.ts';
import { dev_err, dev_err_probe, dev_name, type device, type device_driver } from './device.ts';
import { devres_add } from './devres.ts';
import { map_ioremap, iounmap_site, type iomem } from '../io/io.ts';
import { of_match_node, type device_node, type of_device_id } from '../of/base.ts';
import type { PlatformNodeHw } from '../hw/platform.ts';
import type { Ref } from '../lib/ref.ts';

// struct resource and its flags (include/linux/ioport.h), shared with PCI's BARs.
import { IORESOURCE_IO, IORESOURCE_MEM, type resource } from '../pci/pci.ts';
export { IORESOURCE_IO, IORESOURCE_MEM, type resource };
export const IORESOURCE_IRQ = 0x400;

export interface platform_device_id { name: string; driver_data?: number }

export interface platform_device {
  name: string;
  id: number;
  dev: device;
  num_resources: number;
  resource: resource[];
  id_entry: platform_device_id | null;
  /** @internal the hardware node */
  _hw: PlatformNodeHw;
  /** @internal the driver bound to it */
  _drv: platform_driver | null;
}

export interface platform_driver {
  probe: (pdev: platform_device) => number;
  remove?: (pdev: platform_device) => number | void;
  shutdown?: (pdev: platform_device) => void;
  driver: { name: string; of_match_table?: of_device_id[]; owner?: unknown } & Partial<device_driver>;
  id_table?: platform_device_id[];
}

export const platform_bus_type = { name: 'platform' };
const devices = new WeakMap<object, platform_device[]>();
function all(): platform_device[] {
  let l = devices.get(M);
  if (!l) devices.set(M, l = []);
  return l;
}

/** of_platform_device_create()'s last step: the platform device for a described node. */
export function platform_device_add(name: string, np: device_node, hw: PlatformNodeHw, dev: device, resource: resource[]): platform_device {
  const pdev: platform_device = { name, id: -1, dev, num_resources: resource.length, resource, id_entry: null, _hw: hw, _drv: null };
  dev.of_node = np;
  np._dev = pdev;
  hw.dev = dev;
  all().push(pdev);
  return pdev;
}

export function to_platform_device(dev: device): platform_device {
  const p = all().find((x) => x.dev === dev);
  if (!p) throw new Error(`${dev_name(dev)} is not a platform device`);
  return p;
}
export function dev_is_platform(dev: device): boolean {
  return dev.bus === platform_bus_type;
}
export function platform_get_drvdata<T = unknown>(pdev: platform_device): T {
  return pdev.dev.driver_data as T;
}
export function platform_set_drvdata(pdev: platform_device, data: unknown): void {
  pdev.dev.driver_data = data;
}

// ---- matching and binding ----------------------------------------------------------------

function device_driver_of(drv: platform_driver): device_driver {
  const d = drv.driver as device_driver;
  d.bus = platform_bus_type;
  return d;
}

/** platform_match(): the device tree first, then the id table, then the names. */
function platform_match(pdev: platform_device, drv: platform_driver): boolean {
  if (of_match_node(drv.driver.of_match_table, pdev.dev.of_node ?? null)) return true;
  if (drv.id_table) {
    const id = drv.id_table.find((i) => i.name === pdev.name);
    if (id) {
      pdev.id_entry = id;
      return true;
    }
  }
  return pdev.name === drv.driver.name;
}

function probe_one(drv: platform_driver, pdev: platform_device): number {
  pdev._drv = drv;
  const ret = M.drivers.probe(pdev.dev, device_driver_of(drv), () => drv.probe(pdev));
  if (ret) pdev._drv = null;
  if (ret === -EPROBE_DEFER) M.drivers.defer(pdev.dev, () => { if (!pdev._drv) probe_one(drv, pdev); });
  return ret;
}

const registered = new WeakMap<object, Set<platform_driver>>();
function drivers(): Set<platform_driver> {
  let s = registered.get(M);
  if (!s) registered.set(M, s = new Set());
  return s;
}

/** platform_driver_register() (__platform_driver_register): bind every matching device. */
export function platform_driver_register(drv: platform_driver): number {
  M.drivers.register(device_driver_of(drv));
  drivers().add(drv);
  for (const pdev of all()) if (!pdev._drv && platform_match(pdev, drv)) probe_one(drv, pdev);
  return 0;
}
export const __platform_driver_register = platform_driver_register;

export function platform_driver_unregister(drv: platform_driver): void {
  for (const pdev of all()) {
    if (pdev._drv === drv) platform_unbind(pdev);
    else if (!pdev._drv && platform_match(pdev, drv)) M.drivers.undefer(pdev.dev);
  }
  drivers().delete(drv);
  M.drivers.unregister(device_driver_of(drv));
}

/** module_platform_driver(drv): the module's init and exit, registering and unregistering it. */
export interface platform_module { driver: platform_driver; init: () => number; exit: () => void }
export function module_platform_driver(drv: platform_driver): platform_module {
  return { driver: drv, init: () => platform_driver_register(drv), exit: () => platform_driver_unregister(drv) };
}

/** A newly described device: offered to the registered drivers (bus_probe_device()). */
export function platform_probe_new(pdev: platform_device): void {
  for (const drv of drivers()) if (!pdev._drv && platform_match(pdev, drv)) probe_one(drv, pdev);
}

/** Bind one device by hand (sysfs bind): probe's result. */
export function platform_bind(drv: platform_driver, pdev: platform_device): number {
  M.drivers.register(device_driver_of(drv));
  if (pdev._drv) return -EBUSY;
  if (!platform_match(pdev, drv)) return -ENODEV;
  return probe_one(drv, pdev);
}

/** Unbind (sysfs unbind): remove(), devres, the unbind checks. */
export function platform_unbind(pdev: platform_device): void {
  const drv = pdev._drv;
  if (!drv) return;
  M.drivers.unbind(pdev.dev, () => {
    const r = drv.remove?.(pdev);
    // platform_remove(): "remove callback returned a non-zero value. This will be ignored."
    if (typeof r === 'number' && r !== 0) dev_err(pdev.dev, 'remove callback returned a non-zero value. This will be ignored.\n');
  });
  pdev._drv = null;
}

export function platform_driver_of(pdev: platform_device): platform_driver | null {
  return pdev._drv;
}

// ---- resources -----------------------------------------------------------------------------

export function platform_get_resource(pdev: platform_device, type: number, num: number): resource | null {
  for (const r of pdev.resource) if ((r.flags & 0x1f00) === type && num-- === 0) return r;
  return null;
}
export function platform_get_resource_byname(pdev: platform_device, type: number, name: string): resource | null {
  return pdev.resource.find((r) => (r.flags & 0x1f00) === type && r.name === name) ?? null;
}
export function resource_size(r: resource): number {
  return r.end - r.start + 1;
}
/** %pR: '[mem 0x09100000-0x0910ffff]'. */
export function resource_str(r: resource | null): string {
  if (!r) return '[??? 0x00000000-0x00000000]';
  const kind = r.flags & IORESOURCE_MEM ? 'mem' : r.flags & IORESOURCE_IRQ ? 'irq' : 'io ';
  const h = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
  return r.flags & IORESOURCE_IRQ ? `[irq ${r.start}]` : `[${kind} ${h(r.start)}-${h(r.end)}]`;
}

/** platform_get_irq_optional(): the Linux IRQ number of interrupt `num`, or -ENXIO. */
export function platform_get_irq_optional(pdev: platform_device, num: number): number {
  const r = platform_get_resource(pdev, IORESOURCE_IRQ, num);
  return r ? r.start : -ENXIO;
}
/** platform_get_irq(): as above, saying so when it is missing. */
export function platform_get_irq(pdev: platform_device, num: number): number {
  const ret = platform_get_irq_optional(pdev, num);
  if (ret < 0) return dev_err_probe(pdev.dev, ret, 'IRQ index %u not found\n', num);
  return ret;
}
export function platform_irq_count(pdev: platform_device): number {
  return pdev.resource.filter((r) => r.flags & IORESOURCE_IRQ).length;
}

/** Who holds each register window (/proc/iomem), machine-wide. */
const busy = new WeakMap<object, Set<resource>>();
function claimed(): Set<resource> {
  let s = busy.get(M);
  if (!s) busy.set(M, s = new Set());
  return s;
}

function ioremap_resource(dev: device, res: resource | null, site: Site): iomem {
  if (!res || !(res.flags & IORESOURCE_MEM)) {
    dev_err(dev, 'invalid resource %s\n', resource_str(res));
    return ERR_PTR(-EINVAL);
  }
  if (claimed().has(res)) {
    dev_err(dev, "can't request region for resource %s\n", resource_str(res));
    return ERR_PTR(-EBUSY);
  }
  const addr = map_ioremap(res.start, resource_size(res), site);
  if (!addr) {
    dev_err(dev, 'ioremap failed for resource %s\n', resource_str(res));
    return ERR_PTR(-ENOMEM);
  }
  claimed().add(res);
  // Managed: released at unbind and after a failed probe, so it is never left behind.
  devres_add(dev, 'devm_ioremap_resource', () => { claimed().delete(res); iounmap_site(addr, site); });
  return addr;
}

/** devm_ioremap_resource(dev, res): request and map a window, managed; an ERR_PTR on failure. */
export function devm_ioremap_resource(dev: device, res: resource | null): iomem {
  return ioremap_resource(dev, res, take_site(devm_ioremap_resource));
}
/** devm_platform_ioremap_resource(pdev, index): the index-th register window, mapped. */
export function devm_platform_ioremap_resource(pdev: platform_device, index: number): iomem {
  const site = take_site(devm_platform_ioremap_resource);
  return ioremap_resource(pdev.dev, platform_get_resource(pdev, IORESOURCE_MEM, index), site);
}
export function devm_platform_get_and_ioremap_resource(pdev: platform_device, index: number, res: Ref<resource | null> | null): iomem {
  const site = take_site(devm_platform_get_and_ioremap_resource);
  const r = platform_get_resource(pdev, IORESOURCE_MEM, index);
  if (res) res.value = r;
  return ioremap_resource(pdev.dev, r, site);
}

/** of_device_get_match_data() / device_get_match_data(): the matching entry's data. */
export function of_device_get_match_data<T = unknown>(dev: device): T | null {
  const pdev = all().find((p) => p.dev === dev);
  const m = pdev?._drv ? of_match_node(pdev._drv.driver.of_match_table, dev.of_node ?? null) : null;
  return (m?.data ?? null) as T | null;
}
export const device_get_match_data = of_device_get_match_data;

