// Values in the hidden tests' messages as the kernel prints them: kernel pointers as %px,
// physical and DMA addresses as %pa / %pad, errnos as '-5 (-EIO)'. Drivers made from the reference
// solutions with one mistake each, graded by `verify --json`; the solutions themselves are clean
// (the course proofs grade them).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errno_str } from '../../sim/kernel/errno.ts';
import { REPO_ROOT } from '../course.ts';
import { remove_scratch, scratch_course } from '../scratch.ts';
import type { Verdict } from '../verdict.ts';
import { cli } from './helpers.ts';

const root = scratch_course(REPO_ROOT, 'dmalab-values-');
afterAll(() => remove_scratch(root));

function broken(id: string, find: string, replace: string): void {
  const s = readFileSync(join(REPO_ROOT, 'solutions', id, 'driver.ts'), 'utf8');
  expect(s.split(find).length - 1, `"${find}" in solutions/${id}/driver.ts`).toBe(1);
  writeFileSync(join(root, 'exercises', id, 'driver.ts'), s.replace(find, () => replace));
}

let verdicts: Verdict[] = [];
const lines = (id: string) => verdicts.find((v) => v.exercise === id)!.tests.flatMap((t) => [t.message ?? '', ...t.diagnostics.flatMap((d) => d.lines)]);

beforeAll(() => {
  broken('02-dma-addresses', '  const virt = edu.buf;\n', '  const virt = edu.buf + 64;\n');
  broken('06-what-you-can-map', '  if (cmd.length === 0 || cmd.length > EDU_CMD_MAX)\n    return -EINVAL;', '  if (cmd.length === 0 || cmd.length > EDU_CMD_MAX)\n    return -ENOMEM;');
  const r = cli(['verify', '--root', root, '--json', '--only', '02,06']);
  verdicts = r.events.filter((e) => e.event === 'verdict') as Verdict[];
  expect(verdicts.map((v) => v.exercise), r.stderr).toEqual(['02-dma-addresses', '06-what-you-can-map']);
}, 240_000);

describe('values as the kernel prints them', () => {
  test('a kernel pointer as %px: ffff888..., not the sim\'s 1f888...', () => {
    const l = lines('02-dma-addresses').find((x) => x.includes('edu_addresses(edu).virt is'));
    expect(l).toMatch(/^dmalab: edu_addresses\(edu\)\.virt is ffff8880[0-9a-f]{4}2040, expected edu\.buf = ffff8880[0-9a-f]{4}2000 \(/);
    expect(lines('02-dma-addresses').join('\n')).not.toMatch(/0x1f888/);
  });

  test('an errno as -12 (-ENOMEM), not in quotes', () => {
    const l = lines('06-what-you-can-map').filter((x) => x.includes('-byte command>)'));
    expect(l).toContain('dmalab: edu_exchange(edu, <0-byte command>) returned -12 (-ENOMEM), expected -22 (-EINVAL)');
    expect(lines('06-what-you-can-map').join('\n')).not.toMatch(/"-E[A-Z]+"/);
  });

  test('the shared formatter', () => {
    expect(errno_str(-5)).toBe('-5 (-EIO)');
    expect(errno_str(0)).toBe('0');
    expect(errno_str(-4000)).toBe('-4000');
    expect(errno_str(12)).toBe('12');
  });
});
