// A buffer on the current task's kernel stack: stack_alloc(64) is C's `u8 buf[64];` inside a
// function. It lives until the driver call returns. Kernel stacks are vmalloc memory
// (CONFIG_VMAP_STACK), which is why DMA to them is refused.
import { M } from '../../kernel/machine.ts';
import { KernelHalt } from '../../kernel/sched.ts';

export function stack_alloc(size: number): number {
  const st = M.stacks.of(M.sched.task.pid);
  const sp = Math.floor((st.sp - size) / 16) * 16;
  if (sp < st.addr + 1024) {
    M.diag.report('OOPS', [`BUG: stack guard page was hit at ${sp.toString(16)} (stack is ${st.addr.toString(16)}..${(st.addr + 16384).toString(16)})`,
      'kernel stack overflow (double-fault)'], { distinct: true });
    throw new KernelHalt('oops', 'kernel stack overflow');
  }
  st.sp = sp;
  return sp;
}
