// The kernel's printf as drivers use it (lib/vsprintf.c): raw %px, %pa / %pad, and %p hashed.
import { describe, expect, test } from 'vitest';
import { vsprintf } from '../../lib/vsprintf.ts';
import { machine } from '../../testing/index.ts';

describe('vsprintf', () => {
  test('%px, %pa and %pad print the address; %p and %pK a hash of it, stable from run to run; NULL and error pointers as they are', () => {
    const m = machine({ shape: 'x86' });
    const bar = m.mmu.page_offset + 0x1000;
    const raw = vsprintf('%px', [bar]);
    expect(raw).toMatch(/^ffff888000001000$/);
    expect(vsprintf('%pad', [0x47d2000])).toBe('0x00000000047d2000');
    const hashed = vsprintf('%p', [bar]);
    expect(hashed).toMatch(/^00000000[0-9a-f]{8}$/);
    expect(hashed).not.toBe(raw);
    expect(vsprintf('%pK', [bar])).toBe(hashed);
    expect(vsprintf('%p', [bar])).toBe(hashed);
    expect(vsprintf('%p', [bar + 64])).not.toBe(hashed);
    expect(vsprintf('free_irq returned %p', [0])).toBe('free_irq returned 0000000000000000');
    expect(vsprintf('%p', [-12])).toBe('fffffffffffffff4');
  });
});
