// A stand-in for device firmware on QEMU's edu, for exercises whose driver exchanges commands
// and replies with the device (exercise 06). edu itself computes nothing: it copies bytes
// between RAM and its 4 KiB buffer. Attached to an edu instance, this "firmware" watches every
// RAM -> edu transfer that lands at the start of the buffer (0x40000): it records the bytes as
// a command and writes a reply the test can check at 0x40000 + 64, where the driver fetches it.
//
// The reply to the n-byte command c, the k-th command the device received (k = 1, 2, ...):
//   byte 0        k mod 256
//   byte 1        n
//   bytes 2..63   c inverted (~c[i], like the liveness register), repeated: ~c[(j - 2) % n]
// so every reply differs from the last one and from the command, and stale bytes show.
import type { Edu } from '#sim/testing';

export const EDU_DMA_BUF = 0x40000;
export const EDU_CMD_OFF = 0x00;
export const EDU_REPLY_OFF = 0x40;
export const EDU_CMD_MAX = 64;
export const EDU_REPLY_LEN = 64;

/** The reply the firmware gives to `cmd` when it is the k-th command received. */
export function edu_reply_for(cmd: Uint8Array, k: number): Uint8Array {
  const r = new Uint8Array(EDU_REPLY_LEN);
  r[0] = k & 0xff;
  r[1] = cmd.length & 0xff;
  for (let j = 2; j < EDU_REPLY_LEN; j++) r[j] = ~cmd[(j - 2) % cmd.length]! & 0xff;
  return r;
}

export interface Firmware {
  /** Every command the device received, in order (the bytes that landed at 0x40000). */
  readonly commands: Uint8Array[];
  /** Transfers into edu's buffer that did not start at 0x40000 (offsets into the buffer). */
  readonly misplaced: number[];
  /** The reply the device gave to the k-th command (1-based), or null. */
  reply(k: number): Uint8Array | null;
}

/** Make `edu` answer each command it receives (see the file comment). */
export function attach_firmware(edu: Edu): Firmware {
  const fn = edu.fn;
  const commands: Uint8Array[] = [];
  const replies: Uint8Array[] = [];
  const misplaced: number[] = [];
  const dma_read = fn.dma_read.bind(fn);
  fn.dma_read = (addr: number, dst: Uint8Array, off: number, len: number): boolean => {
    const ok = dma_read(addr, dst, off, len);
    if (!ok || dst !== edu.dma_buf || len <= 0) return ok;
    if (off !== EDU_CMD_OFF) {
      misplaced.push(off);
      return ok;
    }
    const cmd = dst.slice(0, Math.min(len, EDU_CMD_MAX));
    commands.push(cmd);
    const r = edu_reply_for(cmd, commands.length);
    replies.push(r);
    dst.set(r, EDU_REPLY_OFF);
    return ok;
  };
  return {
    commands,
    misplaced,
    reply: (k) => replies[k - 1] ?? null,
  };
}
