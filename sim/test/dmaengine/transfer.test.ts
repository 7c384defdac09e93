// The client API on a channel of the test provider (virt-dma underneath): prep, callbacks and
// callback_result, submit and cookies, issue_pending, status and residue, pause/resume,
// terminate_async/_sync and synchronize, descriptor reuse, slave caps, cyclic periods; the
// callbacks run from the tasklet in softirq context, in completion order, before the
// descriptor is freed; sleeping in one is the kernel's BUG. Descriptor states are trace events.
import { describe, expect, test } from 'vitest';
import { run, run_for_ms, dmesg, codes, has, all_shapes } from '../../testing/index.ts';
import { M } from '../../kernel/machine.ts';
import { dmaengine_prep_slave_single, dmaengine_prep_slave_sg, dmaengine_prep_dma_cyclic, dmaengine_prep_dma_memcpy,
  dmaengine_submit, dma_submit_error, dma_async_issue_pending, dmaengine_tx_status, dma_tx_state_zero,
  dma_async_is_tx_complete, dmaengine_pause, dmaengine_resume, dmaengine_terminate_async, dmaengine_terminate_sync,
  dmaengine_synchronize, dmaengine_desc_set_reuse, dmaengine_desc_free, dmaengine_slave_config, dma_get_slave_caps,
  dma_slave_caps_zero, DMA_MEM_TO_DEV, DMA_DEV_TO_MEM, DMA_PREP_INTERRUPT, DMA_CTRL_ACK, DMA_COMPLETE, DMA_IN_PROGRESS,
  DMA_PAUSED, DMA_TRANS_NOERROR, DMA_RESIDUE_GRANULARITY_BURST, DMA_SLAVE_BUSWIDTH_8_BYTES, DMA_MIN_COOKIE,
  type dmaengine_result } from '../../include/linux/dmaengine.ts';
import { DMA_TO_DEVICE, DMA_FROM_DEVICE } from '../../include/linux/dma-direction.ts';
import { sg_array, sg_init_table } from '../../include/linux/scatterlist.ts';
import { msleep } from '../../include/linux/delay.ts';
import { EINVAL, EPERM } from '../../include/linux/errno.ts';
import { lab } from './lab.ts';

const FLAGS = DMA_PREP_INTERRUPT | DMA_CTRL_ACK;

describe('one slave transfer', () => {
  test.each(all_shapes())('%s: nothing moves until issue_pending; the callback runs from the tasklet, then the descriptor is freed', (shape) => {
    const x = lab(shape);
    const rx = x.p.rx;
    const seen: { softirq: boolean; hardirq: boolean; freed: number; result: dmaengine_result | null; param: unknown }[] = [];
    const cookie = run(x.client, () => {
      const d = dmaengine_prep_slave_single(rx, 0x100000, 4096, DMA_DEV_TO_MEM, FLAGS)!;
      d.callback_result = (param, result) => seen.push({ softirq: M.sched.in_softirq(), hardirq: M.sched.in_hardirq(), freed: x.tk.freed, result, param });
      d.callback_param = 'mine';
      return dmaengine_submit(d);
    });
    expect(cookie).toBe(DMA_MIN_COOKIE + 1);
    expect(dma_submit_error(cookie)).toBe(0);
    run_for_ms(1);
    expect(seen).toEqual([]);
    expect(run(x.client, () => dmaengine_tx_status(rx, cookie, null))).toBe(DMA_IN_PROGRESS);
    run(x.client, () => dma_async_issue_pending(rx));
    run_for_ms(1);
    expect(seen).toEqual([{ softirq: true, hardirq: false, freed: 0, result: { result: DMA_TRANS_NOERROR, residue: 0 }, param: 'mine' }]);
    expect(x.tk.freed).toBe(1);
    const last = { value: 0 }, used = { value: 0 };
    expect(run(x.client, () => dma_async_is_tx_complete(rx, cookie, last, used))).toBe(DMA_COMPLETE);
    expect([last.value, used.value]).toEqual([cookie, cookie]);
    const trace = M.trace.tail(60).join('\n');
    for (const s of ['prep', 'submit', 'issue_pending', 'complete', 'callback', 'free']) expect(trace).toContain(`dmaengine_${s}: ${x.ctrl.dev.init_name} chan=dma0chan0`);
    expect(codes()).toEqual([]);
  });

  test('callbacks come in completion order, one per descriptor; a plain callback gets its param', () => {
    const x = lab('arm64');
    const order: number[] = [];
    const cookies = run(x.client, () => [1, 2, 3].map((n) => {
      const sg = sg_array(2);
      sg_init_table(sg, 2);
      sg[0]!.dma_address = 0x1000; sg[0]!.dma_length = 256 * n;
      sg[1]!.dma_address = 0x8000; sg[1]!.dma_length = 256;
      const d = dmaengine_prep_slave_sg(x.p.tx, sg, 2, DMA_MEM_TO_DEV, FLAGS)!;
      d.callback = (p: number) => order.push(p);
      d.callback_param = n;
      return dmaengine_submit(d);
    }));
    expect(cookies).toEqual([2, 3, 4]);
    run(x.client, () => dma_async_issue_pending(x.p.tx));
    run_for_ms(1);
    expect(order).toEqual([1, 2, 3]);
  });

  test('residue while it runs (burst granularity), frozen while paused (DMA_PAUSED), then the rest', () => {
    const x = lab('x86');
    const rx = x.p.rx;
    let done = 0;
    const cookie = run(x.client, () => {
      const d = dmaengine_prep_slave_single(rx, 0x100000, 4096, DMA_DEV_TO_MEM, FLAGS)!;
      d.callback = () => done++;
      const c = dmaengine_submit(d);
      dma_async_issue_pending(rx);
      return c;
    });
    const st = dma_tx_state_zero();
    M.clock.advance_to(M.clock.now + 10_000);
    expect(run(x.client, () => dmaengine_tx_status(rx, cookie, st))).toBe(DMA_IN_PROGRESS);
    expect(st.residue).toBeGreaterThan(0);
    expect(st.residue).toBeLessThan(4096);
    expect(st.residue % 16).toBe(0);
    expect(run(x.client, () => dmaengine_pause(rx))).toBe(0);
    const frozen = (run(x.client, () => dmaengine_tx_status(rx, cookie, st)), st.residue);
    expect(run(x.client, () => dmaengine_tx_status(rx, cookie, st))).toBe(DMA_PAUSED);
    run_for_ms(1);
    expect(done).toBe(0);
    run(x.client, () => dmaengine_tx_status(rx, cookie, st));
    expect(st.residue).toBe(frozen);
    expect(run(x.client, () => dmaengine_resume(rx))).toBe(0);
    run_for_ms(1);
    expect(done).toBe(1);
    expect(run(x.client, () => dmaengine_tx_status(rx, cookie, st))).toBe(DMA_COMPLETE);
  });
});

describe('terminate and synchronize', () => {
  test('terminate_async: no callback for what was stopped; the descriptors are freed (6.1 frees the terminated one too)', () => {
    const x = lab('arm64-smmu');
    let called = 0;
    run(x.client, () => {
      for (let i = 0; i < 3; i++) {
        const d = dmaengine_prep_slave_single(x.p.rx, 0x100000, 4096, DMA_DEV_TO_MEM, FLAGS)!;
        d.callback = () => called++;
        dmaengine_submit(d);
      }
      dma_async_issue_pending(x.p.rx);
    });
    M.clock.advance_to(M.clock.now + 5_000);
    run(x.client, () => dmaengine_terminate_async(x.p.rx));
    // vchan_get_all_descriptors() takes desc_terminated too (since 5.6), so a provider that
    // parks the active one with vchan_terminate_vdesc() first frees all three here.
    expect(x.tk.freed).toBe(3);
    run_for_ms(1);
    expect(called).toBe(0);
    run(x.client, () => dmaengine_synchronize(x.p.rx));
    expect(x.tk.freed).toBe(3);
    expect(codes()).toEqual([]);
  });

  test('terminate_sync from a callback sleeps in softirq context: the kernel\'s BUG', () => {
    const x = lab('x86');
    run(x.client, () => {
      const d = dmaengine_prep_slave_single(x.p.rx, 0x100000, 64, DMA_DEV_TO_MEM, FLAGS)!;
      d.callback = () => dmaengine_terminate_sync(x.p.rx);
      dmaengine_submit(d);
      dma_async_issue_pending(x.p.rx);
    });
    run_for_ms(1);
    expect(has('SLEEP_IN_ATOMIC')).toBe(true);
    const l = dmesg();
    expect(l).toContain('BUG: sleeping function called from invalid context at include/linux/dmaengine.h:1157');
    expect(l).toContain('in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 0, name: swapper/0');
    expect(l).toContain('preempt_count: 100, expected: 0');
  });

  test('msleep() in a callback: scheduling while atomic, as Linux says', () => {
    const x = lab('arm64');
    run(x.client, () => {
      const d = dmaengine_prep_slave_single(x.p.tx, 0x100000, 64, DMA_MEM_TO_DEV, FLAGS)!;
      d.callback = () => msleep(1);
      dmaengine_submit(d);
      dma_async_issue_pending(x.p.tx);
    });
    run_for_ms(1);
    expect(dmesg()).toContain('BUG: scheduling while atomic: swapper/0/0/0x00000100');
  });

  test('callbacks may prepare and submit the next transfer (terminate_async is allowed there too)', () => {
    const x = lab('x86-iommu');
    let n = 0;
    const go = (): void => {
      const d = dmaengine_prep_slave_single(x.p.tx, 0x100000, 64, DMA_MEM_TO_DEV, FLAGS)!;
      d.callback = () => { if (++n < 5) go(); else dmaengine_terminate_async(x.p.tx); };
      dmaengine_submit(d);
      dma_async_issue_pending(x.p.tx);
    };
    run(x.client, go);
    run_for_ms(1);
    expect(n).toBe(5);
    expect(codes()).toEqual([]);
  });
});

describe('cyclic, reuse, caps, config', () => {
  test('cyclic: a callback per period until terminated; residue counts down the ring', () => {
    const x = lab('arm64');
    let periods = 0;
    const cookie = run(x.client, () => {
      const d = dmaengine_prep_dma_cyclic(x.p.tx, 0x200000, 4096, 1024, DMA_MEM_TO_DEV, FLAGS)!;
      d.callback = () => periods++;
      const c = dmaengine_submit(d);
      dma_async_issue_pending(x.p.tx);
      return c;
    });
    M.clock.advance_to(M.clock.now + 3 * 40_960 + 5_000);
    expect(periods).toBe(12);
    const st = dma_tx_state_zero();
    expect(run(x.client, () => dmaengine_tx_status(x.p.tx, cookie, st))).toBe(DMA_IN_PROGRESS);
    expect(st.residue).toBeGreaterThan(0);
    expect(st.residue).toBeLessThanOrEqual(4096);
    run(x.client, () => dmaengine_terminate_sync(x.p.tx));
    const at = periods;
    run_for_ms(1);
    expect(periods).toBe(at);
    expect(x.tk.freed).toBe(1);
    expect(run(x.client, () => dmaengine_prep_dma_cyclic(x.p.tx, 0x200000, 4096, 1000, DMA_MEM_TO_DEV, FLAGS))).toBe(null);
  });

  test('a reusable descriptor goes back to the channel after completing, and is resubmitted; desc_free frees it', () => {
    const x = lab('x86-swiotlb');
    let done = 0;
    const d = run(x.client, () => {
      const d = dmaengine_prep_slave_single(x.p.rx, 0x100000, 128, DMA_DEV_TO_MEM, FLAGS)!;
      expect(dmaengine_desc_set_reuse(d)).toBe(0);
      d.callback = () => done++;
      return d;
    });
    for (let i = 0; i < 3; i++) {
      run(x.client, () => { dmaengine_submit(d); dma_async_issue_pending(x.p.rx); });
      run_for_ms(1);
    }
    expect(done).toBe(3);
    expect(x.tk.freed).toBe(0);
    expect(run(x.client, () => dmaengine_desc_free(d))).toBe(0);
    expect(x.tk.freed).toBe(1);
    const plain = run(x.client, () => dmaengine_prep_slave_single(x.p.rx, 0x100000, 128, DMA_DEV_TO_MEM, FLAGS)!);
    expect(run(x.client, () => dmaengine_desc_free(plain))).toBe(-EPERM);
  });

  test('dma_get_slave_caps() reports the provider\'s widths, directions, burst, residue, pause and terminate', () => {
    const x = lab('x86');
    const caps = dma_slave_caps_zero();
    expect(dma_get_slave_caps(x.p.rx, caps)).toBe(0);
    expect(caps).toEqual({ src_addr_widths: 0b10110, dst_addr_widths: 0b10110, directions: 0b110, min_burst: 0, max_burst: 16,
      max_sg_burst: 0, cmd_pause: true, cmd_resume: true, cmd_terminate: true,
      residue_granularity: DMA_RESIDUE_GRANULARITY_BURST, descriptor_reuse: true });
    expect(dma_get_slave_caps(null, caps)).toBe(-EINVAL);
    expect(run(x.client, () => dmaengine_slave_config(x.p.rx, { src_addr_width: DMA_SLAVE_BUSWIDTH_8_BYTES }))).toBe(-EINVAL);
    // A provider without memcpy: the prep wrapper returns NULL.
    expect(dmaengine_prep_dma_memcpy(x.p.rx, 0, 0, 64, FLAGS)).toBe(null);
  });

  test('the engine\'s transfer directions are not the mapping API\'s directions', () => {
    // Same numbers for the two that overlap (old code passing the wrong enum "works"), but
    // MEM_TO_MEM is 0 where 0 is DMA_BIDIRECTIONAL.
    expect([DMA_MEM_TO_DEV, DMA_DEV_TO_MEM]).toEqual([DMA_TO_DEVICE, DMA_FROM_DEVICE]);
    const x = lab('x86');
    expect(run(x.client, () => dmaengine_prep_slave_single(x.p.rx, 0, 64, 0, FLAGS))).toBe(null);
  });
});

test('many descriptors completed before the tasklet runs: every callback runs, once, in order', () => {
  const x = lab('x86');
  const order: number[] = [];
  run(x.client, () => {
    for (let n = 0; n < 50; n++) {
      // 16 bytes each: 160 ns, so several complete within the tasklet's latency.
      const d = dmaengine_prep_slave_single(x.p.tx, 0x1000, 16, DMA_MEM_TO_DEV, FLAGS)!;
      d.callback = (p: number) => order.push(p);
      d.callback_param = n;
      dmaengine_submit(d);
    }
    dma_async_issue_pending(x.p.tx);
  });
  run_for_ms(1);
  expect(order).toEqual(Array.from({ length: 50 }, (_, i) => i));
  expect(x.tk.freed).toBe(50);
});
