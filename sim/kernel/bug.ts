// BUG() and WARN(): the kernel's two ways of saying "this cannot be". A BUG is an oops (an
// invalid opcode on x86, a BRK on arm64), and with oops=panic the end of the machine; a WARN is
// reported and the code goes on.
import { die } from './die.ts';
import type { Code } from './codes.ts';
import type { Site } from './site.ts';

/** BUG() at `where` ('include/linux/scatterlist.h:143'); `lines` are dmalab's words, printed
 *  before it; `rip` the kernel function it is in, when the sim knows it. */
export function kernel_bug(code: Code, where: string, lines: string[], site: Site, rip?: string): never {
  die(code, {
    head: ['------------[ cut here ]------------', `kernel BUG at ${where}!`],
    x86: ['invalid opcode', 0], arm64: ['Oops - BUG', 0xf2000800],
    notes: lines, site: ['Called at', site], kind: 'bug', message: `kernel BUG at ${where}`, ...(rip ? { rip } : {}),
  });
}
