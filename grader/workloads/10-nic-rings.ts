// The playground run of exercise 10 (npm run try -- 10 [--shape arm64]): bind (probe brings the
// rings up), send a few packets while the peer sends a few frames back, print what crossed the
// wire each way and the driver's counters, then unbind with packets still queued and frames
// still arriving (remove must stop the chip before it frees anything).
import type { Playground } from '../try.ts';
import type * as Solution from '../../solutions/10-nic-rings/driver.ts';
import { kmalloc, kfree, GFP_KERNEL } from '#sim';
import { fill, pattern, run_for_ms } from '#sim/testing';
import { dev_info } from '#linux/device';

export default function workload(t: Playground, drv: typeof Solution): void {
  const { pdev, nic: hw, peer } = t.plug_e1000();
  if (t.bind(drv.nic_driver, pdev) !== 0) return;
  const nic = pdev.dev.driver_data as Solution.nic_dev;
  const sizes = [60, 200, 256, 257, 1000, 1514];
  peer.send(sizes.map((n, i) => pattern(n, 100 + i)));
  sizes.forEach((n, i) => {
    const buf = kmalloc(n, GFP_KERNEL);
    fill(buf, pattern(n, i + 1));
    const ret = t.call(pdev, () => drv.nic_xmit(nic, buf, n));
    t.log(`nic_xmit(nic, <${n} bytes>, ${n}) = ${ret}`);
    if (ret !== 0) kfree(buf);
  });
  run_for_ms(1);
  const got: number[] = [];
  for (let f; (f = t.call(pdev, () => drv.nic_receive(nic)));) got.push(f.length);
  t.log(`the peer received ${peer.received.length} frames (${peer.received.map((f) => f.length).join(', ')} bytes)`);
  t.log(`nic_receive() returned ${got.length} frames (${got.join(', ')} bytes)`);
  const st = t.call(pdev, () => drv.nic_stats(nic));
  dev_info(pdev.dev, 'tx_packets %d rx_packets %d rx_dropped %d; TDH %d TDT %d RDH %d RDT %d\n',
    st.tx_packets, st.rx_packets, st.rx_dropped, hw.tdh, hw.tdt, hw.rdh, hw.rdt);
  // Traffic in flight both ways, then remove.
  peer.send(sizes.map((n, i) => pattern(n, 200 + i)), { gap_ns: [500, 1000] });
  for (const [i, n] of sizes.entries()) {
    const buf = kmalloc(n, GFP_KERNEL);
    fill(buf, pattern(n, 300 + i));
    if (t.call(pdev, () => drv.nic_xmit(nic, buf, n)) !== 0) kfree(buf);
  }
  t.log(`unbinding with ${hw.tdt - hw.tdh} packets on the TX ring and ${peer.in_flight()} frames on the wire`);
  t.unbind(pdev);
}
