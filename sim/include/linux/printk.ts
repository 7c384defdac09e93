// include/linux/printk.h
import { M } from '../../kernel/machine.ts';
import { kfmt } from '../../kernel/printk.ts';
export { KERN_EMERG, KERN_ALERT, KERN_CRIT, KERN_ERR, KERN_WARNING, KERN_NOTICE, KERN_INFO, KERN_DEBUG } from '../../kernel/printk.ts';

export function printk(fmt: string, ...args: unknown[]): void { M.printk(4, kfmt(fmt, args)); }
export function pr_emerg(fmt: string, ...args: unknown[]): void { M.printk(0, kfmt(fmt, args)); }
export function pr_err(fmt: string, ...args: unknown[]): void { M.printk(3, kfmt(fmt, args)); }
export function pr_warn(fmt: string, ...args: unknown[]): void { M.printk(4, kfmt(fmt, args)); }
export function pr_notice(fmt: string, ...args: unknown[]): void { M.printk(5, kfmt(fmt, args)); }
export function pr_info(fmt: string, ...args: unknown[]): void { M.printk(6, kfmt(fmt, args)); }
export function pr_debug(_fmt: string, ..._args: unknown[]): void {}
