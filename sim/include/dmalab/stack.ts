// A buffer on the current task's kernel stack: stack_alloc(64) is C's `u8 buf[64];` inside a
// function. It lives until the driver call returns. Kernel stacks are vmalloc memory
// (CONFIG_VMAP_STACK), which is why DMA to them is refused.
import { M } from '../../kernel/machine.ts';
import { die } from '../../kernel/die.ts';
import { px } from '../../lib/vsprintf.ts';

export function stack_alloc(size: number): number {
  const st = M.stacks.of(M.sched.task.pid);
  const sp = Math.floor((st.sp - size) / 16) * 16;
  if (sp < st.addr + 1024) {
    // x86's handle_stack_overflow(): die("kernel stack overflow (double-fault)").
    die('OOPS', { head: [`BUG: stack guard page was hit at ${px(sp)} (stack is ${px(st.addr)}..${px(st.addr + 16384 - 1)})`],
      x86: ['kernel stack overflow (double-fault)', 0], arm64: ['Oops', 0], message: 'kernel stack overflow' });
  }
  st.sp = sp;
  return sp;
}
