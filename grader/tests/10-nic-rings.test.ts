// Hidden tests of exercise 10 (nic-rings): the 82540EM subset with a scripted link partner. Every
// frame the peer receives is compared with what nic_xmit() was given, every frame nic_receive()
// returns with what the peer sent, in order; on the arm64 shapes the store buffer and the early
// loads of sim/mm/order.ts are on, so a missing or misplaced barrier costs what it costs on
// hardware. Also: a full TX ring, an RX ring run dry, mapping failures on both paths, a fail-nth
// sweep over probe, and unbind with traffic in flight both ways.
import { describe, test } from 'vitest';
import { load_driver, test_seed } from '../lib/target.ts';
import { run, probe_fault_sweep, errno_str, type Run } from './lib/harness.ts';
import { M, pattern, fill, plug_e1000, run_for_ms } from '#sim/testing';
import type { pci_dev, ShapeName, E1000, NetPeer } from '#sim/testing';
import { kmalloc, kfree, GFP_KERNEL, disable_irq, enable_irq } from '#sim';
import type * as Solution from '../../solutions/10-nic-rings/driver.ts';

const drv = await load_driver<typeof Solution>('10-nic-rings');
const L = 'lessons/10-nic-rings.md';
const ALL: ShapeName[] = ['x86', 'x86-iommu', 'x86-swiotlb', 'arm64', 'arm64-smmu'];
const RING = 256, RX_RING = 64, COPYBREAK = 256, MIN_FRAME = 60, MAX_FRAME = 1514, CHIP_FIFO = 16;
const EBUSY = -16, ENOMEM = -12;
/** Frames each way in the traffic test. */
const TRAFFIC = 300;

interface Nic { pdev: pci_dev; hw: E1000; peer: NetPeer; nic: Solution.nic_dev }

/** Bind to a fresh 82540EM and return what the tests need. */
function setup(r: Run): Nic | null {
  const { pdev, nic: hw, peer } = plug_e1000();
  r.bind_ok(drv.nic_driver, pdev);
  const nic = pdev.dev.driver_data as Solution.nic_dev | null;
  if (!nic) {
    r.finding('WRONG_RESULT', 'probe succeeded but did not keep its nic_dev with pci_set_drvdata(pdev, nic)');
    return null;
  }
  return { pdev, hw, peer, nic };
}

// Every frame carries its direction and number at bytes 14..18 (after the Ethernet header), so a
// wrong frame says whose bytes it holds.
const TX_MARK = 0x54, RX_MARK = 0x52;   // 'T', 'R'

function make_frame(mark: number, i: number, len: number, seed: number): Uint8Array {
  const f = pattern(len, seed * 7919 + i * 31 + mark);
  f[14] = mark;
  new DataView(f.buffer).setUint32(15, i, true);
  return f;
}
function frame_id(f: Uint8Array): { mark: number; i: number } | null {
  if (f.length < 19 || (f[14] !== TX_MARK && f[14] !== RX_MARK)) return null;
  return { mark: f[14]!, i: new DataView(f.buffer, f.byteOffset).getUint32(15, true) };
}

/** Seeded frame sizes, MIN_FRAME..MAX_FRAME, about a third at or under the copybreak. */
function sizes(n: number, seed: number): number[] {
  let x = seed >>> 0;
  const next = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
  return Array.from({ length: n }, () =>
    next() % 3 === 0 ? MIN_FRAME + (next() % (COPYBREAK - MIN_FRAME + 1)) : COPYBREAK + 1 + (next() % (MAX_FRAME - COPYBREAK)));
}

/** Byte for byte (Buffer.compare: the test compares 3000 frames a run, and a closure per byte costs). */
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

/** Why frame `got` is not `want`, in the terms of the ring: whose bytes it holds, or how it
 *  differs. `where` names the frame; `dir` says which ring moved it. */
function explain(got: Uint8Array, want: Uint8Array, where: string, dir: 'tx' | 'rx', list: Uint8Array[]): string {
  const id = frame_id(got);
  const ring = dir === 'tx' ? 'TX' : 'RX';
  if (id && id.mark === want[14] && id.i !== frame_id(want)!.i) {
    const other = list[id.i];
    const whole = other && same(got, other);
    return `${where} holds ${whole ? '' : 'part of '}frame ${id.i}'s bytes (${got.length} bytes, expected frame ${frame_id(want)!.i} of ${want.length}): ` +
      (dir === 'tx'
        ? `the chip read a stale ${ring} descriptor (${id.i % RING === frame_id(want)!.i % RING ? 'the same descriptor one lap earlier' : 'an old buffer_addr'}), or a buffer was reused before its DD`
        : 'a frame delivered twice or out of order: a stale DD, or a descriptor the driver took back before the chip wrote it');
  }
  if (got.length !== want.length) {
    const prefix = got.length < want.length && same(got, want.subarray(0, got.length));
    return `${where} is ${got.length} bytes, expected ${want.length}${prefix ? ' (its first bytes are right: the length was stale)' : ''}: ` +
      (dir === 'tx' ? `the chip used a stale length from the ${ring} descriptor` : 'the length read from the RX descriptor was not the one the chip wrote back with DD');
  }
  let n = 0, first = -1;
  for (let k = 0; k < want.length; k++) if (got[k] !== want[k]) { if (first < 0) first = k; n++; }
  return `${where}: ${n} of ${want.length} bytes differ (first at offset ${first}): ` +
    (dir === 'tx' ? 'the chip sent bytes that were not the packet\'s' : 'the CPU read the RX buffer before the bytes the chip wrote were visible to it (a sync missing?)');
}

/** Check what the peer received against what nic_xmit() accepted. */
function check_tx(r: Run, peer: NetPeer, sent: Uint8Array[]): boolean {
  const got = peer.received;
  for (let i = 0; i < Math.min(got.length, sent.length); i++) {
    if (same(got[i]!, sent[i]!)) continue;
    r.finding('DATA_MISMATCH', explain(got[i]!, sent[i]!, `frame ${i} on the wire (TX descriptor ${i % RING})`, 'tx', sent));
    r.data.push(`the peer's frame ${i}: expected nic_xmit()'s packet ${i}`);
    return false;
  }
  if (got.length !== sent.length) {
    r.finding(got.length < sent.length ? 'WRONG_RESULT' : 'DATA_MISMATCH',
      `the peer received ${got.length} frames; nic_xmit() accepted ${sent.length}` +
      (got.length < sent.length ? ': packets the driver queued never went out (a descriptor without EOP/RS, a tail not written, a ring that stopped)' : ': some went out twice'));
    return false;
  }
  return true;
}

/** Check what nic_receive() returned against the frames the peer sent (`expect`: those that
 *  were not dropped, in order). */
function check_rx(r: Run, got: Uint8Array[], expect: Uint8Array[]): boolean {
  for (let i = 0; i < Math.min(got.length, expect.length); i++) {
    if (same(got[i]!, expect[i]!)) continue;
    r.finding('DATA_MISMATCH', explain(got[i]!, expect[i]!, `the ${ordinal(i + 1)} frame nic_receive() returned`, 'rx', expect));
    r.data.push(`nic_receive() #${i + 1}: expected the peer's frame ${frame_id(expect[i]!)!.i}`);
    return false;
  }
  if (got.length !== expect.length) {
    r.finding(got.length < expect.length ? 'WRONG_RESULT' : 'DATA_MISMATCH',
      `nic_receive() returned ${got.length} frames; the peer sent ${expect.length} that the chip took` +
      (got.length < expect.length ? ': frames the chip wrote back were never delivered (the RX ring stopped, or the tail was not advanced)' : ': some were delivered twice'));
    return false;
  }
  return true;
}

function ordinal(n: number): string {
  const t = n % 100;
  return `${n}${t >= 11 && t <= 13 ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

/** A frame in kernel memory for nic_xmit(). */
function tx_buf(f: Uint8Array): number {
  const p = kmalloc(f.length, GFP_KERNEL);
  fill(p, f);
  return p;
}

/** Every frame nic_receive() has now. */
function drain(r: Run, s: Nic, into: Uint8Array[]): void {
  for (;;) {
    const f = r.call(s.pdev, 'nic_receive(nic)', () => drv.nic_receive(s.nic));
    if (!f) return;
    into.push(f);
  }
}

/**
 * Send `tx` with nic_xmit() while the peer sends `rx`, pacing the packets `gap_us` apart and
 * retrying a packet on -EBUSY after the next completions. Returns the packets accepted (in
 * order) and the frames received, or null if nic_xmit() failed otherwise.
 */
function traffic(r: Run, s: Nic, tx: Uint8Array[], gap_us: number): { sent: Uint8Array[]; got: Uint8Array[] } | null {
  const sent: Uint8Array[] = [], got: Uint8Array[] = [];
  let busy = 0;
  for (let i = 0; i < tx.length;) {
    const f = tx[i]!;
    const p = tx_buf(f);
    const ret = r.call(s.pdev, `nic_xmit(nic, <packet ${i}>, ${f.length})`, () => drv.nic_xmit(s.nic, p, f.length));
    if (ret === 0) {
      sent.push(f);
      i++;
      busy = 0;
    } else {
      kfree(p);
      if (ret !== EBUSY || ++busy > 100) {
        r.finding('WRONG_RESULT', ret === EBUSY
          ? `nic_xmit(nic, <packet ${i}>, ${f.length}) kept returning -EBUSY for 100 tries over ${100 * gap_us} us with ${sent.length} packets accepted: completed packets are not being reclaimed`
          : `nic_xmit(nic, <packet ${i}>, ${f.length}) returned ${errno_str(ret)}; expected 0 (queued) or -EBUSY (ring full)`);
        return null;
      }
    }
    run_for_ms(gap_us / 1000);
    if (i % 16 === 0) drain(r, s, got);
  }
  run_for_ms(5);
  drain(r, s, got);
  return { sent, got };
}

describe('traffic both ways', () => {
  for (const shape of ALL) {
    test(`${TRAFFIC} frames of 60 to 1514 bytes each way at once: every frame on the wire and every frame received intact, in order (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#ordering-coherent-is-not-ordered` }, (r) => {
        const s = setup(r);
        if (!s) return;
        const seed = r.m.seed;
        const rx = sizes(TRAFFIC, seed ^ 0x52).map((n, i) => make_frame(RX_MARK, i, n, seed));
        const tx = sizes(TRAFFIC, seed ^ 0x54).map((n, i) => make_frame(TX_MARK, i, n, seed));
        s.peer.send(rx, { at_ns: 2000 });
        const t = traffic(r, s, tx, 6);
        if (!t) return;
        const ok = check_tx(r, s.peer, t.sent) && check_rx(r, t.got, rx);
        if (ok) {
          const st = r.call(s.pdev, 'nic_stats(nic)', () => drv.nic_stats(s.nic));
          r.expect_result('nic_stats(nic).tx_packets', st.tx_packets, TRAFFIC);
          r.expect_result('nic_stats(nic).rx_packets', st.rx_packets, TRAFFIC);
          r.expect_result('nic_stats(nic).rx_dropped (with buffers for every frame)', st.rx_dropped, 0);
        }
        r.unbind(s.pdev);
      });
    });
  }
});

describe('full rings', () => {
  for (const shape of ['x86', 'arm64'] as ShapeName[]) {
    test(`300 packets back to back with the peer holding the line (PAUSE): ${RING - 1} queued, then -EBUSY, then all sent (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#transmit` }, (r) => {
        const s = setup(r);
        if (!s) return;
        const tx = sizes(300, r.m.seed ^ 0x77).map((n, i) => make_frame(TX_MARK, i, n, r.m.seed));
        s.peer.pause();
        const sent: Uint8Array[] = [];
        let i = 0;
        for (; i < tx.length; i++) {
          const p = tx_buf(tx[i]!);
          const ret = r.call(s.pdev, `nic_xmit(nic, <packet ${i}>, ${tx[i]!.length})`, () => drv.nic_xmit(s.nic, p, tx[i]!.length));
          if (ret !== 0) {
            kfree(p);
            if (ret !== EBUSY) {
              r.finding('WRONG_RESULT', `nic_xmit() of packet ${i} returned ${errno_str(ret)} with ${i} queued; expected -EBUSY once the ring is full`);
              return;
            }
            break;
          }
          sent.push(tx[i]!);
        }
        if (!r.expect_result(`the number of packets nic_xmit() queued into a ${RING}-descriptor ring before -EBUSY (one descriptor stays unused)`, i, RING - 1)) return;
        run_for_ms(1);
        if (s.peer.received.length) r.finding('DATA_MISMATCH', `the peer received ${s.peer.received.length} frames while it held the line`);
        s.peer.resume();
        run_for_ms(5);
        if (!check_tx(r, s.peer, sent)) return;
        for (; i < tx.length; i++) {
          const p = tx_buf(tx[i]!);
          const ret = r.call(s.pdev, `nic_xmit(nic, <packet ${i}>, ${tx[i]!.length})`, () => drv.nic_xmit(s.nic, p, tx[i]!.length));
          if (!r.expect_result(`nic_xmit() of packet ${i} after the ring drained`, ret, 0)) { kfree(p); return; }
          sent.push(tx[i]!);
        }
        run_for_ms(5);
        check_tx(r, s.peer, sent);
        r.unbind(s.pdev);
      });
    });
  }

  for (const shape of ['x86', 'arm64', 'arm64-smmu'] as ShapeName[]) {
    test(`400 frames while the interrupt is held off: ${RX_RING - 1} in the ring, ${CHIP_FIFO} on the chip, the rest dropped and counted; then the ring refills and works (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#receive` }, (r) => {
        const s = setup(r);
        if (!s) return;
        const seed = r.m.seed;
        const rx = sizes(450, seed ^ 0x99).map((n, i) => make_frame(RX_MARK, i, n, seed));
        // A CPU busy elsewhere: the NIC's interrupt is held off while 400 frames arrive.
        r.call(s.pdev, 'disable_irq(pdev->irq)', () => disable_irq(s.pdev.irq));
        s.peer.send(rx.slice(0, 400), { gap_ns: [300, 600] });
        run_for_ms(1);
        r.call(s.pdev, 'enable_irq(pdev->irq)', () => enable_irq(s.pdev.irq));
        run_for_ms(1);
        const got: Uint8Array[] = [];
        drain(r, s, got);
        const kept = RX_RING - 1 + CHIP_FIFO;
        if (!check_rx(r, got, rx.slice(0, kept))) return;
        const st = r.call(s.pdev, 'nic_stats(nic)', () => drv.nic_stats(s.nic));
        if (!r.expect_result('nic_stats(nic).rx_dropped (the chip\'s missed packets, MPC, read on RXO)', st.rx_dropped, 400 - kept)) return;
        // The ring is whole again: the next frames all come in.
        s.peer.send(rx.slice(400));
        run_for_ms(2);
        drain(r, s, got);
        check_rx(r, got, [...rx.slice(0, kept), ...rx.slice(400)]);
        r.unbind(s.pdev);
      });
    });
  }
});

describe('mapping failures', () => {
  for (const shape of ['x86', 'x86-iommu'] as ShapeName[]) {
    test(`a packet that cannot be mapped: -ENOMEM, nothing queued, the next one goes out (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#transmit` }, (r) => {
        const s = setup(r);
        if (!s) return;
        const f = make_frame(TX_MARK, 0, 1000, r.m.seed), g = make_frame(TX_MARK, 1, 200, r.m.seed);
        const p = tx_buf(f);
        r.m.faults.always.add('dma_map');
        const ret = r.call(s.pdev, 'nic_xmit(nic, <a packet dma_map_single() fails for>, 1000)', () => drv.nic_xmit(s.nic, p, f.length));
        r.m.faults.always.delete('dma_map');
        kfree(p);
        if (!r.expect_result('nic_xmit(nic, <a packet dma_map_single() fails for>, 1000)', ret, ENOMEM)) return;
        run_for_ms(1);
        if (s.hw.tdt !== 0 || s.peer.received.length)
          r.finding('WRONG_RESULT', `after the failed mapping TDT is ${s.hw.tdt} and the peer received ${s.peer.received.length} frames: a packet that could not be mapped must not reach the ring`);
        const q = tx_buf(g);
        const ok = r.call(s.pdev, 'nic_xmit(nic, <the next packet>, 200)', () => drv.nic_xmit(s.nic, q, g.length));
        if (!r.expect_result('nic_xmit(nic, <the next packet>, 200)', ok, 0)) { kfree(q); return; }
        run_for_ms(1);
        check_tx(r, s.peer, [g]);
        r.unbind(s.pdev);
      });
    });
  }

  for (const shape of ['x86', 'arm64-smmu'] as ShapeName[]) {
    test(`RX buffers that cannot be mapped at refill: the ring runs with fewer, then fills up again; every frame intact (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#receive` }, (r) => {
        const s = setup(r);
        if (!s) return;
        const seed = r.m.seed;
        // Large frames: each one's buffer is handed up and must be replaced.
        const rx = Array.from({ length: 300 }, (_, i) => make_frame(RX_MARK, i, COPYBREAK + 200 + (i * 37) % 1000, seed));
        r.m.faults.always.add('dma_map');
        s.peer.send(rx.slice(0, 40));
        run_for_ms(2);
        r.m.faults.always.delete('dma_map');
        const got: Uint8Array[] = [];
        drain(r, s, got);
        s.peer.send(rx.slice(40));
        run_for_ms(4);
        drain(r, s, got);
        if (!check_rx(r, got, rx)) return;
        const st = r.call(s.pdev, 'nic_stats(nic)', () => drv.nic_stats(s.nic));
        r.expect_result('nic_stats(nic).rx_dropped', st.rx_dropped, 0);
        r.unbind(s.pdev);
      });
    });
  }
});

describe('remove with traffic in flight', () => {
  for (const shape of ALL) {
    test(`unbinding with 100 packets queued and 100 frames arriving: the chip stops first, nothing is left mapped (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#taking-it-down-with-traffic-in-flight` }, (r) => {
        const s = setup(r);
        if (!s) return;
        const seed = r.m.seed;
        const tx = sizes(100, seed ^ 0x31).map((n, i) => make_frame(TX_MARK, i, n, seed));
        s.peer.send(sizes(100, seed ^ 0x13).map((n, i) => make_frame(RX_MARK, i, n, seed)), { gap_ns: [500, 3000] });
        for (const [i, f] of tx.entries()) {
          const p = tx_buf(f);
          const ret = r.call(s.pdev, `nic_xmit(nic, <packet ${i}>, ${f.length})`, () => drv.nic_xmit(s.nic, p, f.length));
          if (ret !== 0) {
            kfree(p);
            r.finding('WRONG_RESULT', `nic_xmit() of packet ${i} returned ${errno_str(ret)} with ${i} queued in a ${RING}-descriptor ring`);
            return;
          }
        }
        run_for_ms(0.05);
        r.unbind(s.pdev);
        if (s.hw.sent >= 100) r.finding('WRONG_RESULT', 'every packet had been sent before remove ran: the test expected some still queued');
        // What the chip would do now must not matter.
        M.clock.advance_to(M.clock.now + 20e6);
      });
    });
  }
});

describe('error paths', () => {
  test(`every failure in probe is unwound, at each of its injection points: regions, BAR, mask, both rings, each of the ${RX_RING - 1} RX buffers and its mapping, the IRQ (x86)`, (ctx) => {
    probe_fault_sweep(ctx, drv.nic_driver, { shape: 'x86', lesson: `${L}#bringing-it-up-a-probe-that-unwinds`, setup: () => plug_e1000().pdev });
  });
  // Elsewhere the RX fill's unwinding is the same code at its 126 points: every other point, the
  // first and last buffers', and a seeded few between.
  for (const shape of ['arm64', 'x86-iommu', 'arm64-smmu'] as ShapeName[]) {
    test(`every failure in probe is unwound: every step, and RX buffers first, last and between (${shape})`, (ctx) => {
      probe_fault_sweep(ctx, drv.nic_driver, { shape, lesson: `${L}#bringing-it-up-a-probe-that-unwinds`, setup: () => plug_e1000().pdev, pick: some_buffers });
    });
  }
});

/** Every point but the RX buffers' (kmalloc, dma_map), of which the first 4, the last 4 and 8
 *  seeded others. */
function some_buffers(points: { n: number; kind: string }[]): number[] {
  const fill = points.filter((p) => p.kind === 'kmalloc' || p.kind === 'dma_map').map((p) => p.n);
  const keep = new Set([...fill.slice(0, 4), ...fill.slice(-4)]);
  let x = test_seed() >>> 0;
  for (let k = 0; k < 8 && fill.length > 8; k++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    keep.add(fill[4 + (x % (fill.length - 8))]!);
  }
  return points.map((p) => p.n).filter((n) => !fill.includes(n) || keep.has(n));
}
