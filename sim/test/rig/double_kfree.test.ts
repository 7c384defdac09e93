// Rig case double-kfree (KFREE_DOUBLE): kmalloc(64), kfree twice. The kernel's answer depends
// on the allocator; the sim answers as SLUB with slub_debug=F (the rig's "dbg" kernel).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { diagnostics } from '../../testing/index.ts';
import { run_rig, kernel_codes } from './rig.ts';
import { edu_dblkfree_driver } from '../drivers/rig/double_kfree.ts';
import { kmalloc, kfree } from '../../mm/slab_api.ts';
import { GFP_KERNEL } from '../../include/linux/gfp.ts';

/** SLUB's report, from the "====" line to its FIX line, with what differs from boot to boot
 *  blanked: addresses, byte values, counts, taint, PID, the call trace. */
function slub_block(lines: string[]): string[] {
  const a = lines.findIndex((l) => l.startsWith('====='));
  const b = lines.findIndex((l, i) => i > a && l.startsWith('FIX '));
  return lines.slice(a, b + 1)
    // (SLUB shows the 16 bytes before the object only when there are some in the slab: where
    // kmalloc put it differs between the rig's kernel and the sim.)
    .filter((l) => !/^( |  \||Call Trace:|Bytes b4 )/.test(l))
    .map((l) => l
      .replace(/\((Not tainted|Tainted: [^)]*)\)/, '(TAINT)')
      .replace(/Comm: (\S+) .*$/, 'Comm: $1 TAINT')
      .replace(/PID: \d+/, 'PID: N')
      .replace(/(0x)?[0-9a-f]{16}/g, 'ADDR')
      .replace(/(objects|used|offset)=\d+/g, '$1=N')
      .replace(/flags=\S+/, 'flags=F')
      .replace(/: ((?:[0-9a-f]{2} ){15}[0-9a-f]{2})  .{16}$/, ': BYTES'));
}

describe('rig double-kfree', () => {
  test('x86: SLUB\'s "Object already free" report, the object not freed again, and the driver goes on', () => {
    const k = fs.readFileSync(path.resolve(import.meta.dirname, '../../../tools/kernel-rig-cases/double-kfree/double-kfree-dbg-slub_debug_F.txt'), 'utf8').split('\n');
    const r = run_rig(edu_dblkfree_driver, 'x86');
    expect(r.ret).toBe(0);
    expect(slub_block(r.all)).toEqual(slub_block(k));
    expect(kernel_codes()).toEqual(['KFREE_DOUBLE']);
    expect(r.all.some((l) => l.includes('CASE: survived the double kfree'))).toBe(true);
    // The object printed is the one freed twice, and it is 64 bytes: four rows of the dump.
    const p = /kmalloc\(64\)=([0-9a-f]{16})/.exec(r.all.find((l) => l.includes('kfree twice'))!)![1]!;
    expect(r.all).toContain(`FIX kmalloc-64: Object at 0x${p} not freed`);
    expect(r.all.filter((l) => l.startsWith(`Object   `))).toHaveLength(4);
    expect(diagnostics().find((d) => d.code === 'KFREE_DOUBLE')!.sites[0]!.site.fn).toBe('probe');
  });

  test('a pointer into the middle of an object: SLUB\'s "Invalid object pointer", code KFREE_INVALID', () => {
    const r = run_rig({ ...edu_dblkfree_driver, probe: () => {
      const p = kmalloc(64, GFP_KERNEL);
      kfree(p + 8);
      kfree(p);
      return 0;
    } }, 'x86');
    expect(r.ret).toBe(0);
    expect(kernel_codes()).toEqual(['KFREE_INVALID']);
    expect(r.all.some((l) => /^BUG kmalloc-64 \(Not tainted\): Invalid object pointer 0x[0-9a-f]{16}$/.test(l))).toBe(true);
    // The good free afterwards is quiet.
    expect(diagnostics()).toHaveLength(1);
  });

  test('an object with neighbours before it: the 16 bytes before it are shown too', () => {
    const r = run_rig({ ...edu_dblkfree_driver, probe: () => {
      const a = kmalloc(64, GFP_KERNEL), b = kmalloc(64, GFP_KERNEL);
      kfree(b);
      kfree(b);
      kfree(a);
      return 0;
    } }, 'x86');
    expect(r.ret).toBe(0);
    const i = r.all.findIndex((l) => l.startsWith('Bytes b4 '));
    expect(r.all[i + 1]).toMatch(/^Object   [0-9a-f]{16}: /);
    expect(kernel_codes()).toEqual(['KFREE_DOUBLE']);
  });
});
