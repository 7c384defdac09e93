// Call sites: driver files are rewritten so each kernel call records file:line:col and the
// enclosing function (sim/site/transform.ts), whatever the function's signature looks like.
import { expect, test } from 'vitest';
import { transform_sites } from '../../site/transform.ts';

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
