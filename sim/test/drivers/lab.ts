// A configurable edu driver for the sim's own rule and machine tests. Its probe can be made to
// leave out a step (pci_enable_device, pci_set_master, the mask check, an error path); its
// exported operations are small driver functions a test composes into a scenario (map, start
// a transfer, wait, sync, read, unmap), so every report carries call sites in this file, as a
// learner's driver would. Register map: sim/hw/edu.ts.
import { pci_enable_device, pci_disable_device, pci_request_regions, pci_release_regions, pci_iomap,
  pci_iounmap, pci_set_master, pci_clear_master, pci_set_drvdata, pci_get_drvdata, PCI_DEVICE,
  type pci_dev, type pci_driver } from '#linux/pci';
import { dma_map_single, dma_unmap_single, dma_mapping_error, dma_sync_single_for_cpu,
  dma_sync_single_for_device, dma_set_mask_and_coherent, dma_alloc_coherent, dma_free_coherent,
  dma_alloc_noncoherent, dma_free_noncoherent, dma_map_resource, dma_unmap_resource, dmam_free_coherent,
  dma_map_sg, dma_unmap_sg, dma_sync_sg_for_cpu, dma_sync_sg_for_device, DMA_BIT_MASK, DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL } from '#linux/dma-mapping';
import { sg_array, sg_init_table, sg_set_buf, sg_dma_address, sg_dma_len, type scatterlist } from '#linux/scatterlist';
import { kmalloc, kzalloc, kfree, GFP_KERNEL } from '#linux/slab';
import { GFP_DMA } from '#linux/gfp';
import { vmalloc, vfree } from '#linux/vmalloc';
import { readl, readq, writel, writew, writeq, virt_to_phys, type iomem } from '#linux/io';
import { DEFINE_SPINLOCK, spin_lock, spin_unlock, spin_lock_irqsave, spin_unlock_irqrestore } from '#linux/spinlock';
import { DEFINE_MUTEX, mutex_lock, mutex_unlock } from '#linux/mutex';
import { request_irq, free_irq, IRQ_HANDLED, IRQ_NONE, IRQF_SHARED } from '#linux/interrupt';
import { DECLARE_COMPLETION, reinit_completion, complete, completion_done, wait_for_completion, wait_for_completion_timeout, type completion } from '#linux/completion';
import { jiffies, msecs_to_jiffies, time_before } from '#linux/jiffies';
import { msleep, udelay } from '#linux/delay';
import { memset } from '#linux/string';
import { copy_from_mem, copy_to_mem, get_u8, put_u32 } from '#dmalab/mem';
import { dma_pool_create, dma_pool_alloc, dma_pool_free, dma_pool_destroy, type dma_pool } from '#linux/dmapool';
import { out } from '#dmalab/ref';
import { DEFINE_STATIC_BUFFER } from '#dmalab/static';
import { ENOMEM, EIO, ETIMEDOUT } from '#linux/errno';

export const EDU_STATUS = 0x20, EDU_IRQ_STATUS = 0x24, EDU_IRQ_ACK = 0x64, EDU_DMA_SRC = 0x80,
  EDU_DMA_DST = 0x88, EDU_DMA_CNT = 0x90, EDU_DMA_CMD = 0x98;
export const CMD_RUN = 1, CMD_TO_RAM = 2, CMD_IRQ = 4, EDU_BUF = 0x40000, DMA_IRQ = 0x100;

/** What the probe does (a correct driver: every field at its default). */
export interface LabCfg {
  enable: boolean;
  master: boolean;
  /** The DMA mask the driver asks for (edu drives 28 bits). */
  mask_bits: number;
  /** Go on with DMA even when dma_set_mask_and_coherent() fails. */
  ignore_mask_error: boolean;
  /** Install an interrupt handler (shared INTx). */
  irq: boolean;
  /** The handler: 'ok' checks and acks, 'greedy' claims without checking, 'noack' never acks,
   *  'throws' crashes, 'spins' never returns, 'none' never claims (always IRQ_NONE). */
  handler: 'ok' | 'greedy' | 'noack' | 'throws' | 'spins' | 'none';
  /** Probe also sets up a coherent ring and a mapped buffer, then requests the IRQ: the
   *  fault-injection sweep's probe. 'ok' unwinds on every error, 'broken' leaks its DMA when
   *  request_irq fails, 'broken-iomap' keeps the regions and the enable when pci_iomap fails. */
  full: false | 'ok' | 'broken' | 'broken-iomap';
  /** remove() forgets: 'regions' (release/iounmap/disable), 'memory' (kfree of a buffer). */
  remove_forgets: null | 'regions' | 'memory' | 'irq';
  /** Allocate a scratch buffer in probe (freed in remove unless remove_forgets = 'memory'). */
  scratch: boolean;
  /** Throw from probe (a driver bug: an exception). */
  probe_throws: boolean;
}

export const LAB_DEFAULT: LabCfg = { enable: true, master: true, mask_bits: 28, ignore_mask_error: false, irq: false,
  handler: 'ok', full: false, remove_forgets: null, scratch: false, probe_throws: false };

export interface lab {
  pdev: pci_dev;
  bar: iomem;
  cfg: LabCfg;
  done: completion;
  irqs: number;
  scratch: number;
  ring: number;
  ring_dma: number;
  rx: number;
  rx_dma: number;
}

function lab_irq(_irq: number, l: lab): number {
  if (l.cfg.handler === 'throws') {
    const nothing = null as unknown as { count: number };
    return nothing.count;
  }
  if (l.cfg.handler === 'none') return IRQ_NONE;
  if (l.cfg.handler === 'spins') {
    while (readl(l.bar + EDU_IRQ_STATUS) !== 0x12345678) l.irqs++;
    return IRQ_HANDLED;
  }
  if (l.cfg.handler === 'greedy') {
    l.irqs++;
    writel(readl(l.bar + EDU_IRQ_STATUS), l.bar + EDU_IRQ_ACK);
    return IRQ_HANDLED;
  }
  const status = readl(l.bar + EDU_IRQ_STATUS);
  if (!status) return IRQ_NONE;
  l.irqs++;
  if (l.cfg.handler !== 'noack') writel(status, l.bar + EDU_IRQ_ACK);
  complete(l.done);
  return IRQ_HANDLED;
}

/** The 'full' probe's DMA setup after the basic one; unwinds (or not) on failure. */
function lab_probe_dma(l: lab): number {
  const dev = l.pdev.dev;
  const handle = out(0);
  l.ring = dma_alloc_coherent(dev, 4096, handle, GFP_KERNEL);
  if (!l.ring) return -ENOMEM;
  l.ring_dma = handle.value;
  l.rx = kmalloc(4096, GFP_KERNEL);
  if (!l.rx) {
    dma_free_coherent(dev, 4096, l.ring, l.ring_dma);
    return -ENOMEM;
  }
  l.rx_dma = dma_map_single(dev, l.rx, 4096, DMA_FROM_DEVICE);
  if (dma_mapping_error(dev, l.rx_dma)) {
    kfree(l.rx);
    dma_free_coherent(dev, 4096, l.ring, l.ring_dma);
    return -ENOMEM;
  }
  const ret = request_irq(l.pdev.irq, lab_irq, IRQF_SHARED, 'edu_lab', l);
  if (ret) {
    if (l.cfg.full === 'broken') return ret; /* BUG: the mapping, the buffer and the ring leak */
    dma_unmap_single(dev, l.rx_dma, 4096, DMA_FROM_DEVICE);
    kfree(l.rx);
    dma_free_coherent(dev, 4096, l.ring, l.ring_dma);
    return ret;
  }
  return 0;
}

function lab_probe(pdev: pci_dev, cfg: LabCfg): number {
  const dev = pdev.dev;
  const l: lab = { pdev, bar: 0, cfg, done: DECLARE_COMPLETION(), irqs: 0, scratch: 0, ring: 0, ring_dma: 0, rx: 0, rx_dma: 0 };
  let ret = 0;
  if (cfg.probe_throws) {
    const table = undefined as unknown as number[];
    return table[0]!;
  }
  if (cfg.enable) {
    ret = pci_enable_device(pdev);
    if (ret) return ret;
  }
  ret = pci_request_regions(pdev, 'edu_lab');
  if (ret) goto_disable();
  if (ret) return ret;
  l.bar = pci_iomap(pdev, 0, 0);
  if (!l.bar) {
    if (cfg.full === 'broken-iomap') return -ENOMEM; /* BUG: regions and enable stay */
    pci_release_regions(pdev);
    goto_disable();
    return -ENOMEM;
  }
  if (cfg.master) pci_set_master(pdev);
  ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(cfg.mask_bits));
  if (ret && !cfg.ignore_mask_error) return unwind(l, -EIO);
  if (cfg.scratch) {
    l.scratch = kzalloc(256, GFP_KERNEL);
    if (!l.scratch) return unwind(l, -ENOMEM);
  }
  if (cfg.full) {
    ret = lab_probe_dma(l);
    if (ret) {
      kfree(l.scratch);
      return unwind(l, ret);
    }
  } else if (cfg.irq) {
    ret = request_irq(pdev.irq, lab_irq, IRQF_SHARED, 'edu_lab', l);
    if (ret) {
      kfree(l.scratch);
      return unwind(l, ret);
    }
  }
  pci_set_drvdata(pdev, l);
  return 0;

  function goto_disable(): void {
    if (cfg.enable) pci_disable_device(pdev);
  }
}

function unwind(l: lab, ret: number): number {
  pci_iounmap(l.pdev, l.bar);
  pci_release_regions(l.pdev);
  if (l.cfg.enable) pci_disable_device(l.pdev);
  return ret;
}

function lab_remove(pdev: pci_dev): void {
  const l = pci_get_drvdata<lab>(pdev);
  const dev = pdev.dev;
  if (l.cfg.full) {
    free_irq(pdev.irq, l);
    dma_unmap_single(dev, l.rx_dma, 4096, DMA_FROM_DEVICE);
    kfree(l.rx);
    dma_free_coherent(dev, 4096, l.ring, l.ring_dma);
  } else if (l.cfg.irq && l.cfg.remove_forgets !== 'irq') free_irq(pdev.irq, l); /* BUG if 'irq' */
  if (l.cfg.remove_forgets !== 'memory') kfree(l.scratch);
  if (l.cfg.master) pci_clear_master(pdev);
  if (l.cfg.remove_forgets === 'regions') return; /* BUG: regions, iomap and enable stay */
  pci_iounmap(pdev, l.bar);
  pci_release_regions(pdev);
  if (l.cfg.enable) pci_disable_device(pdev);
}

/** A driver with this configuration (a fresh object: each machine registers its own). */
export function lab_driver(cfg: Partial<LabCfg> = {}): pci_driver {
  const c: LabCfg = { ...LAB_DEFAULT, ...cfg };
  return {
    name: 'edu_lab',
    id_table: [PCI_DEVICE(0x1234, 0x11e8)],
    probe: (pdev) => lab_probe(pdev, c),
    remove: lab_remove,
  };
}

// ---- operations a test composes --------------------------------------------------------------

export function lab_of(pdev: pci_dev): lab {
  return pci_get_drvdata<lab>(pdev);
}

export function lab_alloc(len: number, dma_zone = false): number {
  return kmalloc(len, dma_zone ? GFP_KERNEL | GFP_DMA : GFP_KERNEL);
}
export function lab_free(buf: number): void {
  kfree(buf);
}
export function lab_vmalloc(len: number): number {
  return vmalloc(len);
}
export function lab_vfree(buf: number): void {
  vfree(buf);
}
export function lab_fill(buf: number, byte: number, len: number): void {
  memset(buf, byte, len);
}
export function lab_write(buf: number, bytes: Uint8Array): void {
  copy_to_mem(buf, bytes);
}
export function lab_read(buf: number, len: number): Uint8Array {
  return copy_from_mem(buf, len);
}
export function lab_put32(p: number, v: number): void {
  put_u32(v, p);
}
export function lab_get8(p: number): number {
  return get_u8(p);
}
export function lab_phys(buf: number): number {
  return virt_to_phys(buf);
}

/** dma_map_single + dma_mapping_error; returns the handle or 0 on error. */
export function lab_map(l: lab, buf: number, len: number, dir: number): number {
  const h = dma_map_single(l.pdev.dev, buf, len, dir);
  if (dma_mapping_error(l.pdev.dev, h)) return 0;
  return h;
}
/** dma_map_single without the error check (a handle straight to the device). */
export function lab_map_unchecked(l: lab, buf: number, len: number, dir: number): number {
  return dma_map_single(l.pdev.dev, buf, len, dir);
}
export function lab_unmap(l: lab, h: number, len: number, dir: number): void {
  dma_unmap_single(l.pdev.dev, h, len, dir);
}
export function lab_sync_cpu(l: lab, h: number, len: number, dir: number): void {
  dma_sync_single_for_cpu(l.pdev.dev, h, len, dir);
}
export function lab_sync_dev(l: lab, h: number, len: number, dir: number): void {
  dma_sync_single_for_device(l.pdev.dev, h, len, dir);
}
export function lab_alloc_coherent(l: lab, len: number): { cpu: number; dma: number } {
  const h = out(0);
  const cpu = dma_alloc_coherent(l.pdev.dev, len, h, GFP_KERNEL);
  return { cpu, dma: h.value };
}
export function lab_free_coherent(l: lab, len: number, c: { cpu: number; dma: number }): void {
  dma_free_coherent(l.pdev.dev, len, c.cpu, c.dma);
}

export function lab_alloc_noncoherent(l: lab, len: number, dir: number): { cpu: number; dma: number } {
  const h = out(0);
  const cpu = dma_alloc_noncoherent(l.pdev.dev, len, h, dir, GFP_KERNEL);
  return { cpu, dma: h.value };
}
export function lab_free_noncoherent(l: lab, len: number, c: { cpu: number; dma: number }, dir: number): void {
  dma_free_noncoherent(l.pdev.dev, len, c.cpu, c.dma, dir);
}

const lab_lock = DEFINE_SPINLOCK('lab_lock');

/** dma_free_coherent() under a spinlock taken with spin_lock_irqsave() (interrupts off). */
export function lab_free_coherent_locked(l: lab, len: number, c: { cpu: number; dma: number }): void {
  const flags = spin_lock_irqsave(lab_lock);
  dma_free_coherent(l.pdev.dev, len, c.cpu, c.dma);
  spin_unlock_irqrestore(lab_lock, flags);
}
/** A helper that takes the lock its caller already holds (the bug), or is called after the unlock (`right`). */
export function lab_lock_nested(right: boolean): void {
  const lock = DEFINE_SPINLOCK('lab_lock'); // its own, so a machine that died holding it leaves the next one free
  spin_lock(lock);
  if (right) spin_unlock(lock);
  spin_lock(lock);
  spin_unlock(lock);
}
/** The same with a mutex: mutexes do not nest either. */
export function lab_mutex_nested(right: boolean): void {
  const lab_mutex = DEFINE_MUTEX('lab_mutex');
  mutex_lock(lab_mutex);
  if (right) mutex_unlock(lab_mutex);
  mutex_lock(lab_mutex);
  mutex_unlock(lab_mutex);
}
/** dmam_free_coherent() of a buffer dma_alloc_coherent() (unmanaged) gave. */
export function lab_dmam_free(l: lab, len: number, c: { cpu: number; dma: number }): void {
  dmam_free_coherent(l.pdev.dev, len, c.cpu, c.dma);
}
/** kmalloc(GFP_KERNEL), which may sleep, under a spinlock; returns the buffer. */
export function lab_alloc_locked(len: number): number {
  spin_lock(lab_lock);
  const p = kmalloc(len, GFP_KERNEL);
  spin_unlock(lab_lock);
  return p;
}
/** dma_map_resource + dma_mapping_error; returns the handle or 0 on error. */
export function lab_map_resource(l: lab, phys: number, len: number, dir: number): number {
  const h = dma_map_resource(l.pdev.dev, phys, len, dir, 0);
  if (dma_mapping_error(l.pdev.dev, h)) return 0;
  return h;
}
export function lab_unmap_resource(l: lab, h: number, len: number, dir: number): void {
  dma_unmap_resource(l.pdev.dev, h, len, dir, 0);
}
/** pci_request_regions() a second time, as a second driver for the same device would. */
export function lab_request_regions_again(l: lab): number {
  return pci_request_regions(l.pdev, 'edu_lab');
}
/** pci_disable_device(), as remove does. */
export function lab_disable(l: lab): void {
  pci_disable_device(l.pdev);
}
/** pci_clear_master(), as remove does. */
export function lab_clear_master(l: lab): void {
  pci_clear_master(l.pdev);
}
/** A 16-bit write to the liveness register (edu takes 32-bit accesses there only). */
export function lab_writew_liveness(l: lab, v: number): void {
  writew(v, l.bar + 0x04);
}
/** Map `bufs` (each len bytes) as one scatterlist; returns the list and dma_map_sg's count. */
export function lab_map_sg(l: lab, bufs: number[], len: number, dir: number): { sgl: scatterlist[]; count: number } {
  const sgl = sg_array(bufs.length);
  sg_init_table(sgl, bufs.length);
  bufs.forEach((b, i) => sg_set_buf(sgl[i]!, b, len));
  const count = dma_map_sg(l.pdev.dev, sgl, bufs.length, dir);
  return { sgl, count };
}
export function lab_unmap_sg(l: lab, sgl: scatterlist[], nents: number, dir: number): void {
  dma_unmap_sg(l.pdev.dev, sgl, nents, dir);
}
export function lab_sync_sg_cpu(l: lab, sgl: scatterlist[], nents: number, dir: number): void {
  dma_sync_sg_for_cpu(l.pdev.dev, sgl, nents, dir);
}
export function lab_sync_sg_dev(l: lab, sgl: scatterlist[], nents: number, dir: number): void {
  dma_sync_sg_for_device(l.pdev.dev, sgl, nents, dir);
}
export function lab_sg_segs(sgl: scatterlist[], count: number): { dma: number; len: number }[] {
  const out: { dma: number; len: number }[] = [];
  for (let i = 0; i < count; i++) out.push({ dma: sg_dma_address(sgl[i]!), len: sg_dma_len(sgl[i]!) });
  return out;
}

/** Program a transfer and return at once: `to_ram` = edu writes RAM at bus address `bus`. */
export function lab_start(l: lab, bus: number, len: number, to_ram: boolean, irq = false): void {
  writeq(to_ram ? EDU_BUF : bus, l.bar + EDU_DMA_SRC);
  writeq(to_ram ? bus : EDU_BUF, l.bar + EDU_DMA_DST);
  writeq(len, l.bar + EDU_DMA_CNT);
  if (irq) reinit_completion(l.done);
  writeq(CMD_RUN | (to_ram ? CMD_TO_RAM : 0) | (irq ? CMD_IRQ : 0), l.bar + EDU_DMA_CMD);
}
/** Poll the command register until the transfer is done (msleep between reads). */
export function lab_wait(l: lab): number {
  for (let i = 0; i < 50; i++) {
    if (!(readq(l.bar + EDU_DMA_CMD) & CMD_RUN)) return 0;
    msleep(10);
  }
  return -ETIMEDOUT;
}
/** Wait for the completion the interrupt handler signals. */
export function lab_wait_irq(l: lab): number {
  return wait_for_completion_timeout(l.done, msecs_to_jiffies(1000)) ? 0 : -ETIMEDOUT;
}
/** A whole transfer, polled. */
export function lab_xfer(l: lab, bus: number, len: number, to_ram: boolean): number {
  lab_start(l, bus, len, to_ram);
  return lab_wait(l);
}

/** A correct receive: map, device writes, unmap, read. */
export function lab_rx(l: lab, buf: number, len: number): number {
  const dev = l.pdev.dev;
  const h = dma_map_single(dev, buf, len, DMA_FROM_DEVICE);
  if (dma_mapping_error(dev, h)) return -ENOMEM;
  lab_start(l, h, len, true);
  const ret = lab_wait(l);
  dma_unmap_single(dev, h, len, DMA_FROM_DEVICE);
  return ret;
}

/** Map buffers of len bytes until one fails (checking each); unmap them all again. Returns how
 *  many mapped, and whether the last failed. */
export function lab_map_until_full(l: lab, bufs: number[], len: number, dir: number): { mapped: number; failed: boolean } {
  const dev = l.pdev.dev;
  const handles: number[] = [];
  let failed = false;
  for (const b of bufs) {
    const h = dma_map_single(dev, b, len, dir);
    if (dma_mapping_error(dev, h)) { failed = true; break; }
    handles.push(h);
  }
  handles.forEach((h) => dma_unmap_single(dev, h, len, dir));
  return { mapped: handles.length, failed };
}

export function lab_pool_create(l: lab, size: number): dma_pool | null {
  return dma_pool_create('edu_lab_desc', l.pdev.dev, size, 64, 0);
}
export function lab_pool_alloc(pool: dma_pool): { cpu: number; dma: number } {
  const h = out(0);
  const cpu = dma_pool_alloc(pool, GFP_KERNEL, h);
  return { cpu, dma: h.value };
}
export function lab_pool_free(pool: dma_pool, cpu: number, dma: number): void {
  dma_pool_free(pool, cpu, dma);
}
export function lab_pool_destroy(pool: dma_pool): void {
  dma_pool_destroy(pool);
}

/** edu's identification register (0x010000ed). */
export function lab_read_id(l: lab): number {
  return readl(l.bar + 0x00);
}
/** Make edu raise an interrupt (the interrupt-raise register). */
export function lab_raise(l: lab, bits: number): void {
  writel(bits, l.bar + 0x60);
}

/** A static buffer in the driver image (the wrong memory for DMA). */
const lab_static = DEFINE_STATIC_BUFFER(256);
export function lab_static_addr(): number {
  return lab_static.addr;
}

/** Spin until the liveness register reads a value it never will (a driver hang). */
export function lab_spin_forever(l: lab): number {
  let n = 0;
  while (readl(l.bar + 0x04) !== 0x12345678) n++;
  return n;
}
/** Spin with a 1 ms udelay between reads, until status bit 0 (computing) rises: it never does. */
export function lab_spin_udelay(l: lab): number {
  let n = 0;
  while (!(readl(l.bar + EDU_STATUS) & 1)) {
    udelay(1000);
    n++;
  }
  return n;
}
/** Wait, without a timeout, for a completion nobody will signal (no transfer was started). */
export function lab_wait_forever(l: lab): void {
  wait_for_completion(l.done);
}
/** Busy-wait on the completion the interrupt handler signals (no sleeping, no register reads). */
export function lab_poll_done(l: lab): number {
  let n = 0;
  while (!completion_done(l.done)) n++;
  return n;
}
/** Busy-wait until a deadline in jiffies passes, touching nothing else. */
export function lab_poll_jiffies(ms: number): number {
  const end = jiffies + msecs_to_jiffies(ms);
  let n = 0;
  while (time_before(jiffies, end)) n++;
  return n;
}
/** An ordinary crash in driver code. */
export function lab_crash(l: lab): number {
  const p = (l as unknown as { missing?: { field: number } }).missing!;
  return p.field;
}

/** Program edu's DMA count: through the BAR (right), or through the driver's state object by
 *  mistake (`edu + REG` with `edu` the struct, not its `bar`), as a C compiler would refuse. */
export function lab_set_count(l: lab, len: number, through_object = false): void {
  const edu = through_object ? (l as unknown as number) : l.bar;
  writeq(len, edu + EDU_DMA_CNT);
}

export { ENOMEM, EIO, ETIMEDOUT, DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL };

// ---- a driver for the interrupt generator sharing edu's line (sim/hw/irqgen.ts) -------------

interface gen { pdev: pci_dev; bar: iomem; irqs: number }

function gen_irq(_irq: number, g: gen): number {
  if (!readl(g.bar)) return IRQ_NONE;
  writel(0, g.bar);
  g.irqs++;
  return IRQ_HANDLED;
}

function gen_probe(pdev: pci_dev): number {
  const g: gen = { pdev, bar: 0, irqs: 0 };
  let ret = pci_enable_device(pdev);
  if (ret) return ret;
  g.bar = pci_iomap(pdev, 0, 0);
  if (!g.bar) {
    pci_disable_device(pdev);
    return -ENOMEM;
  }
  ret = request_irq(pdev.irq, gen_irq, IRQF_SHARED, 'irqgen', g);
  if (ret) {
    pci_iounmap(pdev, g.bar);
    pci_disable_device(pdev);
    return ret;
  }
  pci_set_drvdata(pdev, g);
  return 0;
}

function gen_remove(pdev: pci_dev): void {
  const g = pci_get_drvdata<gen>(pdev);
  free_irq(pdev.irq, g);
  pci_iounmap(pdev, g.bar);
  pci_disable_device(pdev);
}

export function gen_driver(): pci_driver {
  return { name: 'irqgen', id_table: [PCI_DEVICE(0x1b36, 0x0005)], probe: gen_probe, remove: gen_remove };
}
export function gen_irqs(pdev: pci_dev): number {
  return pci_get_drvdata<gen>(pdev).irqs;
}
