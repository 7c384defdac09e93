// Fault injection, like the kernel's fault-injection framework and fail-nth: every call that
// can fail (allocations, mappings, resource requests) is an injection point. A test counts the
// points a probe passes, then fails each in turn to prove every error path unwinds.
import type { Site } from './site.ts';

export type FaultKind = 'kmalloc' | 'alloc_pages' | 'vmalloc' | 'dma_map' | 'dma_alloc' |
  'dma_pool' | 'dma_set_mask' | 'request_irq' | 'irq_vectors' | 'pci_enable_device' |
  'pci_request_regions' | 'pci_iomap' | 'ioremap' | 'sg_alloc_table' | 'devm' | 'dma_chan';

export interface FaultPoint { n: number; kind: FaultKind; site: Site }

export class Faults {
  /** Injection points passed so far. */
  count = 0;
  /** Fail the point with this number (1-based); 0 = none. */
  fail_nth = 0;
  /** Only these kinds count as injection points (null = all). */
  only: Set<FaultKind> | null = null;
  /** Fail every point of these kinds (e.g. make every dma_map fail). */
  always = new Set<FaultKind>();
  /** Record of the points passed (for a sweep, and to say which one failed). */
  readonly points: FaultPoint[] = [];
  /** The point that was made to fail, if any. */
  injected: FaultPoint | null = null;
  /** Limit every IOMMU domain to this many IOVA pages (0 = no limit): exhaust IOVA space. */
  iova_pages = 0;
  /** Lose the next n interrupts (each delivery attempt drops one, as a lost MSI would). */
  drop_irqs = 0;
  /** Deliver interrupts this many ns late. */
  delay_irqs_ns = 0;

  /** Should this call fail? Called once per injection point. */
  should_fail(kind: FaultKind, site: Site): boolean {
    if (this.always.has(kind)) return true;
    if (this.only && !this.only.has(kind)) return false;
    const n = ++this.count;
    if (this.points.length < 10000) this.points.push({ n, kind, site });
    if (n === this.fail_nth) {
      this.injected = { n, kind, site };
      return true;
    }
    return false;
  }
}
