// include/linux/completion.h
export { DECLARE_COMPLETION, init_completion, reinit_completion, complete, complete_all,
  completion_done, try_wait_for_completion, wait_for_completion, wait_for_completion_timeout,
  wait_for_completion_interruptible, wait_for_completion_interruptible_timeout,
  MAX_SCHEDULE_TIMEOUT } from '../../kernel/completion.ts';
export type { completion } from '../../kernel/completion.ts';
