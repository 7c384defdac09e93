// CPU_RACES_DEVICE: the CPU reading bytes a running transfer has yet to write, or writing bytes
// it has yet to read, for the transfers a device model declares (edu's DMA). Reported at the
// CPU access with both sites, on every shape, for coherent and streaming memory alike; the
// same access after the transfer is clean.
import { describe, expect, test } from 'vitest';
import { pattern, compare, unbind, all_shapes } from '../../testing/index.ts';
import { setup, drv, caught, clean, with_code } from './lab.ts';
import * as L from '../drivers/lab.ts';

const RACE_READ = /^dmalab: edu_lab 0000:00:03\.0: CPU read 64 bytes at [0-9a-f]{16} that the device has yet to write \(edu DMA edu -> RAM of 4096 bytes, still running\) \[device address=0x[0-9a-f]{16}\] \[size=4096 bytes\]\ndmalab: wait for the transfer to finish \(its interrupt or status bit\) before reading what the device writes: until then the CPU sees what was there before$/;
const RACE_WRITE = /^dmalab: edu_lab 0000:00:03\.0: CPU wrote 16 bytes at [0-9a-f]{16} that the device has yet to read \(edu DMA RAM -> edu of 4096 bytes, still running\) \[device address=0x[0-9a-f]{16}\] \[size=4096 bytes\]\ndmalab: fill the buffer before starting the transfer/;

describe.each(all_shapes())('%s', (shape) => {
  test('coherent memory: reading the result before the transfer is done is caught at the read; after the wait, clean', () => {
    const x = setup(shape);
    x.edu.dma_buf.set(pattern(4096, 5));
    const c = drv(x, (l) => L.lab_alloc_coherent(l, 4096));
    drv(x, (l) => L.lab_start(l, c.dma, 4096, true));
    const early = drv(x, () => L.lab_read(c.cpu, 64));
    const d = caught('CPU_RACES_DEVICE', RACE_READ, ['CPU read at', 'Transfer started at']);
    expect(d.origin).toBe('dmalab');
    expect(d.sites.map((s) => s.site.fn)).toEqual(['lab_read', 'lab_start']);
    // What the CPU saw is what was there before (zeroes), not the device's data.
    expect(compare(early, pattern(4096, 5).subarray(0, 64))).not.toBeNull();
    expect(drv(x, (l) => L.lab_wait(l))).toBe(0);
    expect(with_code('CPU_RACES_DEVICE')).toHaveLength(1);
    expect(compare(drv(x, () => L.lab_read(c.cpu, 4096)), pattern(4096, 5))).toBeNull();
    expect(with_code('CPU_RACES_DEVICE')).toHaveLength(1);
    drv(x, (l) => L.lab_free_coherent(l, 4096, c));
    unbind(x.pdev);

    const y = setup(shape);
    y.edu.dma_buf.set(pattern(4096, 5));
    const c2 = drv(y, (l) => L.lab_alloc_coherent(l, 4096));
    drv(y, (l) => L.lab_start(l, c2.dma, 4096, true));
    expect(drv(y, (l) => L.lab_wait(l))).toBe(0);
    expect(compare(drv(y, () => L.lab_read(c2.cpu, 4096)), pattern(4096, 5))).toBeNull();
    drv(y, (l) => L.lab_free_coherent(l, 4096, c2));
    unbind(y.pdev);
    clean();
  });

  test('coherent memory: writing the source while the device has yet to read it is caught; filling it first is clean', () => {
    const x = setup(shape);
    const c = drv(x, (l) => L.lab_alloc_coherent(l, 4096));
    drv(x, (l) => L.lab_start(l, c.dma, 4096, false));
    drv(x, () => L.lab_write(c.cpu + 32, pattern(16, 2)));
    caught('CPU_RACES_DEVICE', RACE_WRITE, ['CPU wrote at', 'Transfer started at']);
    // Reading the source while the device reads it is no race.
    drv(x, () => L.lab_read(c.cpu, 64));
    expect(with_code('CPU_RACES_DEVICE')).toHaveLength(1);
    expect(drv(x, (l) => L.lab_wait(l))).toBe(0);
    drv(x, (l) => L.lab_free_coherent(l, 4096, c));
    unbind(x.pdev);

    const y = setup(shape);
    const c2 = drv(y, (l) => L.lab_alloc_coherent(l, 4096));
    drv(y, () => L.lab_write(c2.cpu, pattern(4096, 2)));
    drv(y, (l) => L.lab_start(l, c2.dma, 4096, false));
    drv(y, () => L.lab_read(c2.cpu, 64));
    expect(drv(y, (l) => L.lab_wait(l))).toBe(0);
    drv(y, () => L.lab_write(c2.cpu, pattern(16, 3)));
    expect(compare(y.edu.dma_buf, pattern(4096, 2))).toBeNull();
    drv(y, (l) => L.lab_free_coherent(l, 4096, c2));
    unbind(y.pdev);
    clean();
  });

  test('streaming memory: a sync for the CPU and a read before the transfer is done is caught at the read (the buffer is CPU-owned by then)', () => {
    const x = setup(shape);
    x.edu.dma_buf.set(pattern(4096, 7));
    const buf = drv(x, () => L.lab_alloc(4096));
    const h = drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_FROM_DEVICE));
    drv(x, (l) => L.lab_start(l, h, 4096, true));
    drv(x, (l) => L.lab_sync_cpu(l, h, 4096, L.DMA_FROM_DEVICE));
    drv(x, () => L.lab_read(buf, 64));
    caught('CPU_RACES_DEVICE', RACE_READ, ['CPU read at', 'Transfer started at']);
    // The sync handed the buffer over, so the ownership rule has nothing to say: only the race.
    expect(with_code('CPU_ACCESS_DEVICE_OWNED')).toEqual([]);
    expect(drv(x, (l) => L.lab_wait(l))).toBe(0);
    drv(x, (l) => L.lab_unmap(l, h, 4096, L.DMA_FROM_DEVICE));
    expect(compare(drv(x, () => L.lab_read(buf, 4096)), pattern(4096, 7))).toBeNull();
    drv(x, () => L.lab_free(buf));
    unbind(x.pdev);
    expect(with_code('CPU_RACES_DEVICE')).toHaveLength(1);

    const y = setup(shape);
    y.edu.dma_buf.set(pattern(4096, 7));
    const b2 = drv(y, () => L.lab_alloc(4096));
    expect(drv(y, (l) => L.lab_rx(l, b2, 4096))).toBe(0);
    expect(compare(drv(y, () => L.lab_read(b2, 4096)), pattern(4096, 7))).toBeNull();
    drv(y, () => L.lab_free(b2));
    unbind(y.pdev);
    clean();
  });
});
