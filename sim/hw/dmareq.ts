// A peripheral's DMA request output (AMBA's DMACBREQ and friends): a wire from the peripheral
// to one request line of a DMA controller. The peripheral drives its level; the machine
// description (sim/testing's plug helpers) connects it to the line its "dmas" entry names, so
// the wiring and the device tree cannot disagree. Unconnected, it drives nothing.

/** Whatever takes request lines: a DMA controller (sim/hw/dmac.ts's Dmac.request). */
export interface DmaRequestSink {
  request(line: number, on: boolean): void;
}

export class DmaRequest {
  private to: DmaRequestSink | null = null;
  private line = -1;
  private level = false;

  /** Connect the output to `to`'s request line `line` (it takes the current level at once). */
  wire(to: DmaRequestSink, line: number): void {
    if (this.to && this.level) this.to.request(this.line, false);
    this.to = to;
    this.line = line;
    if (this.level) to.request(line, true);
  }

  /** Drive the level; the controller hears only changes. */
  set(on: boolean): void {
    if (on === this.level) return;
    this.level = on;
    this.to?.request(this.line, on);
  }

  get asserted(): boolean {
    return this.level;
  }
  get wired(): boolean {
    return this.to !== null;
  }
}

/** A platform model with DMA request outputs, by the names its binding gives them in
 *  "dma-names" ('rx', 'tx'). */
export interface DmaRequester {
  readonly dma_requests: Readonly<Record<string, DmaRequest>>;
}
