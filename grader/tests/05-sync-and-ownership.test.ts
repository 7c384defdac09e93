// Hidden tests of exercise 05 (sync-and-ownership): one RX and one TX streaming mapping made in
// probe and reused for every transfer, with ownership passed back and forth by
// dma_sync_single_for_cpu() / dma_sync_single_for_device(). The shapes where a missing or wrong
// sync shows: arm64 (non-coherent: stale lines in the CPU cache), x86-swiotlb (bounce buffers:
// the copies happen only at sync), and the coherent x86 shapes where only the checker sees it.
import { describe, test } from 'vitest';
import { load_driver } from '../lib/target.ts';
import { run, probe_fault_sweep, errno_str, addr, type Run } from './lib/harness.ts';
import { M, pattern, compare } from '#sim/testing';
import type * as Solution from '../../solutions/05-sync-and-ownership/driver.ts';
import type { pci_dev, ShapeName, Edu } from '#sim/testing';

const drv = await load_driver<typeof Solution>('05-sync-and-ownership');
const L = 'lessons/05-sync-and-ownership.md';
const ALL: ShapeName[] = ['x86', 'x86-iommu', 'x86-swiotlb', 'arm64', 'arm64-smmu'];
const EDU_DMA_SIZE = 4096;
const DMA_TO_DEVICE = 1, DMA_FROM_DEVICE = 2;
const FILE = 'exercises/05-sync-and-ownership/driver.ts';

type EduDev = Solution.edu_dev;

/** Plug edu, probe, and find the driver's private struct. */
function bound(r: Run): { pdev: pci_dev; model: Edu; edu: EduDev } | null {
  const { pdev, edu: model } = r.plug_edu();
  r.bind_ok(drv.edu_driver, pdev);
  const edu = pdev.dev.driver_data as EduDev | undefined;
  if (!edu) {
    r.finding('WRONG_RESULT', `probe succeeded but did not keep its edu_dev with pci_set_drvdata(): the tests find it there (${FILE}, edu_probe)`);
    r.unbind(pdev);
    return null;
  }
  return { pdev, model, edu };
}

/** The device's streaming mappings right now, as dma-debug knows them. */
function mappings(pdev: pci_dev): { addr: number; size: number; dir: number }[] {
  const d = M.dbg;
  return d.entries_of(pdev.dev).filter((e) => d.e_type[e] === 0).map((e) => ({ addr: d.e_addr[e]!, size: d.e_size[e]!, dir: d.e_dir[e]! }));
}

const DIR = ['DMA_BIDIRECTIONAL', 'DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DMA_NONE'];

/** Both long-lived mappings are there, as probe made them (and as the driver remembers them). */
function check_mappings(r: Run, pdev: pci_dev, edu: EduDev, when: string): boolean {
  const list = mappings(pdev);
  const rx = list.filter((m) => m.dir === DMA_FROM_DEVICE && m.size === EDU_DMA_SIZE);
  const tx = list.filter((m) => m.dir === DMA_TO_DEVICE && m.size === EDU_DMA_SIZE);
  const seen = list.length ? list.map((m) => `${DIR[m.dir]} ${m.size} bytes at ${addr(m.addr)}`).join('; ') : 'none';
  if (list.length !== 2 || rx.length !== 1 || tx.length !== 1) {
    r.finding('WRONG_RESULT', `${when}, edu has ${list.length} streaming mapping${list.length === 1 ? '' : 's'} (${seen}); this driver keeps exactly two for as long as it is bound: rx_buf mapped DMA_FROM_DEVICE and tx_buf mapped DMA_TO_DEVICE, EDU_DMA_SIZE bytes each, made once in probe and unmapped in remove (lesson: "One mapping, many transfers")`);
    return false;
  }
  if (edu.rx_dma !== rx[0]!.addr || edu.tx_dma !== tx[0]!.addr) {
    r.finding('WRONG_RESULT', `${when}, edu.rx_dma = ${addr(edu.rx_dma)} and edu.tx_dma = ${addr(edu.tx_dma)}, but the mappings are at ${addr(rx[0]!.addr)} (DMA_FROM_DEVICE) and ${addr(tx[0]!.addr)} (DMA_TO_DEVICE): keep the handles dma_map_single() returned`);
    return false;
  }
  return true;
}

/** Where stale data comes from on this machine, for a failed data check. */
function stale_note(shape: ShapeName, to_cpu: boolean): string {
  if (shape === 'arm64' || shape === 'arm64-smmu') {
    return to_cpu
      ? 'on this non-coherent machine the CPU reads through its cache: it sees what the device wrote to RAM only after dma_sync_single_for_cpu() has invalidated those lines'
      : 'on this non-coherent machine what the CPU wrote can still sit in its cache: the device reads RAM, which gets the new bytes only from dma_sync_single_for_device() (a clean)';
  }
  if (shape === 'x86-swiotlb') {
    return to_cpu
      ? 'under swiotlb the device wrote a bounce buffer: the bytes reach rx_buf only when dma_sync_single_for_cpu() copies them back'
      : 'under swiotlb the device reads a bounce buffer: tx_buf\'s new bytes are copied there only by dma_sync_single_for_device()';
  }
  return '';
}

/** A data check whose first line says what differs and whose second says why it may. */
function expect_data(r: Run, what: string, got: Uint8Array, want: Uint8Array, why: string): boolean {
  const diff = compare(got, want);
  if (!diff) return true;
  r.data.push(`${what}: ${diff}`);
  r.finding('DATA_MISMATCH', `${what}: ${diff}`, ...(why ? [why] : []));
  return false;
}

const RX_LENS = [4096, 64, 1000, 4096, 1, 333, 2048, 4096];
const TX_LENS = [4096, 100, 4096, 7, 1500, 4096, 64, 4096];

describe('one RX and one TX mapping for the life of the device', () => {
  for (const shape of ['x86', 'arm64', 'x86-swiotlb'] as ShapeName[]) {
    test(`probe maps rx_buf (DMA_FROM_DEVICE) and tx_buf (DMA_TO_DEVICE) once; remove unmaps them (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#one-mapping-many-transfers` }, (r) => {
        const b = bound(r);
        if (!b) return;
        const { pdev, edu } = b;
        check_mappings(r, pdev, edu, 'after probe');
        r.unbind(pdev);
      });
    });
  }
});

describe('receiving: the device writes rx_buf, the CPU reads it', () => {
  for (const shape of ALL) {
    test(`reuses the one RX mapping for ${RX_LENS.length} receives of different lengths (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#who-owns-the-buffer` }, (r) => {
        const b = bound(r);
        if (!b) return;
        const { pdev, model, edu } = b;
        let done = 0;
        for (let i = 0; i < RX_LENS.length; i++, done++) {
          const len = RX_LENS[i]!;
          const sent = pattern(EDU_DMA_SIZE, 17 + i);   // what the device holds this time
          model.dma_buf.set(sent);
          const got = r.call(pdev, `edu_receive(edu, ${len})`, () => drv.edu_receive(edu, len));
          if (typeof got === 'number') {
            r.finding('WRONG_RESULT', `receive #${i + 1}: edu_receive(edu, ${len}) returned ${errno_str(got)}; it should return the ${len} bytes the device wrote into rx_buf`);
            break;
          }
          if (got.length !== len) {
            r.finding('WRONG_RESULT', `receive #${i + 1}: edu_receive(edu, ${len}) returned ${got.length} bytes, expected ${len}`);
            break;
          }
          if (!expect_data(r, `receive #${i + 1}: edu_receive(edu, ${len}) returned other bytes than the device wrote`, got, sent.subarray(0, len), stale_note(shape, true))) break;
        }
        if (done === RX_LENS.length) check_mappings(r, pdev, edu, `after ${RX_LENS.length} receives`);
        r.unbind(pdev);
      });
    });
  }
});

describe('sending: the CPU writes tx_buf, the device reads it', () => {
  for (const shape of ALL) {
    test(`reuses the one TX mapping for ${TX_LENS.length} sends of different lengths (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#who-owns-the-buffer` }, (r) => {
        const b = bound(r);
        if (!b) return;
        const { pdev, model, edu } = b;
        let done = 0;
        for (let i = 0; i < TX_LENS.length; i++, done++) {
          const len = TX_LENS[i]!;
          const data = pattern(len, 101 + i);
          const ret = r.call(pdev, `edu_send(edu, <${len} bytes>)`, () => drv.edu_send(edu, data));
          if (!r.expect_result(`send #${i + 1}: edu_send(edu, <${len} bytes>)`, ret, 0)) break;
          if (!expect_data(r, `send #${i + 1}: the device read other bytes than edu_send() was given (${len} bytes)`, model.dma_buf.slice(0, len), data, stale_note(shape, false))) break;
        }
        if (done === TX_LENS.length) check_mappings(r, pdev, edu, `after ${TX_LENS.length} sends`);
        r.unbind(pdev);
      });
    });
  }
});

describe('both directions', () => {
  for (const shape of ['arm64', 'x86-swiotlb'] as ShapeName[]) {
    test(`an echo: what edu_send() gave the device comes back from edu_receive(), 6 round trips (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#who-owns-the-buffer` }, (r) => {
        const b = bound(r);
        if (!b) return;
        const { pdev, edu } = b;
        for (let i = 0; i < 6; i++) {
          const len = [4096, 512, 4096, 63, 2000, 4096][i]!;
          const data = pattern(len, 301 + i);
          const ret = r.call(pdev, 'edu_send()', () => drv.edu_send(edu, data));
          if (!r.expect_result(`round trip #${i + 1}: edu_send(edu, <${len} bytes>)`, ret, 0)) break;
          const got = r.call(pdev, 'edu_receive()', () => drv.edu_receive(edu, len));
          if (typeof got === 'number') {
            r.finding('WRONG_RESULT', `round trip #${i + 1}: edu_receive(edu, ${len}) returned ${errno_str(got)}; it should return the ${len} bytes just sent`);
            break;
          }
          if (!expect_data(r, `round trip #${i + 1}: edu_receive(edu, ${len}) did not return what edu_send() sent`, got, data, `on this ${shape === 'arm64' ? 'non-coherent machine (CPU cache)' : 'swiotlb machine (bounce buffers)'}, either tx_buf's bytes never reached the device (dma_sync_single_for_device() after writing) or the device's bytes never reached the CPU (dma_sync_single_for_cpu() before reading)`)) break;
        }
        r.unbind(pdev);
      });
    });
  }
});

describe('bad lengths', () => {
  test('edu_receive() and edu_send() reject 0 and more than 4096 bytes with -EINVAL (x86)', (ctx) => {
    run(ctx, { shape: 'x86', lesson: `${L}#the-exercise` }, (r) => {
      const b = bound(r);
      if (!b) return;
      const { pdev, edu } = b;
      r.expect_result('edu_receive(edu, 0)', r.call(pdev, 'edu_receive()', () => drv.edu_receive(edu, 0)), -22);
      r.expect_result('edu_receive(edu, 4097)', r.call(pdev, 'edu_receive()', () => drv.edu_receive(edu, EDU_DMA_SIZE + 1)), -22);
      r.expect_result('edu_send(edu, <0 bytes>)', r.call(pdev, 'edu_send()', () => drv.edu_send(edu, new Uint8Array(0))), -22);
      r.expect_result('edu_send(edu, <4097 bytes>)', r.call(pdev, 'edu_send()', () => drv.edu_send(edu, new Uint8Array(EDU_DMA_SIZE + 1))), -22);
      r.unbind(pdev);
    });
  });
});

describe('error paths', () => {
  for (const shape of ['x86', 'arm64'] as ShapeName[]) {
    test(`every failure in probe is unwound: nothing left mapped or allocated (${shape})`, (ctx) => {
      probe_fault_sweep(ctx, drv.edu_driver, { shape, lesson: `${L}#the-exercise` });
    });
  }

  test('probe fails with -ENOMEM and leaves nothing behind when swiotlb has room for one buffer only (x86-swiotlb)', (ctx) => {
    run(ctx, { shape: 'x86-swiotlb', swiotlb_slots: 2, allow: ['SWIOTLB_FULL'], lesson: `${L}#the-exercise` }, (r) => {
      const { pdev } = r.plug_edu();
      const ret = r.bind(drv.edu_driver, pdev);
      r.expect_result('probe with a full swiotlb', ret, -12);
      if (ret === 0) r.unbind(pdev);
    });
  });
});
