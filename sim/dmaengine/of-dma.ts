// drivers/dma/of-dma.c: a provider makes its channels findable from the device tree with
// of_dma_controller_register(np, xlate, data); a client's "dmas" + "dma-names" then resolve,
// through the xlate, to a channel. A "dmas" entry whose controller has not registered yet gives
// -EPROBE_DEFER, a name that is not there -ENODEV.
import { M } from '../kernel/machine.ts';
import { EINVAL, ENODEV, EPROBE_DEFER, ERR_PTR } from '../kernel/errno.ts';
import { of_node_full_name, of_parse_phandle_with_args, of_property_count_strings, of_property_present,
  of_property_read_string_index, type device_node, type of_phandle_args } from '../of/base.ts';
import type { dma_chan, dma_device } from './types.ts';
import { dma_get_slave_channel } from './dmaengine.ts';

export interface of_dma {
  of_node: device_node;
  of_dma_xlate: (dma_spec: of_phandle_args, ofdma: of_dma) => dma_chan | null;
  of_dma_data: unknown;
}

/** Each machine's of_dma_list, and the round-robin start of of_dma_request_slave_channel(). */
const machines = new WeakMap<object, { list: of_dma[]; last_index: number }>();
function st(): { list: of_dma[]; last_index: number } {
  let s = machines.get(M);
  if (!s) machines.set(M, s = { list: [], last_index: 0 });
  return s;
}
function list(): of_dma[] {
  return st().list;
}

export function of_dma_controller_register(np: device_node | null,
  of_dma_xlate: ((dma_spec: of_phandle_args, ofdma: of_dma) => dma_chan | null) | null, data: unknown): number {
  if (!np || !of_dma_xlate) {
    M.printk(3, 'of_dma_controller_register: not enough information provided');
    return -EINVAL;
  }
  list().push({ of_node: np, of_dma_xlate, of_dma_data: data });
  return 0;
}

export function of_dma_controller_free(np: device_node): void {
  const l = list();
  const i = l.findIndex((o) => o.of_node === np);
  if (i >= 0) l.splice(i, 1);
}

function of_dma_find_controller(spec: of_phandle_args): of_dma | null {
  return list().find((o) => o.of_node === spec.np) ?? null;
}

/** of_dma_request_slave_channel(np, name): the channel named `name` in np's dma-names. */
export function of_dma_request_slave_channel(np: device_node | null, name: string | null): dma_chan {
  if (!np || !name) {
    M.printk(3, 'of_dma_request_slave_channel: not enough information provided');
    return ERR_PTR(-ENODEV);
  }
  // Silently fail if there is not even the "dmas" property.
  if (!of_property_present(np, 'dmas')) return ERR_PTR(-ENODEV);
  const count = of_property_count_strings(np, 'dma-names');
  if (count < 0) {
    M.printk(3, `of_dma_request_slave_channel: dma-names property of node '${of_node_full_name(np)}' missing or empty`);
    return ERR_PTR(-ENODEV);
  }
  let ret_no_channel = -ENODEV;
  // Entries sharing a name are tried round-robin, starting one further each call.
  const start = ++st().last_index;
  for (let i = 0; i < count; i++) {
    const index = (i + start) % count;
    const s = { value: '' };
    if (of_property_read_string_index(np, 'dma-names', index, s) || s.value !== name) continue;
    const spec: of_phandle_args = { np: null, args_count: 0, args: [] };
    if (of_parse_phandle_with_args(np, 'dmas', '#dma-cells', index, spec)) continue;
    const ofdma = of_dma_find_controller(spec);
    let chan: dma_chan | null = null;
    if (ofdma) chan = ofdma.of_dma_xlate(spec, ofdma);
    else ret_no_channel = -EPROBE_DEFER;
    if (chan) return chan;
  }
  return ERR_PTR(ret_no_channel);
}

/** of_dma_xlate_by_chan_id: the single cell is the channel's chan_id in the provider's list
 *  (of_dma_data is the struct dma_device). */
export function of_dma_xlate_by_chan_id(dma_spec: of_phandle_args, ofdma: of_dma): dma_chan | null {
  const dev = ofdma.of_dma_data as dma_device | null;
  if (!dev || dma_spec.args_count !== 1) return null;
  const candidate = dev.channels.find((c) => c.chan_id === dma_spec.args[0]);
  if (!candidate) return null;
  return dma_get_slave_channel(candidate);
}
