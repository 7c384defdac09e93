// A test-only PCI function for the weak-ordering model (sim/mm/order.ts): a doorbell that makes
// it read 16 bytes of memory at once (as a NIC fetches a descriptor on a tail write), and a
// register that makes it write 16 bytes (a descriptor write-back). Its step, when armed, does
// one write-back during a CPU load, as a device running concurrently would.
//
// BAR 0, 4 KiB: 0x00 ADDR_LO, 0x04 ADDR_HI (bus address), 0x08 DOORBELL (read 16 bytes into
// `fetched`), 0x0c WRITEBACK (write `writeback` at ADDR).
import { M } from '../../kernel/machine.ts';
import type { BarModel, PciFn, PciModel } from '../../hw/pci.ts';

export class Poller implements PciModel {
  readonly name = 'poller';
  readonly vendor = 0x1b36;
  readonly device = 0x0006;
  readonly revision = 0;
  readonly class_code = 0x00ff00;
  readonly msi_vectors = 0;
  readonly bars: BarModel[];
  fn!: PciFn;
  addr = 0;
  fetched: Uint8Array[] = [];
  writeback = new Uint8Array(16);
  /** Write-backs the step may do during CPU loads (each once). */
  armed = 0;
  private readonly stepper = () => { if (this.armed > 0) { this.armed--; this.write_back(); } };

  constructor() {
    this.bars = [{ size: 4096, read: () => 0, write: (o, _s, v) => this.write(o, v) }];
  }
  attach(fn: PciFn): void {
    this.fn = fn;
    M.order?.add_step(this.stepper);
  }
  private write(off: number, v: number): void {
    if (off === 0x00) this.addr = Math.floor(this.addr / 2 ** 32) * 2 ** 32 + v;
    else if (off === 0x04) this.addr = v * 2 ** 32 + this.addr % 2 ** 32;
    else if (off === 0x08) {
      this.fn.dma_site = this.fn.last_write_site;
      const b = new Uint8Array(16);
      this.fn.dma_read(this.addr, b, 0, 16);
      this.fetched.push(b);
    } else if (off === 0x0c) this.write_back();
  }
  write_back(): void {
    this.fn.dma_write(this.addr, this.writeback, 0, 16);
  }
}
