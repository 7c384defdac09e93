// A second, trivial PCI device for tests: it pulls its INTx line when told to, so a test can
// put another device's interrupts on the line a driver shares (IRQF_SHARED) and see whose
// handler claims what.
//
// BAR 0, 4 KiB:
//   0x00  RW  line: write 1 to assert INTx, 0 to release; reads back the level
import type { BarModel, PciFn, PciModel } from './pci.ts';

export class IrqGen implements PciModel {
  readonly name = 'irqgen';
  readonly vendor = 0x1b36;
  readonly device = 0x0005;
  readonly revision = 0;
  readonly class_code = 0x00ff00;
  readonly msi_vectors = 0;
  readonly bars: BarModel[];
  fn!: PciFn;
  private level = false;

  constructor() {
    this.bars = [{ size: 4096, read: (o) => (o === 0 ? Number(this.level) : 0xffffffff), write: (o, _s, v) => { if (o === 0) this.set(v !== 0); } }];
  }
  attach(fn: PciFn): void {
    this.fn = fn;
  }
  set(level: boolean): void {
    this.level = level;
    this.fn.set_irq(level);
  }
  asserting(): boolean {
    return this.level;
  }
}
