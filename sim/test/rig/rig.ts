// Shared by the kernel-rig tests: run a ported rig driver on a machine shape and put the sim's
// dmesg and the real kernel's (tools/kernel-rig-cases/<case>/<case>[-suffix].txt, measured on
// Linux 6.1) through the same filter, so the two can be compared line for line.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { machine, plug_edu, bind, unbind, dmesg, M, type MachineOptions, type ShapeName, type pci_driver, type Machine, type Code } from '../../testing/index.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const CASES = path.join(ROOT, 'tools/kernel-rig-cases');

/** The lines a rig extract and the sim's dmesg are compared on: what the driver printed, every
 *  kernel message line and WARNING location, the DMAR fault records. Not the body of a WARN
 *  (registers, modules, call trace) nor stack frames, which the sim models differently. */
const KEEP = /^(------------\[ cut here \]|WARNING: CPU: |DMA-API: |One of leaked entries|DMAR: (DRHD|\[)|Trying to |BUG |FIX |[a-z_0-9]+ 0000:00:03\.0: )/;

export interface Norm {
  /** Mask DMA (bus) addresses: physical ones change from boot to boot; IOVAs do not. */
  dma: 'keep' | 'mask';
}

/** Blank out what legitimately differs: PIDs, CPU-side addresses, and (optionally) DMA ones. */
export function normalise(lines: string[], n: Norm): string[] {
  return lines.map((l) => {
    l = l.replace(/PID: \d+/g, 'PID: N')
      // %px / %p pointers and the CPU-side physical addresses the drivers and C-U5 print
      .replace(/\(____ptrval____\)/g, 'PTR')
      .replace(/(^|[^x0-9a-f])[0-9a-f]{16}\b/g, '$1PTR')
      .replace(/(cpu alloc address=|cpu free address=|phys[= ]|block phys=)0x[0-9a-f]{16}/g, '$1PHYS')
      // dma-direct's overflow line: the page above the mask is wherever the allocator put it
      .replace(/DMA addr 0x[0-9a-f]{16}/g, 'DMA addr PHYS')
      // the cache-line number of "exceeded 7 overlapping mappings" is a physical address >> 6
      .replace(/mappings of cacheline 0x[0-9a-f]{16}/, 'mappings of cacheline N');
    // what is left in 0x%016llx form is a DMA address (or a small value such as a boundary)
    if (n.dma === 'mask') l = l.replace(/0x[0-9a-f]{16}/g, (x) => (x === '0xffffffffffffffff' || Number(x) < 0x100000 ? x : 'DMA'));
    return l;
  });
}

/** The comparable lines of a dmesg (sim) or rig extract (kernel). pci_enable_device()'s
 *  "enabling device (0000 -> 0002)" is left out: on the rig's q35 the firmware had already
 *  turned memory decoding on, so the kernel never printed it; the sim's edu starts disabled. */
export function rig_lines(lines: string[]): string[] {
  return lines.filter((l) => KEEP.test(l) && !/: enabling device \(/.test(l));
}

export interface Measured { lines: string[]; error_count: number }

/** A rig extract (e.g. 'unmap-errors/unmap-errors-iommu.txt'): its comparable lines, and the
 *  dma-debug error_count the rig's /init read at the end. */
export function measured(file: string): Measured {
  const text = fs.readFileSync(path.join(CASES, file), 'utf8').split('\n');
  const m = text.map((l) => /^RIG: dma-api error_count=(\d+)/.exec(l)).find((x) => x);
  return { lines: rig_lines(text), error_count: m ? Number(m[1]) : NaN };
}

export interface RigRun { m: Machine; ret: number; lines: string[]; all: string[] }

/** Plug edu, bind the ported driver (its probe is the rig's insmod), unbind (rmmod). */
export function run_rig(drv: pci_driver, shape: ShapeName, opts: MachineOptions = {}, seed = 1): RigRun {
  const m = machine({ shape, seed, ...opts });
  const { pdev } = plug_edu();
  const from = dmesg().length;
  const ret = bind(drv, pdev);
  if (ret === 0) unbind(pdev);
  const all = dmesg().slice(from);
  return { m, ret, all, lines: rig_lines(all) };
}

export interface Also {
  /** Applied to both sides after normalise(). */
  map?: (l: string) => string;
}

/** Run `drv` on `shape` and expect the kernel's lines (rig extract `file`), normalised, and its
 *  dma-debug error_count. Returns the run for further checks. */
export function expect_kernel_lines(file: string, drv: pci_driver, shape: ShapeName, opts: MachineOptions = {},
  n: Norm = { dma: shape === 'x86-iommu' ? 'keep' : 'mask' }, o: Also = {}): RigRun {
  const k = measured(file);
  const r = run_rig(drv, shape, opts);
  const map = o.map ?? ((l: string) => l);
  const sim = r.lines;
  expect(normalise(sim, n).map(map)).toEqual(normalise(k.lines, n).map(map));
  if (!Number.isNaN(k.error_count)) expect(r.m.diag.dma_error_count).toBe(k.error_count);
  return r;
}

/** The codes the kernel itself would report (dma-debug and elsewhere), each once, in order:
 *  dmalab's own findings (a kmemleak-like leak list, ...) left out. */
export function kernel_codes(): Code[] {
  return [...new Set(M.diag.list.filter((d) => d.origin !== 'dmalab').map((d) => d.code))];
}

export { M };
