// The kernel's PCI core as drivers use it (drivers/pci/pci.c, pci-driver.c, probe.c, msi/,
// lib/pci_iomap.c, devres): enumeration makes a struct pci_dev for each function on the bus,
// pci_register_driver binds drivers by their id_table, and enable/master/regions/iomap/IRQ
// vectors are taken and given back, each tracked so a leak at unbind is reported.
import { M } from '../kernel/machine.ts';
import { take_site, type Site } from '../kernel/site.ts';
import { EBUSY, EINVAL, ENODEV, ENOMEM, ENOSPC } from '../kernel/errno.ts';
import type { Ref } from '../lib/ref.ts';
import type { IrqDesc } from '../irq/core.ts';
import { x016, px } from '../lib/vsprintf.ts';
import { new_device, hold, unhold, find_held, dev_name, type device, type device_driver, type HeldResource } from '../base/device.ts';
import { devres_add } from '../base/devres.ts';
import { PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, type PciFn, type PciModel } from '../hw/pci.ts';
import { map_ioremap, iounmap_site, type iomem } from '../io/io.ts';
import { warn_at } from '../dma/warn-sites.ts';

export const PCI_ANY_ID = 0xffffffff;
export const IORESOURCE_MEM = 0x200, IORESOURCE_IO = 0x100;
export const PCI_IRQ_LEGACY = 1, PCI_IRQ_INTX = 1, PCI_IRQ_MSI = 2, PCI_IRQ_MSIX = 4,
  PCI_IRQ_ALL_TYPES = 7;

export interface pci_device_id {
  vendor: number;
  device: number;
  subvendor?: number;
  subdevice?: number;
  class?: number;
  class_mask?: number;
  driver_data?: number;
}

/** PCI_DEVICE(vendor, device): an id_table entry matching any subsystem. */
export function PCI_DEVICE(vendor: number, device: number): pci_device_id {
  return { vendor, device, subvendor: PCI_ANY_ID, subdevice: PCI_ANY_ID };
}

export interface resource { start: number; end: number; flags: number; name: string }

export interface pci_dev {
  dev: device;
  vendor: number;
  device: number;
  subsystem_vendor: number;
  subsystem_device: number;
  class: number;
  revision: number;
  devfn: number;
  /** The legacy (INTx) interrupt, or the first vector after pci_alloc_irq_vectors. */
  irq: number;
  resource: resource[];
  msi_enabled: boolean;
  is_busmaster: boolean;
  driver: pci_driver | null;
  /** @internal the hardware function */
  _fn: PciFn;
  /** @internal enable count and what the driver holds */
  _enable_cnt: number;
  _regions: Map<number, HeldResource>;
  _iomaps: Map<number, HeldResource>;
  _irq_vecs: HeldResource | null;
  /** @internal MSI vectors allocated (0 with INTx) */
  _msi_vecs: number;
  /** @internal pcim_enable_device()d: pci_is_managed() */
  _managed: boolean;
}

export interface pci_driver {
  name: string;
  id_table: pci_device_id[];
  probe: (pdev: pci_dev, id: pci_device_id) => number;
  remove?: (pdev: pci_dev) => void;
  shutdown?: (pdev: pci_dev) => void;
  /** @internal */
  driver?: device_driver;
}

const pci_bus_type = { name: 'pci' };
const by_fn = new WeakMap<PciFn, pci_dev>();

/** Enumeration (drivers/pci/probe.c): the PCI core's view of a function just plugged in. */
export function pci_setup_device(fn: PciFn): pci_dev {
  const dev = new_device(fn.name, pci_bus_type, M.shape.coherent);
  dev.dma_mask = 0xffffffffn;
  dev.coherent_dma_mask = 0xffffffffn;
  dev._dma_limit = 0xffffffff;
  dev._coherent_limit = 0xffffffff;
  dev._iommu = M.iommu !== null;
  // pci_device_add() (drivers/pci/probe.c) points dev->dma_parms at the pci_dev's own, and
  // sets 64 KiB segments that must not cross a 4 GiB boundary.
  dev.dma_parms = { max_segment_size: 65536, segment_boundary_mask: 0xffffffff };
  dev._can_master = () => fn.master_enabled();
  fn.dev = dev;
  const m = fn.model;
  const resource: resource[] = [];
  m.bars.forEach((b, i) => {
    if (b) resource[i] = { start: fn.bar_addr[i]!, end: fn.bar_addr[i]! + b.size - 1, flags: IORESOURCE_MEM, name: fn.name };
  });
  const pdev: pci_dev = {
    dev, vendor: m.vendor, device: m.device, subsystem_vendor: m.subsystem_vendor ?? 0x1af4,
    subsystem_device: m.subsystem_device ?? 0x1100, class: m.class_code, revision: m.revision,
    devfn: fn.slot << 3 | fn.fn, irq: fn.intx, resource, msi_enabled: false, is_busmaster: false,
    driver: null, _fn: fn, _enable_cnt: 0, _regions: new Map(), _iomaps: new Map(), _irq_vecs: null, _msi_vecs: 0, _managed: false,
  };
  by_fn.set(fn, pdev);
  M.printk(7, `pci ${fn.name}: [${m.vendor.toString(16).padStart(4, '0')}:${m.device.toString(16).padStart(4, '0')}] type 00 class 0x${m.class_code.toString(16).padStart(6, '0')}`);
  resource.forEach((r, i) => r && M.printk(7, `pci ${fn.name}: reg 0x${(0x10 + 4 * i).toString(16)}: [mem 0x${r.start.toString(16).padStart(8, '0')}-0x${r.end.toString(16).padStart(8, '0')}]`));
  if (M.iommu) M.printk(6, `pci ${fn.name}: Adding to iommu group ${fn.slot}`);
  return pdev;
}

/** Plug a device model into a slot and enumerate it. */
export function pci_plug(model: PciModel, slot: number): pci_dev {
  return pci_setup_device(M.pci.plug(model, slot));
}

export function to_pci_dev(dev: device): pci_dev {
  for (const fn of M.pci.fns) if (fn.dev === dev) return by_fn.get(fn)!;
  throw new Error(`${dev_name(dev)} is not a PCI device`);
}
export function pci_name(pdev: pci_dev): string {
  return dev_name(pdev.dev);
}
export function dev_is_pci(dev: device): boolean {
  return dev.bus === pci_bus_type;
}
export function pci_set_drvdata(pdev: pci_dev, data: unknown): void {
  pdev.dev.driver_data = data;
}
export function pci_get_drvdata<T = unknown>(pdev: pci_dev): T {
  return pdev.dev.driver_data as T;
}

// ---- driver registration -------------------------------------------------------------------

function match_one(id: pci_device_id, pdev: pci_dev): boolean {
  const any = (v: number | undefined, x: number) => v === undefined || v === PCI_ANY_ID || v === x;
  return any(id.vendor, pdev.vendor) && any(id.device, pdev.device) && any(id.subvendor, pdev.subsystem_vendor) &&
    any(id.subdevice, pdev.subsystem_device) && ((pdev.class ^ (id.class ?? 0)) & (id.class_mask ?? 0)) === 0;
}

export function pci_match_id(ids: pci_device_id[], pdev: pci_dev): pci_device_id | null {
  for (const id of ids) if (match_one(id, pdev)) return id;
  return null;
}

function probe_one(drv: pci_driver, pdev: pci_dev, id: pci_device_id): number {
  pdev.driver = drv;
  const ret = M.drivers.probe(pdev.dev, drv.driver!, () => drv.probe(pdev, id));
  if (ret) pdev.driver = null;
  return ret;
}

/** pci_register_driver(): returns 0 even when a probe fails, as the kernel does. */
export function pci_register_driver(drv: pci_driver): number {
  if (!drv.driver) drv.driver = { name: drv.name, bus: pci_bus_type };
  M.drivers.register(drv.driver);
  for (const fn of M.pci.fns) {
    const pdev = by_fn.get(fn);
    if (!pdev || pdev.driver) continue;
    const id = pci_match_id(drv.id_table, pdev);
    if (id) probe_one(drv, pdev, id);
  }
  return 0;
}

/** Bind one device (as `echo 0000:00:03.0 > /sys/bus/pci/drivers/edu/bind`): probe's result. */
export function pci_bind(drv: pci_driver, pdev: pci_dev): number {
  if (!drv.driver) drv.driver = { name: drv.name, bus: pci_bus_type };
  M.drivers.register(drv.driver);
  if (pdev.driver) return -EBUSY;
  const id = pci_match_id(drv.id_table, pdev);
  if (!id) return -ENODEV;
  return probe_one(drv, pdev, id);
}

/** Unbind one device (sysfs unbind): remove(), devres, then the unbind checks. */
export function pci_unbind(pdev: pci_dev): void {
  const drv = pdev.driver;
  if (!drv) return;
  M.drivers.unbind(pdev.dev, () => drv.remove?.(pdev));
  pdev.driver = null;
}

export function pci_unregister_driver(drv: pci_driver): void {
  for (const fn of M.pci.fns) {
    const pdev = by_fn.get(fn);
    if (pdev && pdev.driver === drv) pci_unbind(pdev);
  }
  if (drv.driver) M.drivers.unregister(drv.driver);
}

// ---- enable / master -----------------------------------------------------------------------

function cmd(pdev: pci_dev): number {
  return pdev._fn.cfg_read(PCI_COMMAND, 2);
}

function enable(pdev: pci_dev, site: Site): number {
  M.sched.might_sleep('drivers/pci/pci.c:1977', site);
  if (M.faults.should_fail('pci_enable_device', site)) return -ENOMEM;
  if (pdev._enable_cnt++ === 0) {
    const old = cmd(pdev);
    const nw = old | PCI_COMMAND_MEMORY;
    if (nw !== old) {
      M.printk(6, `${pdev.driver?.name ?? 'pci'} ${pci_name(pdev)}: enabling device (${old.toString(16).padStart(4, '0')} -> ${nw.toString(16).padStart(4, '0')})`);
      pdev._fn.cfg_write(PCI_COMMAND, 2, nw);
    }
    intx_map(pdev);
  }
  hold(pdev.dev, 'pci_enable_device()', `(enable count ${pdev._enable_cnt})`, site);
  return 0;
}

function disable(pdev: pci_dev, site: Site, managed = false): void {
  if (pdev._enable_cnt <= 0) {
    // dev_WARN_ONCE(): once per boot; the count is not decremented below zero here (the kernel
    // does, and the next enable then does nothing: worse, and not worth modelling).
    M.diag.report('PCI_DISABLE_UNBALANCED', [`${pdev.driver?.name ?? 'pci'} ${pci_name(pdev)}: disabling already-disabled device`], {
      warn: warn_at('PCI_DISABLE_DISABLED'), once: 'pci_disable_device', sites: [['Disabled at', site]],
      notes: ['dmalab: pci_disable_device() without a matching pci_enable_device(): each disable undoes exactly one enable'],
    });
    return;
  }
  unhold(pdev.dev, find_held(pdev.dev, 'pci_enable_device()'));
  if (--pdev._enable_cnt === 0) {
    pdev._fn.cfg_write(PCI_COMMAND, 2, cmd(pdev) & ~PCI_COMMAND_MASTER);
    pdev.is_busmaster = false;
    intx_unmap(pdev, managed ? null : site);
  }
}

// x86 with ACPI maps a function's INTx pin to an IRQ when the first enable routes it
// (acpi_pci_irq_enable) and unmaps it when the last disable does (acpi_pci_irq_disable ->
// mp_unmap_irq), freeing the descriptor once no enabled function uses the line; arm64 (DT)
// keeps its mapping. Measured on 6.1: tools/kernel-rig-cases/irq-leak.
/** The INTx descriptor x86 routes for this function (none on arm64, or with MSI on). */
function routed_intx(pdev: pci_dev): IrqDesc | undefined {
  return M.shape.arch === 'x86_64' && !pdev.msi_enabled ? M.irq.descs.get(pdev._fn.intx) : undefined;
}
function intx_map(pdev: pci_dev): void {
  const d = routed_intx(pdev);
  if (!d) return;
  M.irq.renew_desc(d.irq);
  d.users++;
}
function intx_unmap(pdev: pci_dev, site: Site | null): void {
  const d = routed_intx(pdev);
  if (d && d.users > 0 && --d.users === 0) M.irq.free_desc(d.irq, site, 'pci_disable_device()');
}

export function pci_enable_device(pdev: pci_dev): number {
  return enable(pdev, take_site(pci_enable_device));
}
export function pci_enable_device_mem(pdev: pci_dev): number {
  return enable(pdev, take_site(pci_enable_device_mem));
}
export function pci_disable_device(pdev: pci_dev): void {
  disable(pdev, take_site(pci_disable_device));
}
/** pcim_enable_device(): managed; disabled again at unbind. */
export function pcim_enable_device(pdev: pci_dev): number {
  const site = take_site(pcim_enable_device);
  const r = enable(pdev, site);
  if (r === 0) {
    pdev._managed = true;
    devres_add(pdev.dev, 'pcim_enable_device', () => {
      pdev._managed = false;
      disable(pdev, site, true);
    });
  }
  return r;
}
export function pci_is_enabled(pdev: pci_dev): boolean {
  return pdev._enable_cnt > 0;
}

export function pci_set_master(pdev: pci_dev): void {
  pdev._fn.cfg_write(PCI_COMMAND, 2, cmd(pdev) | PCI_COMMAND_MASTER);
  pdev.is_busmaster = true;
}
export function pci_clear_master(pdev: pci_dev): void {
  pdev._fn.cfg_write(PCI_COMMAND, 2, cmd(pdev) & ~PCI_COMMAND_MASTER);
  pdev.is_busmaster = false;
}

// ---- config space --------------------------------------------------------------------------

export function pci_read_config_byte(pdev: pci_dev, where: number, val: Ref<number>): number { val.value = pdev._fn.cfg_read(where, 1); return 0; }
export function pci_read_config_word(pdev: pci_dev, where: number, val: Ref<number>): number { val.value = pdev._fn.cfg_read(where, 2); return 0; }
export function pci_read_config_dword(pdev: pci_dev, where: number, val: Ref<number>): number { val.value = pdev._fn.cfg_read(where, 4); return 0; }
export function pci_write_config_byte(pdev: pci_dev, where: number, val: number): number { pdev._fn.cfg_write(where, 1, val); return 0; }
export function pci_write_config_word(pdev: pci_dev, where: number, val: number): number { pdev._fn.cfg_write(where, 2, val); return 0; }
export function pci_write_config_dword(pdev: pci_dev, where: number, val: number): number { pdev._fn.cfg_write(where, 4, val); return 0; }

// ---- resources -----------------------------------------------------------------------------

export function pci_resource_start(pdev: pci_dev, bar: number): number { return pdev.resource[bar]?.start ?? 0; }
export function pci_resource_end(pdev: pci_dev, bar: number): number { return pdev.resource[bar]?.end ?? 0; }
export function pci_resource_len(pdev: pci_dev, bar: number): number {
  const r = pdev.resource[bar];
  return r ? r.end - r.start + 1 : 0;
}
export function pci_resource_flags(pdev: pci_dev, bar: number): number { return pdev.resource[bar]?.flags ?? 0; }

/** Who owns each BAR (a driver name), machine-wide, as /proc/iomem records it. */
const claimed = new WeakMap<pci_dev, Map<number, string>>();

function request_region(pdev: pci_dev, bar: number, name: string, site: Site): number {
  const r = pdev.resource[bar];
  if (!r) return 0;
  const owners = claimed.get(pdev) ?? new Map<number, string>();
  claimed.set(pdev, owners);
  if (owners.has(bar)) {
    M.diag.report('PCI_REGION_BUSY', [`${pdev.driver?.name ?? 'pci'} ${pci_name(pdev)}: BAR ${bar}: can't reserve [mem 0x${r.start.toString(16).padStart(8, '0')}-0x${r.end.toString(16).padStart(8, '0')}]`],
      { sites: [['Requested at', site]] });
    return -EBUSY;
  }
  owners.set(bar, name);
  pdev._regions.set(bar, hold(pdev.dev, 'pci_request_regions()', `BAR ${bar} [mem 0x${r.start.toString(16)}-0x${r.end.toString(16)}]`, site));
  return 0;
}

function release_region(pdev: pci_dev, bar: number): void {
  const r = pdev.resource[bar];
  if (!r) return;
  const owners = claimed.get(pdev);
  if (!owners?.has(bar)) {
    M.printk(4, `Trying to free nonexistent resource <0x${x016(r.start)}-0x${x016(r.end)}>`);
    return;
  }
  owners.delete(bar);
  unhold(pdev.dev, pdev._regions.get(bar));
  pdev._regions.delete(bar);
}

export function pci_request_regions(pdev: pci_dev, name: string): number {
  const site = take_site(pci_request_regions);
  if (M.faults.should_fail('pci_request_regions', site)) return -EBUSY;
  for (let bar = 0; bar < pdev.resource.length; bar++) {
    const r = request_region(pdev, bar, name, site);
    if (r) {
      for (let b = 0; b < bar; b++) release_region(pdev, b);
      return r;
    }
  }
  return 0;
}
export function pci_release_regions(pdev: pci_dev): void {
  for (let bar = 0; bar < pdev.resource.length; bar++) release_region(pdev, bar);
}
export function pci_request_region(pdev: pci_dev, bar: number, name: string): number {
  const site = take_site(pci_request_region);
  if (M.faults.should_fail('pci_request_regions', site)) return -EBUSY;
  return request_region(pdev, bar, name, site);
}
export function pci_release_region(pdev: pci_dev, bar: number): void {
  release_region(pdev, bar);
}

function iomap(pdev: pci_dev, bar: number, maxlen: number, site: Site): iomem {
  const r = pdev.resource[bar];
  if (!r) return 0;
  if (M.faults.should_fail('pci_iomap', site)) return 0;
  let len = r.end - r.start + 1;
  if (maxlen && maxlen < len) len = maxlen;
  const addr = map_ioremap(r.start, len, site);
  if (addr) pdev._iomaps.set(addr, hold(pdev.dev, 'pci_iomap()', `BAR ${bar} at ${px(addr)}`, site));
  return addr;
}

/** pci_iomap(): an __iomem cookie for a BAR (0 on failure). */
export function pci_iomap(pdev: pci_dev, bar: number, maxlen: number): iomem {
  return iomap(pdev, bar, maxlen, take_site(pci_iomap));
}
export function pci_iounmap(pdev: pci_dev, addr: iomem): void {
  const site = take_site(pci_iounmap);
  unhold(pdev.dev, pdev._iomaps.get(addr));
  pdev._iomaps.delete(addr);
  iounmap_site(addr, site);
}
export function pcim_iomap(pdev: pci_dev, bar: number, maxlen: number): iomem {
  const site = take_site(pcim_iomap);
  const addr = iomap(pdev, bar, maxlen, site);
  if (addr) devres_add(pdev.dev, 'pcim_iomap', () => { unhold(pdev.dev, pdev._iomaps.get(addr)); pdev._iomaps.delete(addr); iounmap_site(addr, site); });
  return addr;
}
const iomap_tables = new WeakMap<pci_dev, iomem[]>();
/** pcim_iomap_regions(): request and map the BARs in `mask`, managed. */
export function pcim_iomap_regions(pdev: pci_dev, mask: number, name: string): number {
  const site = take_site(pcim_iomap_regions);
  const table = iomap_tables.get(pdev) ?? [];
  iomap_tables.set(pdev, table);
  for (let bar = 0; bar < 6; bar++) {
    if (!(mask & (1 << bar))) continue;
    if (M.faults.should_fail('pci_request_regions', site)) return -EBUSY;
    const r = request_region(pdev, bar, name, site);
    if (r) return r;
    devres_add(pdev.dev, 'pcim_iomap_regions', () => release_region(pdev, bar));
    const addr = iomap(pdev, bar, 0, site);
    if (!addr) return -ENOMEM;
    devres_add(pdev.dev, 'pcim_iomap_regions', () => { unhold(pdev.dev, pdev._iomaps.get(addr)); pdev._iomaps.delete(addr); iounmap_site(addr, site); });
    table[bar] = addr;
  }
  return 0;
}
export function pcim_iomap_table(pdev: pci_dev): iomem[] {
  return iomap_tables.get(pdev) ?? [];
}

// ---- interrupts ----------------------------------------------------------------------------

/** pci_alloc_irq_vectors(): MSI if asked and offered, else the legacy INTx line. */
export function pci_alloc_irq_vectors(pdev: pci_dev, min_vecs: number, max_vecs: number, flags: number): number {
  const site = take_site(pci_alloc_irq_vectors);
  if (pdev._irq_vecs) return -EINVAL;
  if (M.faults.should_fail('irq_vectors', site)) return -ENOSPC;
  const fn = pdev._fn;
  let n: number;
  if (flags & PCI_IRQ_MSI && fn.model.msi_vectors >= min_vecs) {
    n = Math.min(max_vecs, fn.model.msi_vectors);
    fn.set_msi_enabled(true);
    pdev.msi_enabled = true;
    pdev.irq = fn.msi_base;
    for (let i = 0; i < n; i++) M.irq.renew_desc(fn.msi_base + i);
    pdev._msi_vecs = n;
    pdev._irq_vecs = hold(pdev.dev, 'pci_alloc_irq_vectors()', `${n} MSI vector${n > 1 ? 's' : ''} (irq ${fn.msi_base})`, site);
  } else if (flags & PCI_IRQ_INTX && min_vecs <= 1) {
    n = 1;
    pdev.irq = fn.intx;
    pdev._irq_vecs = hold(pdev.dev, 'pci_alloc_irq_vectors()', `INTx (irq ${fn.intx})`, site);
  } else {
    return -ENOSPC;
  }
  // A managed device's vectors are freed by devres at unbind (pcim_setup_msi_release; INTx has
  // nothing to free, and nothing to forget either).
  if (pdev._managed) devres_add(pdev.dev, 'pcim_irq_vectors', () => free_vectors(pdev, null));
  return n;
}
export function pci_free_irq_vectors(pdev: pci_dev): void {
  free_vectors(pdev, take_site(pci_free_irq_vectors));
}
/** `site` is the driver's call, or null when devres does it (a pcim_enable_device()d device). */
function free_vectors(pdev: pci_dev, site: Site | null): void {
  if (!pdev._irq_vecs) return;
  unhold(pdev.dev, pdev._irq_vecs);
  pdev._irq_vecs = null;
  if (pdev.msi_enabled) {
    // pci_disable_msi() frees the vectors' descriptors (measured: irq-leak case A).
    for (let i = 0; i < pdev._msi_vecs; i++) M.irq.free_desc(pdev._fn.msi_base + i, site, 'pci_free_irq_vectors()');
    pdev._msi_vecs = 0;
    pdev._fn.set_msi_enabled(false);
    pdev.msi_enabled = false;
  }
  pdev.irq = pdev._fn.intx;
}
/** pci_irq_vector(): the Linux IRQ number of vector nr. */
export function pci_irq_vector(pdev: pci_dev, nr: number): number {
  if (pdev.msi_enabled) return pdev._fn.msi_base + nr;
  return nr === 0 ? pdev._fn.intx : -EINVAL;
}
export function pci_intx(pdev: pci_dev, enable: boolean): void {
  const c = cmd(pdev);
  pdev._fn.cfg_write(PCI_COMMAND, 2, enable ? c & ~0x400 : c | 0x400);
}

export { pci_bus_type };
