// printk and the dmesg ring (kernel/printk/printk.c): every line the machine prints, with
// its virtual timestamp, in the kernel's "[    1.234567] " format.
import { vsprintf } from '../lib/vsprintf.ts';

export const KERN_EMERG = 0, KERN_ALERT = 1, KERN_CRIT = 2, KERN_ERR = 3, KERN_WARNING = 4,
  KERN_NOTICE = 5, KERN_INFO = 6, KERN_DEBUG = 7;

export interface LogLine { t: number; level: number; text: string }

export class Dmesg {
  readonly lines: LogLine[] = [];
  private cap: number;
  /** Mirror lines to the console as they are printed (the playground turns it on). */
  echo: ((l: LogLine) => void) | null = null;
  constructor(cap = 20000) {
    this.cap = cap;
  }
  push(t: number, level: number, text: string): void {
    for (const part of text.replace(/\n$/, '').split('\n')) {
      const l = { t, level, text: part };
      this.lines.push(l);
      this.echo?.(l);
    }
    if (this.lines.length > this.cap) this.lines.splice(0, this.lines.length - this.cap);
  }
  /** The lines as `dmesg` prints them. */
  format(from = 0): string[] {
    return this.lines.slice(from).map(stamp);
  }
  texts(from = 0): string[] {
    return this.lines.slice(from).map((l) => l.text);
  }
}

export function stamp(l: LogLine): string {
  const us = Math.floor(l.t / 1000);
  const sec = Math.floor(us / 1e6);
  return `[${String(sec).padStart(5)}.${String(us % 1e6).padStart(6, '0')}] ${l.text}`;
}

/** Format a kernel-style message: with arguments it is a printf format, without it is text. */
export function kfmt(fmt: string, args: readonly unknown[]): string {
  return args.length ? vsprintf(fmt, args) : fmt;
}
