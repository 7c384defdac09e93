// Out-parameters. C passes &x so a function can store into it (dma_alloc_coherent(dev, size,
// &priv->dma, GFP_KERNEL)); here that is ref(priv, 'dma'), or a free-standing out<T>().

export interface Ref<T> { value: T }

/** &obj->key: a reference to a field of an object. */
export function ref<O extends object, K extends keyof O>(obj: O, key: K): Ref<O[K]> {
  return {
    get value() { return obj[key]; },
    set value(v: O[K]) { obj[key] = v; },
  };
}

/** A fresh variable to pass by reference: const h = out(0); f(h); use h.value. */
export function out<T>(initial: T): Ref<T> {
  return { value: initial };
}
