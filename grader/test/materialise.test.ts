import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { hash_files, load_course, paths } from '../course.ts';
import { headings, render_markdown, slug } from '../lesson.ts';
import type { Exercise, Mutant } from '../lib/manifest-types.ts';
import { attach_report, report_of } from '../lib/report.ts';
import { MutantError, apply_edits, materialise_mutant, materialise_stubs, pristine } from '../materialise.ts';
import { done_count, first_unfinished, load_progress, record, reset, save_progress, status_of } from '../progress.ts';
import { remove_scratch } from '../scratch.ts';
import { is_temp_file } from '../watch.ts';
import { fixture_copy } from './helpers.ts';

const root = fixture_copy();
afterAll(() => remove_scratch(root));

const ex: Exercise = { id: '09-x', title: 'x', lesson: 'l.md', files: ['driver.ts'], test: 't.ts', hints: [], mutants: [] };
const mut = (edits: Mutant['edits']): Mutant => ({ id: 'm', description: 'd', edits, expect: ['X'] });

describe('mutant edits', () => {
  test('apply in order; each find must match exactly once', () => {
    expect(apply_edits(ex, mut([{ find: 'a + b', replace: 'a - b' }, { find: '- b', replace: '- 2 * b' }]), 'return a + b;')).toBe('return a - 2 * b;');
  });
  test('a find that does not occur names the manifest entry', () => {
    expect(() => apply_edits(ex, mut([{ find: 'zzz', replace: 'y' }]), 'abc')).toThrow(
      /grader\/manifest\.ts: exercise '09-x', mutant 'm', edit 1 of 1: `find` "zzz" occurs 0 times in solutions\/09-x\/driver\.ts/,
    );
  });
  test('a find that occurs twice is an error', () => {
    expect(() => apply_edits(ex, mut([{ find: 'a', replace: 'b' }]), 'a a')).toThrow(/occurs 2 times.*exactly once/);
  });
  test('an empty find or an edit that changes nothing is an error', () => {
    expect(() => apply_edits(ex, mut([{ find: '', replace: 'b' }]), 'a')).toThrow(MutantError);
    expect(() => apply_edits(ex, mut([{ find: 'a', replace: 'a' }]), 'a')).toThrow(/change nothing/);
  });
  test('replacement text is literal ($& is not special)', () => {
    expect(apply_edits(ex, mut([{ find: 'x', replace: '$&$&' }]), 'x')).toBe('$&$&');
  });
});

describe('materialising', () => {
  test('a mutant gets the solution directory with one file edited, in the exercises/ layout', async () => {
    const c = await load_course(root);
    const e = c.exercises.find((x) => x.id === '02-buffers')!;
    const dir = materialise_mutant(c, e, e.mutants.find((m) => m.id === 'unmap-wrong-size')!);
    expect(dir).toBe(join(root, '.dmalab', 'mutants', '02-buffers', 'unmap-wrong-size'));
    expect(readdirSync(join(dir, '02-buffers')).sort()).toEqual(['driver.ts', 'kernel.ts']);
    expect(readFileSync(join(dir, '02-buffers', 'driver.ts'), 'utf8')).toContain('k.unmap(h, len / 2)');
    expect(readFileSync(join(dir, '02-buffers', 'kernel.ts'), 'utf8')).toBe(readFileSync(join(root, 'solutions', '02-buffers', 'kernel.ts'), 'utf8'));
  });
  test('a mutant whose find no longer matches the solution is a clear error', async () => {
    const c = await load_course(root);
    const e = c.exercises[0]!;
    expect(() => materialise_mutant(c, e, mut([{ find: 'not in the solution', replace: '' }]))).toThrow(/exercise '01-add', mutant 'm', edit 1 of 1/);
  });
  test('pristine stubs come from grader/stubs/, not from the learner\'s exercises/', async () => {
    const c = await load_course(root);
    const e = c.exercises[0]!;
    writeFileSync(paths.exercise_file(c, e), '// learner was here\n');
    expect(pristine(c, e).toString()).toContain('// TODO');
    const dir = materialise_stubs(c);
    expect(readFileSync(join(dir, '01-add', 'driver.ts'), 'utf8')).toContain('// TODO');
  });
});

describe('reset and progress', () => {
  test('reset restores the stub and keeps a timestamped backup; nothing else is written under exercises/', async () => {
    const c = await load_course(root);
    const e = c.exercises[0]!;
    writeFileSync(paths.exercise_file(c, e), '// my attempt\n');
    const before = readdirSync(join(root, 'exercises'), { recursive: true }).sort();
    const r = reset(c, e);
    expect(readFileSync(paths.exercise_file(c, e), 'utf8')).toBe(readFileSync(join(root, 'grader', 'stubs', '01-add', 'driver.ts'), 'utf8'));
    expect(r.backups).toHaveLength(1);
    expect(r.backups[0]).toMatch(/^\.dmalab\/backups\/01-add\/\d{4}-\d\d-\d\dT[\d-]+Z\/driver\.ts$/);
    expect(readFileSync(join(root, r.backups[0]!), 'utf8')).toBe('// my attempt\n');
    expect(readdirSync(join(root, 'exercises'), { recursive: true }).sort()).toEqual(before);
    expect(reset(c, e).backups).toEqual([]); // already pristine: no backup
  });
  test('reset restores a deleted file', async () => {
    const c = await load_course(root);
    const e = c.exercises[1]!;
    const f = join(root, 'exercises', '02-buffers', 'kernel.ts');
    const keep = readFileSync(f);
    (await import('node:fs')).rmSync(f);
    reset(c, e);
    expect(readFileSync(f).equals(keep)).toBe(true);
  });
  test('progress survives a restart; done means the files as they are now pass', async () => {
    const c = await load_course(root);
    const ex = c.exercises[0]!;
    const p = load_progress(c);
    const now = hash_files(paths.exercises(c), ex);
    record(p, '01-add', true, now);
    p.current = '02-buffers';
    save_progress(c, p);
    const q = load_progress(c);
    expect(q.exercises['01-add']?.done).toBe(true);
    expect(status_of(c, q, ex)).toBe('done');
    expect(q.current).toBe('02-buffers');
    // The file edited since it passed, not graded yet: not counted as done.
    record(q, '01-add', true, 'other');
    expect(status_of(c, q, ex)).toBe('changed');
    expect(done_count(c, q)).toBe(0);
    // Any failing grade undoes it, a rerun of the same content too; it then "was done".
    record(q, '01-add', true, now);
    record(q, '01-add', false, now);
    expect(q.exercises['01-add']).toMatchObject({ done: false, was_done: true });
    expect(status_of(c, q, ex)).toBe('was-done');
    expect(first_unfinished(c, q)?.id).toBe('01-add');
  });
  test('a corrupt progress file does not crash the grader', async () => {
    const c = await load_course(root);
    mkdirSync(join(root, '.dmalab'), { recursive: true });
    writeFileSync(paths.progress(c), '{ not json');
    expect(load_progress(c)).toEqual({ version: 1, exercises: {} });
  });
});

describe('small parts', () => {
  test('editor temp files are recognised', () => {
    for (const f of ['.driver.ts.swp', 'driver.ts.swx', 'driver.ts~', '4913', '.#driver.ts', '#driver.ts#', 'driver.ts___jb_tmp___', 'driver.ts.tmp.1234.567'])
      expect(is_temp_file(`/x/exercises/01-add/${f}`), f).toBe(true);
    expect(is_temp_file('/x/exercises/01-add/driver.ts')).toBe(false);
  });
  test('attach_report stores plain data on the task; report_of reads it back', () => {
    const task = { meta: {} as Record<string, unknown> };
    const r = { shape: 'x86', seed: 1, diagnostics: [], dmesg: ['a'], trace: [] };
    attach_report({ task }, r);
    expect(report_of(task.meta)).toEqual(r);
    expect(report_of({})).toBeUndefined();
  });
  test('lessons render without escapes under NO_COLOR-like plain mode, and headings get anchors', () => {
    const s = render_markdown('# Title\n\nSome **bold** and `code`.\n\n```ts\nlet x = 1;\n```\n', { color: false, width: 60 });
    expect(s).not.toMatch(/\x1b\[/);
    expect(s).toContain('TITLE');
    expect(s).toContain('│ let x = 1;');
    expect(render_markdown('**b**', { color: true })).toMatch(/\x1b\[1m/);
    expect(slug('Who owns the buffer?')).toBe('who-owns-the-buffer');
    expect(headings('## Who owns the buffer?\n')[0]).toEqual({ level: 2, text: 'Who owns the buffer?', anchor: 'who-owns-the-buffer' });
    expect(existsSync(join(root, 'lessons', '01-add.md'))).toBe(true);
  });
});
