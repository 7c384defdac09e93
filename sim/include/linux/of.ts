// include/linux/of.h, mod_devicetable.h (struct of_device_id)
export { of_find_property, of_property_present, of_property_read_bool, of_property_count_strings,
  of_property_read_string_index, of_property_read_string, of_property_match_string, of_property_read_u32,
  of_parse_phandle_with_args, of_device_is_compatible, of_match_node, of_node_full_name,
  of_dma_is_coherent } from '../../of/base.ts';
export type { device_node, of_phandle_args, of_device_id } from '../../of/base.ts';
/** of_match_ptr(): the table itself (CONFIG_OF=y). */
export function of_match_ptr<T>(t: T): T {
  return t;
}
