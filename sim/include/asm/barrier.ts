// arch/*/include/asm/barrier.h. On arm64 (arch/arm64/include/asm/barrier.h) dma_wmb() is
// `dmb oshst`, dma_rmb() `dmb oshld`, wmb()/rmb()/mb() `dsb st`/`dsb ld`/`dsb sy`: here they
// drain the CPU's store buffer or make a load ordering point in the weak-ordering model
// (sim/mm/order.ts). On x86 (arch/x86/include/asm/barrier.h) the CPU keeps program order for
// these cases and they change nothing. The smp_*() barriers order CPUs among themselves (inner
// shareable on arm64), not the CPU against a device: they change nothing here either.
import { M } from '../../kernel/machine.ts';
export function mb(): void { M.order?.full(); }
export function rmb(): void { M.order?.point(); }
export function wmb(): void { M.order?.drain(); }
export function dma_rmb(): void { M.order?.point(); }
export function dma_wmb(): void { M.order?.drain(); }
export function smp_mb(): void {}
export function smp_rmb(): void {}
export function smp_wmb(): void {}
