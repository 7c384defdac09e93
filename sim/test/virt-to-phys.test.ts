// virt_to_phys() of an address outside the linear map warns on every machine (every boot), not
// only on the first machine a test file builds.
import { describe, expect, test } from 'vitest';
import { machine, has } from '../testing/index.ts';
import { vmalloc, vfree, virt_to_phys } from '../index.ts';

/** One call site, used on several machines. */
function v2p(v: number): number {
  return virt_to_phys(v);
}

describe('virt_to_phys of a non-linear address', () => {
  test('warns on each machine, at the same call site', () => {
    for (const [i, shape] of (["arm64", "x86", "arm64"] as const).entries()) {
      machine({ shape });
      const v = vmalloc(4096);
      v2p(v);
      expect(has('VIRT_TO_PHYS_NONLINEAR'), `machine ${i} (${shape})`).toBe(true);
      vfree(v);
    }
  });
});
