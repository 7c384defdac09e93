// Exercise 12's duart driven from a hidden test: a send and a receive, each checked against what
// the far end of the line heard or said. Exercise 12 grades the learner's duart on the bundled
// controller; exercise 14 runs 12's solution on the learner's controller.
import { pattern, fill, read, run_for_ms, dmesg, type platform_device, type Uart } from '#sim/testing';
import { kmalloc, kfree, GFP_KERNEL } from '#sim';
import { call } from './platform.ts';
import type { Run } from './harness.ts';

/** What a duart driver file exports that these calls use (its `struct duart`, opaque here). */
export interface DuartDriver<U> {
  duart_write(u: U, buf: number, len: number): number;
  duart_read(u: U, buf: number, len: number, timeout_ms: number): number;
}

/** A bound duart: its platform device, the UART model behind it and the driver's state. */
export interface DuartRig<U> { pdev: platform_device; uart: Uart; u: U }

/** How long `n` characters take on the line, in ms. */
export const char_ms = (x: DuartRig<unknown>, n: number) => (n * x.uart.char_ns()) / 1e6;

/** duart_write of a pattern, then the line's time: the far end must have heard exactly it.
 *  `mapped`: how many buffers are still mapped for the controller (0 once the call returned). */
export function duart_send<U>(r: Run, x: DuartRig<U>, drv: DuartDriver<U>, len: number, seed: number, mapped?: () => number): boolean {
  const buf = kmalloc(len, GFP_KERNEL);
  const data = pattern(len, seed);
  fill(buf, data);
  const heard = x.uart.remote.heard.length;
  const what = `duart_write(u, buf, ${len})`;
  const ret = call(r, x.pdev, what, () => drv.duart_write(x.u, buf, len));
  run_for_ms(char_ms(x, len) + 2);
  let ok = r.expect_result(what, ret, len);
  ok &&= r.expect_bytes(`what the far end heard after ${what}`, Uint8Array.from(x.uart.remote.heard.slice(heard)), data);
  if (mapped?.()) {
    r.finding('WRONG_RESULT', `${what} returned with the buffer still mapped for the controller`);
    ok = false;
  }
  kfree(buf);
  return ok;
}

/** The far end sends `len` characters 1 ms from now; duart_read into a `buf_len` buffer must
 *  return exactly them (as many as fit). */
export function duart_receive<U>(r: Run, x: DuartRig<U>, drv: DuartDriver<U>, len: number, seed: number,
  o: { buf_len?: number; timeout_ms?: number; mapped?: () => number } = {}): boolean {
  const buf_len = o.buf_len ?? 4096, timeout_ms = Math.round(o.timeout_ms ?? 50 + char_ms(x, len));
  const buf = kmalloc(buf_len, GFP_KERNEL);
  fill(buf, new Uint8Array(buf_len));
  const data = pattern(len, seed);
  x.uart.remote.send(data, 1e6);
  const what = `duart_read(u, buf, ${buf_len}, ${timeout_ms}) of a ${len}-character message`;
  const ret = call(r, x.pdev, what, () => drv.duart_read(x.u, buf, buf_len, timeout_ms));
  let ok = r.expect_result(what, ret, Math.min(len, buf_len));
  if (typeof ret === 'number' && ret > 0) ok = r.expect_bytes(`the characters ${what} returned`, read(buf, Math.min(ret, len)), data.subarray(0, Math.min(ret, len))) && ok;
  if (o.mapped?.()) {
    r.finding('WRONG_RESULT', `${what} returned with the buffer still mapped for the controller`);
    ok = false;
  }
  kfree(buf);
  return ok;
}

/** What the line itself says went wrong: RX FIFO overruns, and the UART's complaints about a DR
 *  access the FIFO levels did not allow. */
export function duart_line_checks(r: Run, x: DuartRig<unknown>): void {
  if (x.uart.overruns) r.finding('DATA_MISMATCH', `the UART's RX FIFO overran ${x.uart.overruns} times: characters were lost`);
  const bad = dmesg().find((l) => /dmalab: .*(DR read with the RX FIFO empty|DR written with the TX FIFO full)/.test(l));
  if (bad) r.finding('DATA_MISMATCH', `the UART said: "${bad}"`);
}
