// Hidden tests of exercise 06 (what-you-can-map): command/reply exchanges with edu through
// buffers that must be DMA-able (not the stack, vmalloc memory or the driver image) and whose
// device-written part must not share a cache line with what the CPU writes meanwhile.
import { describe, test } from 'vitest';
import { load_driver } from '../lib/target.ts';
import { run, probe_fault_sweep, errno_str, type Run } from './lib/harness.ts';
import { attach_firmware, EDU_CMD_MAX, EDU_REPLY_LEN, type Firmware } from './lib/edu-firmware.ts';
import { pattern } from '#sim/testing';
import { EINVAL } from '#sim';
import type { pci_dev, ShapeName } from '#sim/testing';
import type * as Solution from '../../solutions/06-what-you-can-map/driver.ts';

const drv = await load_driver<typeof Solution>('06-what-you-can-map');
const L = 'lessons/06-what-you-can-map.md';
const PING = Uint8Array.from([0x50, 0x49, 0x4e, 0x47]); // "PING"

function hex(b: Uint8Array, n = 8): string {
  return [...b.slice(0, n)].map((x) => x.toString(16).padStart(2, '0')).join(' ') + (b.length > n ? ' ...' : '');
}

/** Plug edu with its firmware stand-in, bind the driver under test. */
function setup(r: Run): { pdev: pci_dev; edu: Solution.edu_dev; fw: Firmware } {
  const { pdev, edu: model } = r.plug_edu();
  const fw = attach_firmware(model);
  r.bind_ok(drv.edu_driver, pdev);
  return { pdev, edu: pdev.dev.driver_data as Solution.edu_dev, fw };
}

/**
 * One exchange through `fn`, checked: it returned a 64-byte reply, the device received exactly
 * `cmd` as its k-th command, and the reply is the one the device wrote. false if anything is off.
 */
function exchange(r: Run, pdev: pci_dev, fw: Firmware, what: string, cmd: Uint8Array, fn: () => Uint8Array | number): boolean {
  const k = fw.commands.length + 1;
  const got = r.call(pdev, what, fn);
  const sent = fw.commands[k - 1];
  if (!sent) {
    r.finding('WRONG_RESULT', `${what}: the device received no command at 0x40000${fw.misplaced.length ? ` (a transfer landed at 0x40000 + 0x${fw.misplaced[0]!.toString(16)} instead)` : ''}; it returned ${typeof got === 'number' ? errno_str(got) : `${got.length} bytes`}`);
    return false;
  }
  if (!r.expect_bytes(`${what}: the command the device received`, sent, cmd)) return false;
  if (typeof got === 'number') {
    r.finding('WRONG_RESULT', `${what} returned ${errno_str(got)}; expected the device's ${EDU_REPLY_LEN}-byte reply`);
    return false;
  }
  if (!(got instanceof Uint8Array) || got.length !== EDU_REPLY_LEN) {
    r.finding('WRONG_RESULT', `${what} returned ${got instanceof Uint8Array ? `${got.length} bytes` : typeof got}; expected the ${EDU_REPLY_LEN}-byte reply as a Uint8Array`);
    return false;
  }
  const want = fw.reply(k)!;
  if (!r.expect_bytes(`${what}: the reply it returned (the device wrote ${hex(want)})`, got, want)) return false;
  return true;
}

/** Commands of every length that matters: short, odd, just under and at the limit. */
const LENGTHS = [1, 4, 17, 60, 64, 33, 64, 64];

function exchanges(r: Run, pdev: pci_dev, edu: Solution.edu_dev, fw: Firmware, lengths: number[]): void {
  let n = 0;
  for (const [i, len] of lengths.entries()) {
    const cmd = pattern(len, 0x600 + i);
    if (!exchange(r, pdev, fw, `edu_exchange(edu, <${len}-byte command>) #${i + 1}`, cmd, () => drv.edu_exchange(edu, cmd))) return;
    n++;
  }
  const seq = r.call(pdev, 'reading msg.seq', () => drv.edu_msg.get(edu.msg, 'seq'));
  r.expect_result(`msg.seq after ${n} exchanges (the CPU bumps it once per exchange)`, seq, n);
}

describe('probe and remove', () => {
  for (const shape of ['x86', 'arm64'] as ShapeName[]) {
    test(`binds to edu and unbinds leaving nothing behind (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#what-memory-can-be-mapped` }, (r) => {
        const { pdev } = setup(r);
        r.unbind(pdev);
      });
    });
  }
});

describe('exchanges', () => {
  for (const shape of ['x86', 'x86-iommu', 'x86-swiotlb', 'arm64-smmu'] as ShapeName[]) {
    test(`sends commands of 1 to 64 bytes and returns each reply intact (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#what-memory-can-be-mapped` }, (r) => {
        const { pdev, edu, fw } = setup(r);
        exchanges(r, pdev, edu, fw, LENGTHS);
        r.unbind(pdev);
      });
    });
  }

  test('the reply survives the CPU bumping seq while the device writes it (arm64, non-coherent)', (ctx) => {
    run(ctx, { shape: 'arm64', lesson: `${L}#cache-lines` }, (r) => {
      const { pdev, edu, fw } = setup(r);
      exchanges(r, pdev, edu, fw, [...LENGTHS, 64, 64, 8, 64]);
      r.unbind(pdev);
    });
  });

  test('struct edu_msg keeps seq out of the reply\'s ARCH_DMA_MINALIGN (128-byte) granules (arm64)', (ctx) => {
    // The sim's caches have 64-byte lines; arm64 CPUs may have 128-byte ones, which is why
    // ARCH_DMA_MINALIGN is 128 there. Check the layout against that, not just the sim's lines.
    run(ctx, { shape: 'arm64', lesson: `${L}#cache-lines` }, (r) => {
      let reply: number, seq: number;
      try {
        reply = drv.edu_msg.offsetof('reply');
        seq = drv.edu_msg.offsetof('seq');
      } catch (e) {
        r.finding('WRONG_RESULT', `edu_msg must keep its fields cmd, seq and reply (the tests read seq): ${(e as Error).message}`);
        return;
      }
      const G = 128, x = (n: number) => `0x${n.toString(16)}`;
      const lo = Math.floor(reply / G) * G, hi = Math.ceil((reply + EDU_REPLY_LEN) / G) * G;
      if (seq < hi && seq + 4 > lo) {
        r.finding('CACHELINE_SHARED', `in struct edu_msg, seq (offset ${x(seq)}) lies in the ${G}-byte granule${hi - lo > G ? 's' : ''} [${x(lo)}, ${x(hi)}) that hold reply (offset ${x(reply)}, ${EDU_REPLY_LEN} bytes): the CPU writes seq while the device owns the reply; align reply to ARCH_DMA_MINALIGN (${G} on arm64) and keep what the CPU writes out of its lines`);
      }
    });
  });

  test('rejects an empty command and one longer than 64 bytes with -EINVAL, sending nothing (x86)', (ctx) => {
    run(ctx, { shape: 'x86', lesson: `${L}#the-exercise` }, (r) => {
      const { pdev, edu, fw } = setup(r);
      for (const len of [0, EDU_CMD_MAX + 1]) {
        const cmd = pattern(len, 0x6ff);
        const got = r.call(pdev, `edu_exchange(edu, <${len}-byte command>)`, () => drv.edu_exchange(edu, cmd));
        r.expect_result(`edu_exchange(edu, <${len}-byte command>)`, typeof got === 'number' ? got : `${got.length} bytes`, -EINVAL);
      }
      if (fw.commands.length) r.finding('WRONG_RESULT', `the device received ${fw.commands.length} command(s) for exchanges that should have been refused`);
      // The driver still works afterwards.
      exchange(r, pdev, fw, 'edu_exchange(edu, <64-byte command>) after the refusals', pattern(64, 0x6fe), () => drv.edu_exchange(edu, pattern(64, 0x6fe)));
      r.unbind(pdev);
    });
  });
});

describe('the ping command (a table in the driver image)', () => {
  for (const shape of ['x86', 'arm64'] as ShapeName[]) {
    test(`edu_ping sends "PING" and returns the reply, mapping no part of the driver image (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#static-and-rodata` }, (r) => {
        const { pdev, edu, fw } = setup(r);
        if (exchange(r, pdev, fw, 'edu_ping(edu) #1', PING, () => drv.edu_ping(edu))) {
          const cmd = pattern(EDU_CMD_MAX, 0x6aa);
          if (exchange(r, pdev, fw, 'edu_exchange(edu, <64-byte command>) after a ping', cmd, () => drv.edu_exchange(edu, cmd)))
            exchange(r, pdev, fw, 'edu_ping(edu) #2, after a 64-byte command', PING, () => drv.edu_ping(edu));
        }
        r.unbind(pdev);
      });
    });
  }
});

describe('error paths', () => {
  for (const shape of ['x86', 'arm64'] as ShapeName[]) {
    test(`every failure in probe is unwound: nothing left behind (${shape})`, (ctx) => {
      probe_fault_sweep(ctx, drv.edu_driver, { shape, lesson: `${L}#the-exercise` });
    });
  }
});
