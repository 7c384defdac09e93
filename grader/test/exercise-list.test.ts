// The watcher's exercise list: numbers typed as they are shown, one or two digits.
import { expect, test } from 'vitest';
import { list_pick } from '../ui/exercise-list.ts';

test('with 9 exercises a digit opens its exercise at once; 0 and 10 open none', () => {
  expect([1, 5, 9].map((n) => list_pick(9, String(n)))).toEqual([0, 4, 8]);
  expect([list_pick(9, '0'), list_pick(9, 'x'), list_pick(9, '10')]).toEqual([undefined, undefined, undefined]);
});

test('with 14 exercises, 1 waits for a second digit or Enter; 2 to 9 open at once; 0 then 7 is 07', () => {
  expect(list_pick(14, '1')).toBe('more');
  expect([list_pick(14, '13'), list_pick(14, '10'), list_pick(14, '1', true)]).toEqual([12, 9, 0]);
  expect([list_pick(14, '2'), list_pick(14, '9')]).toEqual([1, 8]);
  expect([list_pick(14, '0'), list_pick(14, '07')]).toEqual(['more', 6]);
  expect([list_pick(14, '15'), list_pick(14, '19'), list_pick(14, '00')]).toEqual([undefined, undefined, undefined]);
});
