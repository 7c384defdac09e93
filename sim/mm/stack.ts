// Kernel task stacks: 16 KiB each, vmalloc'ed (CONFIG_VMAP_STACK, as on distribution kernels),
// so a buffer "on the stack" is a vmalloc address, physically scattered. Drivers get one with
// stack_alloc() (sim/include/dmalab/stack.ts), the stand-in for `u8 buf[64];` in a C function.
import { M } from '../kernel/machine.ts';
import { PAGE_SIZE, PageKind } from './page_alloc.ts';
import type { VmArea } from './memory.ts';

export const THREAD_SIZE = 16384;

export interface TaskStack { pid: number; addr: number; pages: number[]; sp: number; area: VmArea }

export class Stacks {
  private by_pid = new Map<number, TaskStack>();

  of(pid: number): TaskStack {
    let s = this.by_pid.get(pid);
    if (!s) {
      const pages: number[] = [];
      for (let i = 0; i < THREAD_SIZE / PAGE_SIZE; i++) {
        const pfn = M.pages.alloc(0, 0, PageKind.VMALLOC, 0, undefined);
        pages.push(pfn * PAGE_SIZE);
      }
      const area = M.mmu.map_area(THREAD_SIZE, pages, 0, 'stack', 0, undefined, THREAD_SIZE);
      s = { pid, addr: area.addr, pages, sp: area.addr + THREAD_SIZE - 0x100, area };
      this.by_pid.set(pid, s);
    }
    return s;
  }

  /** The stack of the task running now (interrupt handlers borrow the interrupted task's). */
  current(): TaskStack | null {
    const t = M.sched.task;
    return t.pid === 0 && !M.sched.in_interrupt() ? null : this.of(t.pid);
  }

  /** Is v inside some task's stack? Which one? */
  owner_of(v: number): TaskStack | null {
    for (const s of this.by_pid.values()) if (v >= s.addr && v < s.addr + THREAD_SIZE) return s;
    return null;
  }
}
