// Out-parameters: ref(obj, 'field') is C's &obj->field; out(0) a variable passed by address.
export { ref, out } from '../../lib/ref.ts';
export type { Ref } from '../../lib/ref.ts';
