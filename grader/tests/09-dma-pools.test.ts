// Hidden tests of exercise 09 (dma-pools): cmdq's commands each point at a chain of small
// descriptors, which must come from DMA pools made with the device's alignment and boundary,
// given back when the device is done with them, and all back before the pools are destroyed.
// The data is checked on every machine; so is how many small coherent allocations the driver
// holds, every error path of probe and of the submit path, and unbind with commands in flight.
import { describe, test } from 'vitest';
import { load_driver } from '../lib/target.ts';
import { run, probe_fault_sweep, errno_str, type Run } from './lib/harness.ts';
import { M, pattern, fill, read, plug_cmdq, coherent_allocations } from '#sim/testing';
import type { pci_dev, ShapeName, Cmdq } from '#sim/testing';
import { kmalloc, kfree, GFP_KERNEL } from '#sim';
import { cmdq_fnv1a, cmdq_fill_pattern } from '../../sim/hw/cmdq.ts';
import type * as Solution from '../../solutions/09-dma-pools/driver.ts';

const drv = await load_driver<typeof Solution>('09-dma-pools');
const L = 'lessons/09-dma-pools.md';
const ALL: ShapeName[] = ['x86', 'x86-iommu', 'x86-swiotlb', 'arm64', 'arm64-smmu'];
const CHECKSUM = 1, FILL = 2, PIECE = 4096, QSIZE = 64;
const SMALL = 256, SMALL_LIMIT = 8;
const ENOMEM = -12;

/** Bind to a fresh cmdq and return what the tests need. */
function setup(r: Run): { pdev: pci_dev; dev: Cmdq; cq: Solution.cmdq_dev } | null {
  const { pdev, cmdq: dev } = plug_cmdq();
  r.bind_ok(drv.cmdq_driver, pdev);
  const cq = pdev.dev.driver_data as Solution.cmdq_dev | null;
  if (!cq) {
    r.finding('WRONG_RESULT', 'probe succeeded but did not keep its cmdq_dev with pci_set_drvdata(pdev, cq)');
    return null;
  }
  return { pdev, dev, cq };
}

interface Job extends Solution.cmdq_job { data: Uint8Array }

/** A job over a fresh kmalloc'ed buffer: CHECKSUM's holds a pattern, FILL's is zeroed. */
function make_job(op: number, len: number, seed: number): Job {
  const buf = kmalloc(len, GFP_KERNEL);
  const data = op === CHECKSUM ? pattern(len, seed) : new Uint8Array(len);
  fill(buf, data);
  return { op, buf, len, seed, data };
}

/** What the device's result for a job must be. */
function expected(j: Job): number {
  if (j.op === FILL) return j.len;
  let sum = 0;
  for (let off = 0; off < j.len; off += PIECE) sum = (sum + cmdq_fnv1a(j.data.subarray(off, Math.min(j.len, off + PIECE)))) >>> 0;
  return sum;
}

const pieces = (len: number) => Math.ceil(len / PIECE);
const describe_job = (j: Job, i: number) => `job ${i} (${j.op === FILL ? 'FILL' : 'CHECKSUM'} of ${j.len} bytes, ${pieces(j.len)} descriptor${pieces(j.len) > 1 ? 's' : ''})`;

/** Check each job's result and FILL's bytes; false at the first wrong one. */
function check_jobs(r: Run, jobs: Job[], results: number[]): boolean {
  for (let i = 0; i < jobs.length; i++) {
    const j = jobs[i]!;
    if (results[i] !== expected(j)) {
      r.finding('DATA_MISMATCH', `${describe_job(j, i)} came back with result ${results[i]! < 0 ? errno_str(results[i]!) : `0x${(results[i]! >>> 0).toString(16)}`}, expected 0x${expected(j).toString(16)}: the device ran a descriptor that was not this command's (a block freed and reused while the device still needed it?) or the command failed`);
      return false;
    }
    if (j.op === FILL && !r.expect_bytes(`the ${j.len} bytes ${describe_job(j, i)} wrote into its buffer`, read(j.buf, j.len), cmdq_fill_pattern(j.seed, j.len)))
      return false;
  }
  return true;
}

/** Seeded job sizes: mostly small, some chains of several descriptors. */
function job_mix(n: number, seed: number): Job[] {
  let x = seed;
  const next = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
  const jobs: Job[] = [];
  for (let i = 0; i < n; i++) {
    const big = next() % 4 === 0;
    const len = 1 + (next() % (big ? 4 * PIECE : PIECE));
    jobs.push(make_job(next() % 3 === 0 ? FILL : CHECKSUM, len, next()));
  }
  return jobs;
}

function free_jobs(jobs: Job[]): void {
  for (const j of jobs) kfree(j.buf);
}

/** The driver's small coherent allocations (a pool's pages are a page each). */
function check_small_allocs(r: Run, pdev: pci_dev, in_flight: number, descs: number): void {
  const small = coherent_allocations(pdev).filter((s) => s < SMALL);
  if (small.length > SMALL_LIMIT) {
    const sizes = [...new Set(small)].sort((a, b) => a - b).join(', ');
    r.finding('DMA_SMALL_COHERENT_ALLOCS', `with ${in_flight} commands (${descs} descriptors) in flight, the driver held ${small.length} coherent allocations of ${sizes} bytes at once; each takes a whole page (${small.length} pages, ${small.length * 4} KiB, for ${small.reduce((a, b) => a + b, 0)} bytes), and on arm64 a new uncached mapping each: carve descriptors out of a dma_pool created in probe`);
  }
}

describe('commands through descriptor pools', () => {
  for (const shape of ALL) {
    test(`300 commands of 1 byte to 16 KiB, up to 64 in flight: every result right (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#a-command-queue-one-descriptor-per-command` }, (r) => {
        const s = setup(r);
        if (!s) return;
        const { pdev, cq } = s;
        const jobs = job_mix(300, 0x900 + ALL.indexOf(shape));
        const got = r.call(pdev, 'cmdq_run(cq, <300 jobs>)', () => drv.cmdq_run(cq, jobs));
        if (typeof got === 'number') {
          r.finding('WRONG_RESULT', `cmdq_run(cq, <300 jobs>) returned ${errno_str(got)}: a command failed or timed out`);
        } else check_jobs(r, jobs, got);
        r.unbind(pdev);
        free_jobs(jobs);
      });
    });
  }
});

describe('how many small coherent allocations', () => {
  for (const shape of ['x86', 'arm64'] as ShapeName[]) {
    test(`63 commands of 12 KiB in flight: the descriptors take a few pool pages, not a page each (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#why-not-dma_alloc_coherent-per-descriptor` }, (r) => {
        const s = setup(r);
        if (!s) return;
        const { pdev, cq } = s;
        const jobs = Array.from({ length: QSIZE - 1 }, (_, i) => make_job(i % 2 ? FILL : CHECKSUM, 3 * PIECE, 77 + i));
        const slots: number[] = [];
        for (const [i, j] of jobs.entries()) {
          const slot = r.call(pdev, `cmdq_queue(cq, <job ${i}>)`, () => drv.cmdq_queue(cq, j));
          if (slot < 0) {
            r.finding('WRONG_RESULT', `cmdq_queue(cq, ${describe_job(j, i)}) returned ${errno_str(slot)} with ${i} commands queued; the ring has ${QSIZE} slots, so ${QSIZE - 1} fit`);
            break;
          }
          slots.push(slot);
        }
        check_small_allocs(r, pdev, slots.length, slots.length * 3);
        const results = slots.map((slot, i) => r.call(pdev, `cmdq_wait(cq, ${slot})`, () => drv.cmdq_wait(cq, slot)));
        check_jobs(r, jobs.slice(0, results.length), results);
        r.unbind(pdev);
        free_jobs(jobs);
      });
    });
  }
});

describe('remove with commands in flight', () => {
  for (const shape of ['x86', 'arm64', 'x86-iommu'] as ShapeName[]) {
    test(`unbinding with 63 commands queued: the queue stops, every block goes back, then the pools (${shape})`, (ctx) => {
      run(ctx, { shape, lesson: `${L}#destroying-a-pool` }, (r) => {
        const s = setup(r);
        if (!s) return;
        const { pdev, dev, cq } = s;
        const jobs = job_mix(QSIZE - 1, 0x77);
        for (const [i, j] of jobs.entries()) {
          const slot = r.call(pdev, `cmdq_queue(cq, <job ${i}>)`, () => drv.cmdq_queue(cq, j));
          if (slot < 0) {
            r.finding('WRONG_RESULT', `cmdq_queue(cq, ${describe_job(j, i)}) returned ${errno_str(slot)} with ${i} commands queued`);
            break;
          }
        }
        r.unbind(pdev);
        if (dev.busy()) r.finding('WRONG_RESULT', 'after remove, cmdq is still running commands: stop the queue (CTRL) and wait for it, or reset it, before freeing anything it uses');
        // What the device would do now must not matter.
        M.clock.advance_to(M.clock.now + 10e6);
        free_jobs(jobs);
      });
    });
  }
});

describe('error paths', () => {
  for (const shape of ['x86', 'arm64', 'x86-iommu'] as ShapeName[]) {
    test(`every failure in probe is unwound, the pools included (${shape})`, (ctx) => {
      probe_fault_sweep(ctx, drv.cmdq_driver, { shape, lesson: `${L}#creating-a-pool`, setup: () => plug_cmdq().pdev });
    });
  }

  test('a block allocation that fails on the submit path: -ENOMEM, nothing queued, every block taken given back (x86)', (ctx) => {
    run(ctx, { shape: 'x86', lesson: `${L}#allocating-blocks` }, (r) => {
      const s = setup(r);
      if (!s) return;
      const { pdev, dev, cq } = s;
      const j = make_job(CHECKSUM, 4 * PIECE, 5);
      const f = r.m.faults;
      f.only = new Set(['dma_pool']);
      f.count = 0;
      f.fail_nth = 3;                 // the third descriptor of the chain
      const ret = r.call(pdev, 'cmdq_queue(cq, <16 KiB CHECKSUM>)', () => drv.cmdq_queue(cq, j));
      f.fail_nth = 0;
      if (!r.expect_result('cmdq_queue(cq, <a 16 KiB CHECKSUM whose third descriptor cannot be allocated>)', ret, ENOMEM)) return;
      M.clock.advance_to(M.clock.now + 1e6);
      if (dev.completed) r.finding('WRONG_RESULT', 'a command whose chain could not be built was given to the device anyway');
      const got = r.call(pdev, 'cmdq_run(cq, <the same job>)', () => drv.cmdq_run(cq, [j]));
      if (typeof got === 'number') r.finding('WRONG_RESULT', `after the failed allocation, cmdq_run() of the same job returned ${errno_str(got)}`);
      else check_jobs(r, [j], got);
      r.unbind(pdev);
      kfree(j.buf);
    });
  });
});
