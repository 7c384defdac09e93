// arch/*/include/asm/barrier.h. One CPU, program order: the sim does not reorder memory
// accesses, so these record that a barrier was placed (device models may check for it).
import { M } from '../../kernel/machine.ts';
export let barrier_count = 0;
function note(): void { barrier_count++; M.barriers++; }
export function mb(): void { note(); }
export function rmb(): void { note(); }
export function wmb(): void { note(); }
export function dma_rmb(): void { note(); }
export function dma_wmb(): void { note(); }
export function smp_mb(): void { note(); }
export function smp_rmb(): void { note(); }
export function smp_wmb(): void { note(); }
