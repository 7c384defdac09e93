// include/linux/list.h (the parts providers use on descriptor lists)
export { LIST_HEAD, list_node_init, list_del, list_del_init, list_add_tail, list_add, list_move_tail, list_empty,
  list_first_entry_or_null, list_splice_tail_init, list_for_each_entry_safe } from '../../lib/list.ts';
export type { list_head } from '../../lib/list.ts';
