// Used by rewritten driver files to record call sites (sim/site/transform.ts). Not for drivers.
export { __dmalab_s, __dmalab_sites } from '../../kernel/site.ts';
