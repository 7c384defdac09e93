// Call sites: driver files are rewritten so each kernel call records file:line:col and the
// enclosing function (sim/site/transform.ts), whatever the function's signature looks like.
import { expect, test } from 'vitest';
import { transform_sites } from '../../site/transform.ts';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../kernel/site.ts';
import { setup, drv, caught } from '../rules/lab.ts';
import * as L from '../drivers/lab.ts';

const SRC = `import { kfree, kmalloc } from '#linux/slab';
export function plain(n: number): number { return kmalloc(n, 0); }
export function typed_param(c: { cpu: number; dma: number }): void { kfree(c.cpu); }
export function typed_return(n: number): { cpu: number; dma: number } { return { cpu: kmalloc(n, 0), dma: 0 }; }
export function generic<T extends { a: number }>(x: T, y: Array<{ b: number }>): Promise<{ c: number }> | { d: number } { kfree(x.a); return null!; }
const arrow = (p: { q: number }): { r: number } => { kfree(p.q); return { r: 0 }; };
const expr = (p: number) => kfree(p);
function outer(): void {
  function inner(a: { b: number }) { kfree(a.b); }
  inner({ b: 1 });
  if (1) { kfree(2); }
}
kfree(0);
`;

test('each call is named after the function it is in, with object types in the signature', () => {
  const t = transform_sites(SRC, 'x.ts')!;
  const m = /__dmalab_sites\("x\.ts", (\[.*?\])\); /.exec(t.code);
  expect(m).not.toBeNull();
  const sites = JSON.parse(m![1]!) as [number, number, string][];
  expect(sites.map((s) => `${s[0]}:${s[2]}`)).toEqual([
    '2:plain', '3:typed_param', '4:typed_return', '5:generic', '6:arrow', '7:<module>', '9:inner', '11:outer', '13:<module>',
  ]);
});

// A report from a rewritten driver file points at the exact line and column of the call.

function where(file: string, needle: string, call: string): { line: number; col: number } {
  const lines = fs.readFileSync(path.join(REPO_ROOT, file), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  expect(i, needle).toBeGreaterThanOrEqual(0);
  return { line: i + 1, col: lines[i]!.indexOf(call) + 1 };
}

test.each(['x86', 'arm64-smmu'] as const)('%s: diagnostics carry the driver\'s file:line:col of each call', (shape) => {
  const x = setup(shape);
  const buf = drv(x, () => L.lab_alloc(4096));
  drv(x, (l) => L.lab_map(l, buf, 4096, L.DMA_FROM_DEVICE));
  drv(x, () => L.lab_get8(buf));
  const d = caught('CPU_ACCESS_DEVICE_OWNED', /CPU read 1 byte/, ['CPU read at', 'Mapped at']);
  const read = where('sim/test/drivers/lab.ts', 'return get_u8(p);', 'get_u8');
  const map = where('sim/test/drivers/lab.ts', 'const h = dma_map_single(l.pdev.dev, buf, len, dir);', 'dma_map_single');
  expect(d.sites.map((s) => [s.label, s.site.file, s.site.line, s.site.col, s.site.fn])).toEqual([
    ['CPU read at', 'sim/test/drivers/lab.ts', read.line, read.col, 'lab_get8'],
    ['Mapped at', 'sim/test/drivers/lab.ts', map.line, map.col, 'lab_map'],
  ]);
  // The printed report says the same.
  expect(x.m.dmesg.texts().join('\n')).toContain(`dmalab:   CPU read at: sim/test/drivers/lab.ts:${read.line}:${read.col} (lab_get8)`);
});

test('a struct_layout()\'s get/set calls are call sites too (a descriptor field store is where a report points)', () => {
  const src = `import { struct_layout } from '#dmalab/mem';
export const desc = struct_layout({ addr: 'u64', len: 'u16' });
export function fill(d: number): void {
  desc.set(d, 'len', 5);
  other.set(d, 'len', 5);
  return desc.get(d, 'len');
}
`;
  const t = transform_sites(src, 'y.ts')!;
  const sites = JSON.parse(/__dmalab_sites\("y\.ts", (\[.*?\])\); /.exec(t.code)![1]!) as [number, number, string][];
  expect(sites).toEqual([[2, 21, '<module>'], [4, 8, 'fill'], [6, 15, 'fill']]);
  expect(t.code).toContain("desc.set(d, 'len', __dmalab_s(__dmalab_b + 1, 5));");
  expect(t.code).toContain("other.set(d, 'len', 5);");
});
