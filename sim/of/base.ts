// The device tree as drivers read it (drivers/of/base.c, property.c): nodes with named
// properties, string lists ("dma-names"), phandle lists with argument cells ("dmas" and the
// provider's "#dma-cells"), compatible matching. The machine description (sim/of/platform.ts)
// builds the nodes; drivers only read them.
import { EINVAL, ENODATA, ENOENT } from '../kernel/errno.ts';
import type { Ref } from '../lib/ref.ts';

/** A phandle reference with its argument cells, as stored in a "dmas"-like property. */
export interface of_phandle_ref { np: device_node; args: number[] }
export type of_prop = string[] | number[] | of_phandle_ref[] | boolean;

export interface device_node {
  /** Node name without the unit address: 'serial'. */
  name: string;
  /** '/soc/serial@9040000', as %pOF prints it. */
  full_name: string;
  properties: Map<string, of_prop>;
  /** @internal the platform device created for it, if any */
  _dev?: unknown;
}

export interface of_phandle_args { np: device_node | null; args_count: number; args: number[] }
export interface of_device_id { compatible: string; data?: unknown }

export function of_node_init(name: string, full_name: string, props: Record<string, of_prop | undefined> = {}): device_node {
  const properties = new Map<string, of_prop>();
  for (const [k, v] of Object.entries(props)) if (v !== undefined) properties.set(k, v);
  return { name, full_name, properties };
}

export function of_node_full_name(np: device_node | null): string {
  return np ? np.full_name : '<no-node>';
}

export function of_find_property(np: device_node | null, name: string): of_prop | null {
  return np?.properties.get(name) ?? null;
}
export function of_property_present(np: device_node | null, name: string): boolean {
  return of_find_property(np, name) !== null;
}
export function of_property_read_bool(np: device_node | null, name: string): boolean {
  return of_property_present(np, name);
}

function strings(np: device_node | null, name: string): string[] | number {
  const p = of_find_property(np, name);
  if (p === null) return -EINVAL;
  if (!Array.isArray(p) || !p.length) return -ENODATA;
  return p.every((x) => typeof x === 'string') ? (p as string[]) : -EINVAL;
}

/** Number of strings in a string-list property, or -EINVAL / -ENODATA. */
export function of_property_count_strings(np: device_node | null, name: string): number {
  const s = strings(np, name);
  return typeof s === 'number' ? s : s.length;
}
export function of_property_read_string_index(np: device_node | null, name: string, index: number, out: Ref<string>): number {
  const s = strings(np, name);
  if (typeof s === 'number') return s;
  if (index < 0 || index >= s.length) return -ENODATA;
  out.value = s[index]!;
  return 0;
}
export function of_property_read_string(np: device_node | null, name: string, out: Ref<string>): number {
  return of_property_read_string_index(np, name, 0, out);
}
/** Index of `str` in a string-list property, or -ENODATA when absent from it. */
export function of_property_match_string(np: device_node | null, name: string, str: string): number {
  const s = strings(np, name);
  if (typeof s === 'number') return s;
  const i = s.indexOf(str);
  return i >= 0 ? i : -ENODATA;
}

export function of_property_read_u32(np: device_node | null, name: string, out: Ref<number>): number {
  const p = of_find_property(np, name);
  if (p === null) return -EINVAL;
  if (!Array.isArray(p) || typeof p[0] !== 'number') return -ENODATA;
  out.value = p[0] as number;
  return 0;
}

/** Entry `index` of a phandle list, checked against the target's `cells_name` count. */
export function of_parse_phandle_with_args(np: device_node | null, list_name: string, cells_name: string,
  index: number, out: of_phandle_args): number {
  const p = of_find_property(np, list_name);
  if (!Array.isArray(p) || index < 0 || index >= p.length) return -ENOENT;
  const ref = p[index] as of_phandle_ref;
  if (typeof ref !== 'object' || !ref.np) return -ENOENT;
  const cells = of_find_property(ref.np, cells_name);
  const n = Array.isArray(cells) && typeof cells[0] === 'number' ? (cells[0] as number) : 0;
  if (ref.args.length !== n) return -EINVAL;
  out.np = ref.np;
  out.args_count = n;
  out.args = ref.args.slice();
  return 0;
}

export function of_device_is_compatible(np: device_node | null, compat: string): boolean {
  const s = strings(np, 'compatible');
  return typeof s !== 'number' && s.includes(compat);
}

/** The first entry of `matches` compatible with the node (in the node's preference order). */
export function of_match_node(matches: of_device_id[] | undefined, np: device_node | null): of_device_id | null {
  const s = strings(np, 'compatible');
  if (!matches || typeof s === 'number') return null;
  for (const c of s) for (const m of matches) if (m.compatible === c) return m;
  return null;
}

/** of_dma_is_coherent(): does the node say its DMA snoops the CPU caches? */
export function of_dma_is_coherent(np: device_node | null): boolean {
  return of_property_read_bool(np, 'dma-coherent');
}
