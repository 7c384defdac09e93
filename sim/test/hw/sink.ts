// A test-only peripheral for the DMA controller's slave flows: a 32-bit FIFO register at 0x0
// whose request line is always asserted (it drains and fills instantly), recording the words
// written and answering reads with a counter.
import type { PlatformModel, PlatformNodeHw } from '../../hw/platform.ts';
import type { MmioRegion } from '../../hw/bus.ts';
import type { Dmac } from '../../hw/dmac.ts';

export class Sink implements PlatformModel {
  readonly name = 'serial';
  readonly compatible = ['dmalab,fifo-client'];
  readonly regions: (MmioRegion & { size: number })[];
  readonly irqs = 0;
  /** Bytes written to the FIFO, in order. */
  readonly got: number[] = [];
  private next = 0;
  node!: PlatformNodeHw;

  constructor(dmac: Dmac, line: number) {
    this.regions = [{ size: 0x1000, read: (off, size) => this.read(off, size), write: (off, size, v) => this.write(off, size, v) }];
    dmac.request(line, true);
  }
  attach(node: PlatformNodeHw): void {
    this.node = node;
  }
  private read(off: number, size: number): number {
    if (off !== 0) return 0;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + ((this.next + i) & 0xff);
    this.next += size;
    return v;
  }
  private write(off: number, size: number, v: number): void {
    if (off !== 0) return;
    for (let i = 0; i < size; i++) { this.got.push(v & 0xff); v = Math.floor(v / 256); }
  }
}
