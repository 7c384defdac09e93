// Doubly linked lists as drivers use them (include/linux/list.h), for entries that carry a
// `node`: a list is an array of entries, and each entry's node knows which list holds it, so
// list_del(&vd->node) reads as list_del(vd.node).
export interface list_head { owner: unknown; list: unknown[] | null }
export interface listed { node: list_head }

/** LIST_HEAD(name): an empty list. */
export function LIST_HEAD<T extends listed>(): T[] {
  return [];
}
/** INIT_LIST_HEAD() for an entry's node: on no list. */
export function list_node_init(owner: unknown): list_head {
  return { owner, list: null };
}
export function list_del(n: list_head): void {
  const l = n.list;
  if (!l) return;
  const i = l[0] === n.owner ? 0 : l.indexOf(n.owner);
  if (i === 0) l.shift();
  else if (i > 0) l.splice(i, 1);
  n.list = null;
}
export const list_del_init = list_del;
export function list_add_tail<T extends listed>(n: list_head, head: T[]): void {
  list_del(n);
  head.push(n.owner as T);
  n.list = head;
}
export function list_add<T extends listed>(n: list_head, head: T[]): void {
  list_del(n);
  head.unshift(n.owner as T);
  n.list = head;
}
export const list_move_tail = list_add_tail;
export function list_empty(head: readonly unknown[]): boolean {
  return head.length === 0;
}
export function list_first_entry_or_null<T>(head: readonly T[]): T | null {
  return head.length ? head[0]! : null;
}
/** Move every entry of `list` to the end of `head`, leaving `list` empty. */
export function list_splice_tail_init<T extends listed>(list: T[], head: T[]): void {
  for (const e of list) {
    e.node.list = head;
    head.push(e);
  }
  list.length = 0;
}
export function list_for_each_entry_safe<T>(head: readonly T[], fn: (e: T) => void): void {
  for (const e of [...head]) fn(e);
}
