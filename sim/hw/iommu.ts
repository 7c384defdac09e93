// IOMMU hardware (an Intel VT-d remapping unit or an ARM SMMU): per-device I/O page tables of
// 4 KiB pages with read/write permission, and faults logged in the real drivers' formats
// (drivers/iommu/intel/dmar.c dmar_fault_do_one, drivers/iommu/arm/arm-smmu/arm-smmu.c).
import { M } from '../kernel/machine.ts';
import { IntMap } from '../lib/hashtab.ts';
import { T } from '../kernel/trace.ts';
import type { device } from '../base/device.ts';
import type { Site } from '../kernel/site.ts';
import { Ratelimit } from '../lib/ratelimit.ts';

export const IOMMU_READ = 1, IOMMU_WRITE = 2;
const PG = 4096;

export class IommuHw {
  private tables = new Map<number, IntMap>();
  faults = 0;

  private fault_rs: Ratelimit;

  constructor(readonly kind: 'intel' | 'smmu') {
    this.fault_rs = new Ratelimit(kind === 'intel' ? 'dmar_fault' : 'arm_smmu_context_fault');
  }

  private table(dev: device): IntMap {
    let t = this.tables.get(dev.id);
    if (!t) {
      t = new IntMap(256);
      this.tables.set(dev.id, t);
    }
    return t;
  }

  /** Map [iova, iova+size) to [phys, ...) with prot; page aligned. */
  map(dev: device, iova: number, phys: number, size: number, prot: number): void {
    const t = this.table(dev);
    for (let o = 0; o < size; o += PG) t.set((iova + o) / PG, ((phys + o) / PG) * 4 + prot);
    M.trace.emit(M.clock.now, T.iommu_map, dev.id, iova, size, phys);
  }

  unmap(dev: device, iova: number, size: number): void {
    const t = this.table(dev);
    for (let o = 0; o < size; o += PG) t.delete((iova + o) / PG);
    M.trace.emit(M.clock.now, T.iommu_unmap, dev.id, iova, size);
  }

  /** Physical page of iova's page, or -1 (no fault reported). */
  lookup(dev: device, iova: number): { phys: number; prot: number } | null {
    const v = this.table(dev).get(Math.floor(iova / PG), -1);
    return v < 0 ? null : { phys: Math.floor(v / 4) * PG + (iova % PG), prot: v & 3 };
  }

  /** Translate one access (within a page); -1 after reporting a fault. */
  translate(dev: device, iova: number, write: boolean, bdf: string, devfn: number, started: Site): number {
    const m = this.lookup(dev, iova);
    if (m && m.prot & (write ? IOMMU_WRITE : IOMMU_READ)) return m.phys;
    this.fault(dev, iova, write, !!m, bdf, devfn, started);
    return -1;
  }

  private fault(dev: device, iova: number, write: boolean, present: boolean, bdf: string, devfn: number, started: Site): void {
    this.faults++;
    M.trace.emit(M.clock.now, T.iommu_fault, dev.id, iova, write ? 1 : 0);
    const page = Math.floor(iova / PG) * PG;
    let lines: string[];
    if (this.kind === 'intel') {
      const reason = write ? 0x05 : 0x06;
      lines = [
        `DMAR: DRHD: handling fault status reg 2`,
        `DMAR: [${write ? 'DMA Write' : 'DMA Read'} NO_PASID] Request device [${bdf}] fault addr 0x${page.toString(16)} [fault reason 0x${reason.toString(16).padStart(2, '0')}] ${write ? 'PTE Write access is not set' : 'PTE Read access is not set'}`,
      ];
    } else {
      lines = [
        `arm-smmu 9000000.iommu: Unhandled context fault: fsr=0x${present ? '408' : '402'}, iova=0x${iova.toString(16).padStart(8, '0')}, fsynr=0x${(write ? 0x10 : 0).toString(16)}, cbfrsynra=0x${devfn.toString(16)}, cb=0`,
      ];
    }
    // Every fault is reported (pr_err from the fault interrupt, before the driver's next line),
    // both lines under one rate limit: 10 per 5 s (dmar_fault() in drivers/iommu/intel/dmar.c,
    // arm_smmu_context_fault() in drivers/iommu/arm/arm-smmu/arm-smmu.c).
    if (!this.fault_rs.ok()) return;
    M.diag.report('IOMMU_FAULT', lines, { sites: [['Transfer started at', started]], distinct: true });
  }

}
