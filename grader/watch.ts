// `npm start`: watch exercises/, grade the saved exercise at once, show the verdict.
//
// Timing model: a save starts a run immediately (no debounce). A save that arrives while a run
// is in flight cancels that run (vitest stops between tests; a stuck process is killed) and the
// newest content is graded next; a verdict is shown only if the files still hold the content it
// graded, so the last verdict always matches the last save. The test worker is warm
// (runner/warm-pool.ts); a learner's infinite loop is killed by the pool's watchdog and
// reported as "timed out after N s".
import { statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { watch as chokidar_watch, type FSWatcher } from 'chokidar';
import { type Course, hash_files, paths } from './course.ts';
import type { Exercise } from './lib/manifest-types.ts';
import { first_code, hint_order, no_more_hints } from './hints.ts';
import { render_lesson, section_range } from './lesson.ts';
import { done_count, first_unfinished, load_progress, type Progress, record, save_progress, status_of } from './progress.ts';
import { Engine } from './runner/engine.ts';
import { COLOR, PLAIN, use_color } from './ui/format.ts';
import { exercise_list, list_pick } from './ui/exercise-list.ts';
import { Pager, split_keys } from './ui/pager.ts';
import { details_lines, hint_lines, type HintShown, lesson_target, verdict_screen } from './ui/screen.ts';
import { type Verdict, verdict_json } from './verdict.ts';
import { seed_hex } from './lib/seed.ts';
import type { WebServer } from './web/server.ts';
import type { WebVerdict } from './web/state.ts';

export interface WatchOptions {
  exercise?: string;
  poll?: boolean;
  json?: boolean;
  timeout_ms?: number;
  /** ms between checks for saves the watcher did not report (default 2000; 0 = off) */
  missed_save_check_ms?: number;
  /** also serve the course in a browser (`--web [--port N]`); port 0: any free one */
  web?: { port?: number };
}

/** Editor temp and backup files: vim (.swp, .swx, ~, 4913), emacs (.#x, #x#), JetBrains, etc. */
export function is_temp_file(p: string): boolean {
  const b = p.split(/[\\/]/).pop() ?? '';
  return (
    /\.sw[a-p x]$/.test(b) ||
    b.endsWith('~') ||
    b.startsWith('.#') ||
    /^#.*#$/.test(b) ||
    b === '4913' ||
    /\.(tmp|bak|orig|crswap)$/.test(b) ||
    /___jb_(tmp|old|bak)___$/.test(b) ||
    /\.tmp\.\d+/.test(b) ||
    b === '.DS_Store'
  );
}

/** WSL on a Windows drive, where inotify does not see Windows-side writes. */
function likely_needs_polling(root: string): string | undefined {
  if ((process.env.WSL_DISTRO_NAME || process.env.WSL_INTEROP) && root.startsWith('/mnt/')) {
    return 'this looks like WSL with the course on a Windows drive';
  }
  return undefined;
}

/** The verdict; a pager over every failure (`d`) or the lesson (`l`); the exercise list (`e`). */
type View = 'verdict' | 'pager' | 'list';

export async function watch(course: Course, opts: WatchOptions): Promise<number> {
  const json = !!opts.json;
  const tty = !json && !!process.stdout.isTTY;
  const st = !json && use_color() ? COLOR : PLAIN;
  const out = (s: string) => process.stdout.write(s);
  let web: WebServer | undefined;
  // --json with --web: every event may change what the page shows.
  const emit = (o: object) => {
    out(JSON.stringify(o) + '\n');
    web?.update();
  };
  const exdir = paths.exercises(course);

  if (course.exercises.length === 0) {
    if (json) emit({ event: 'error', message: 'the course has no exercises yet (grader/manifest.ts is empty)' });
    else out('dmalab: the course has no exercises yet (grader/manifest.ts is empty)\n');
    return 1;
  }

  const progress: Progress = load_progress(course);
  let current: Exercise =
    course.exercises.find((e) => e.id === opts.exercise) ??
    course.exercises.find((e) => e.id === progress.current) ??
    first_unfinished(course, progress) ??
    course.exercises[course.exercises.length - 1]!;

  const engine = await Engine.create(course, {
    // Two workers: a long exercise's tests run in two shards at once (engine.ts's shard).
    workers: 2, spares: 1, timeout_ms: opts.timeout_ms ?? 3000, shard: { n: 2, min_ms: 250 },
    warm_types: current.files.map((f) => join(exdir, current.id, f)),
  });

  // ----- state shown on screen
  const last = new Map<string, Verdict>();
  let view: View = 'verdict';
  let list_digits = ''; // the list view's digits typed so far (exercise 1 then 3: 13)
  let status = '';
  let notice = '';
  let pager: Pager | undefined;
  // Hints shown for the verdict on screen (cleared when the verdict changes), and the last one.
  let hints_shown = 0;
  let hint: HintShown | undefined;
  const cols = () => process.stdout.columns || 100;
  const rows = () => (tty ? process.stdout.rows || 24 : 24);

  function render(): void {
    if (!json) draw();
    // After the terminal: the page is told in the same turn of the event loop.
    web?.update();
  }

  function draw(): void {
    const v = last.get(current.id);
    let s = '';
    if (view === 'pager' && pager) {
      pager.rows = rows();
      pager.cols = cols();
      s = pager.render(st);
    } else if (view === 'list') {
      s = [st.bold(' exercises'), ...exercise_list(course, progress, st, current), '',
        st.dim(` 1–${course.exercises.length}: open one${course.exercises.length >= 10 ? ' (1 then Enter: 01)' : ''} · any other key: back · npm run list prints this`)].join('\n') + '\n';
    } else {
      s = verdict_screen(course, current, v, {
        done: done_count(course, progress),
        was_done: status_of(course, progress, current) === 'was-done',
        hint, status, notice, next: next_exercise(), cols: cols(), rows: rows(), web: web?.url,
      }, st);
    }
    // A terminal scrolls when its last row ends in a newline: the header would go.
    if (tty) out('\x1b[2J\x1b[3J\x1b[H' + s.replace(/\n$/, ''));
    else out(s + '\n');
  }

  /** Open a pager (a terminal) or print its text (pipes: no pager). */
  function page(lines: string[], title: string, start = 0, end = lines.length): void {
    if (!tty) {
      out(lines.slice(start, end).join('\n') + '\n');
      return;
    }
    pager = new Pager(lines, title, rows(), cols(), start);
    view = 'pager';
    render();
  }

  /** What a failing verdict says, for telling whether it changed: tests, codes, errors. */
  const verdict_key = (v: Verdict | undefined) =>
    v ? JSON.stringify([v.passed, v.errors.map((e) => e.message), v.tests.filter((t) => !t.passed).map((t) => [t.name, t.diagnostics.map((d) => d.code)])]) : '';

  function next_exercise(): Exercise | undefined {
    const i = course.exercises.indexOf(current);
    return course.exercises[i + 1];
  }

  // ----- grading loop
  let want: { id: string; force: boolean } | null = null;
  let pumping = false;
  const graded_hash = new Map<string, string>();

  let in_flight: { id: string; hash: string } | null = null;

  function request(id: string, force = false): void {
    // A late request for an exercise the learner has left (the trailing look after a save, then
    // `n`) must not cancel or replace the grading of the one on screen; it is graded on return.
    if (id !== current.id && (in_flight?.id === current.id || want?.id === current.id)) return;
    if (!force && in_flight?.id === id) {
      const ex = course.exercises.find((e) => e.id === id);
      // editors often write twice per save (truncate, then write): same content, keep the run
      if (ex && hash_files(exdir, ex) === in_flight.hash && !want) return;
    }
    want = { id, force: force || want?.force === true };
    if (engine.busy) engine.cancel();
    void pump();
  }

  async function pump(): Promise<void> {
    if (pumping) return;
    pumping = true;
    try {
      while (want) {
        const { id, force } = want;
        want = null;
        const ex = course.exercises.find((e) => e.id === id);
        if (!ex) continue;
        const hash = hash_files(exdir, ex);
        if (!force && graded_hash.get(id) === hash && last.has(id)) continue; // touched, not changed
        if (id === current.id) {
          status = 'checking…';
          if (json) emit({ event: 'run', exercise: id, hash });
          else if (!last.has(id) || tty) render();
        }
        const t0 = performance.now();
        in_flight = { id, hash };
        const [v] = await engine.run([{ exercise: ex, variant: { kind: 'exercise' }, target: exdir, hash }]).finally(() => (in_flight = null));
        if (want) continue; // a newer save: this verdict is stale
        if (hash_files(exdir, ex) !== hash) {
          want = { id, force: true }; // changed under us without an event: grade again
          continue;
        }
        if (!v) continue;
        v.ms = Math.round(performance.now() - t0);
        publish(ex, v, hash);
      }
    } catch (e) {
      notice = `grader error: ${(e as Error).message} (press r to retry)`;
      if (json) emit({ event: 'error', message: String((e as Error)?.stack ?? e) });
      render();
    } finally {
      pumping = false;
    }
  }

  /** `npm run reset` in another terminal changes progress.json: read it before changing it. */
  function reload_progress(): void {
    progress.exercises = load_progress(course).exercises;
  }

  function publish(ex: Exercise, v: Verdict, hash: string): void {
    reload_progress();
    // A verdict that says something new clears the hints and closes the pager; the same one
    // again (a rerun, a save that changed nothing that matters) leaves the learner reading.
    const news = verdict_key(last.get(ex.id)) !== verdict_key(v);
    if (ex.id === current.id && news) {
      hints_shown = 0;
      hint = undefined;
    }
    last.set(ex.id, v);
    graded_hash.set(ex.id, hash);
    const changed = record(progress, ex.id, v.passed, hash);
    progress.current = current.id;
    save_progress(course, progress);
    status = `graded in ${v.ms} ms · seed ${seed_hex(v.seed)}`;
    if (json) {
      out(verdict_json(v) + '\n');
      if (changed) emit({ event: 'progress', done: done_count(course, progress), total: course.exercises.length });
      web?.update();
    } else if (ex.id === current.id) {
      if (news) view = 'verdict';
      render();
    }
  }

  // ----- file watching
  const poll = !!opts.poll || process.env.CHOKIDAR_USEPOLLING === '1';
  const why_poll = likely_needs_polling(course.root);
  const watcher: FSWatcher = chokidar_watch([exdir, join(course.root, 'lessons')], {
    ignoreInitial: true,
    atomic: !poll ? true : 100,
    usePolling: poll,
    interval: 200,
    ignored: (p, stats) => is_temp_file(p) || (!!stats?.isFile() && !/\.(ts|md)$/.test(p)),
  });
  // Taken now: 'ready' may come while the browser view's server starts.
  const ready = new Promise<void>((res) => watcher.once('ready', () => res()));
  let last_event_at = 0;
  const trailing = new Map<string, NodeJS.Timeout>();
  const seen_mtime = new Map<string, number>();

  watcher.on('all', (ev, p) => {
    last_event_at = Date.now();
    if (p.endsWith('.md')) return;
    const r = relative(exdir, p);
    if (r.startsWith('..')) return;
    const [id, ...restp] = r.split(sep);
    const ex = course.exercises.find((e) => e.id === id);
    if (!ex) return;
    const file = restp.join('/');
    for (const f of ex.files) {
      const fp = join(exdir, ex.id, f);
      seen_mtime.set(fp, mtime(fp));
    }
    if (ev === 'unlink' || ev === 'unlinkDir') {
      const what = ev === 'unlinkDir' ? `exercises/${id}/` : `exercises/${id}/${file}`;
      if (ev === 'unlinkDir' || ex.files.includes(file)) {
        notice = `${what} was deleted or renamed. Put it back, or restore the stub: npm run reset -- ${id}`;
        if (json) emit({ event: 'notice', exercise: id, message: notice });
      }
    } else if (notice.startsWith(`exercises/${id}`)) {
      notice = '';
    }
    if (ev === 'addDir') return;
    if (id !== current.id) {
      current = ex;
      hints_shown = 0;
      hint = undefined;
      view = 'verdict';
    }
    request(id);
    // chokidar drops a second change to a path within 50 ms: look again shortly after
    clearTimeout(trailing.get(id));
    trailing.set(id, setTimeout(() => request(id), 120));
  });
  watcher.on('error', (e) => {
    const err = e as NodeJS.ErrnoException;
    notice =
      err.code === 'ENOSPC'
        ? 'the system limit on file watches is reached: try `npm start -- --poll`, or raise fs.inotify.max_user_watches'
        : `file watching failed (${err.message}): try \`npm start -- --poll\`, and press r to grade`;
    if (json) emit({ event: 'notice', message: notice });
    else render();
  });

  // A save the watcher did not report (WSL on /mnt/c, network filesystems): notice it by mtime,
  // grade anyway, and suggest --poll.
  const check_ms = opts.missed_save_check_ms ?? 2000;
  const missed = check_ms
    ? setInterval(() => {
        for (const f of current.files) {
          const fp = join(exdir, current.id, f);
          const m = mtime(fp);
          const seen = seen_mtime.get(fp);
          if (seen === undefined) {
            seen_mtime.set(fp, m);
            continue;
          }
          if (m !== seen && Date.now() - last_event_at > check_ms) {
            seen_mtime.set(fp, m);
            if (!poll) {
              notice = 'a save was not reported by the file watcher: restart with `npm start -- --poll`';
              if (json) emit({ event: 'notice', message: notice, hint: 'poll' });
            }
            request(current.id);
          }
        }
      }, check_ms)
    : undefined;
  missed?.unref();

  // ----- keys (TTY) or line commands (pipes: tests, tools)
  let quit!: () => void;
  const done = new Promise<void>((res) => (quit = res));

  function key(k: string): void {
    if (view === 'pager' && pager && k !== '\u0003') {
      if (pager.key(k) === 'quit') view = 'verdict';
      render();
      return;
    }
    if (view === 'list' && k !== 'q' && k !== '\u0003') {
      const enter = k === '\r' || k === '\n';
      const pick = /^\d$/.test(k) || (enter && list_digits) ? list_pick(course.exercises.length, list_digits + (enter ? '' : k), enter) : undefined;
      if (pick === 'more') {
        list_digits += k;
        return;
      }
      list_digits = '';
      view = 'verdict';
      if (pick !== undefined) go_to(course.exercises[pick]!);
      else render();
      return;
    }
    switch (k) {
      case 'q':
      case '\u0003':
        quit();
        return;
      case 'h': {
        const order = hint_order(current, first_code(last.get(current.id)));
        if (hints_shown < order.length) {
          hints_shown++;
          hint = { n: hints_shown, of: order.length, text: order[hints_shown - 1]! };
        } else {
          hint = { none: no_more_hints(current) };
        }
        reload_progress();
        const rec = (progress.exercises[current.id] ??= { done: false });
        rec.hints_seen = Math.max(hints_shown, rec.hints_seen ?? 0);
        save_progress(course, progress);
        if (json) emit({ event: 'hint', exercise: current.id, ...('none' in hint ? { n: null, of: order.length, text: null, none: hint.none } : hint) });
        else if (!tty) out(hint_lines(hint, st, cols()).join('\n') + '\n');
        else draw();
        web?.update();
        return;
      }
      case 'l': {
        const v = last.get(current.id);
        const target = (v && !v.passed && lesson_target(v)) || current.lesson;
        const r = render_lesson(course, target, { color: st === COLOR, width: cols() });
        const { start, end } = section_range(r, target.split('#')[1]);
        if (json) emit({ event: 'lesson', exercise: current.id, lesson: target, text: render_lesson(course, target, { color: false, width: 100 }).lines.slice(start, end).join('\n') });
        else page(r.lines, target.split('#')[0]!, start, end);
        return;
      }
      case 'd': {
        const v = last.get(current.id);
        if (!v || v.passed) return;
        if (json) emit({ event: 'details', exercise: current.id, text: details_lines(current, v, PLAIN, 100).join('\n') });
        else page(details_lines(current, v, st, cols()), `every failing test of ${current.id}`);
        return;
      }
      case 'e':
        if (json) emit({ event: 'exercises', list: course.exercises.map((e) => ({ id: e.id, status: status_of(course, progress, e) })) });
        else if (!tty) out(exercise_list(course, progress, st, current).join('\n') + '\n');
        else {
          view = 'list';
          render();
        }
        return;
      case 'n': {
        const nxt = next_exercise();
        if (!nxt) {
          notice = 'this is the last exercise';
          render();
          return;
        }
        go_to(nxt);
        return;
      }
      case 'r':
        request(current.id, true);
        return;
      default:
    }
  }

  function go_to(ex: Exercise): void {
    current = ex;
    progress.current = ex.id;
    save_progress(course, progress);
    hints_shown = 0;
    hint = undefined;
    notice = '';
    if (json) emit({ event: 'exercise', exercise: ex.id });
    request(ex.id, true);
    render();
  }

  let rl: ReturnType<typeof createInterface> | undefined;
  if (process.stdin.isTTY && !json) {
    process.stdin.setRawMode(true);
    process.stdin.resume();
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d: string) => {
      for (const k of split_keys(d)) key(k);
    });
  } else {
    rl = createInterface({ input: process.stdin });
    rl.on('line', (line) => {
      const [cmd, arg] = line.trim().split(/\s+/);
      if (cmd === 'grade' && arg) {
        const ex = course.exercises.find((e) => e.id === arg);
        if (ex) {
          current = ex;
          request(ex.id, true);
        }
      } else if (cmd) key(cmd[0]!);
    });
    rl.on('close', () => {
      if (!json) return; // stdin closed (e.g. </dev/null): keep watching
    });
  }
  process.on('SIGINT', () => quit());
  process.on('SIGTERM', () => quit());
  if (tty) process.stdout.on('resize', () => render());

  if (opts.web) web = await serve(course, opts.web.port, {
    state: () => {
      const v = last.get(current.id);
      return { current, verdict: v, done: done_count(course, progress), was_done: status_of(course, progress, current) === 'was-done',
        status, notice, hint };
    },
    current_lesson: () => current.lesson,
    hint: () => key('h'),
  });
  if (web && json) emit({ event: 'web', url: web.url });

  await ready;
  progress.current = current.id;
  save_progress(course, progress);
  if (json) emit({ event: 'ready', exercise: current.id, root: course.root, poll, exercises: course.exercises.map((e) => e.id) });
  if (why_poll && !poll) {
    notice = `${why_poll}: if saves are not graded, restart with \`npm start -- --poll\``;
    if (json) emit({ event: 'notice', message: notice, hint: 'poll' });
  }
  request(current.id, true);

  await done;
  if (json) emit({ event: 'quit' });
  if (missed) clearInterval(missed);
  if (process.stdin.isTTY && !json) process.stdin.setRawMode(false);
  rl?.close();
  await web?.close();
  await watcher.close();
  await engine.close();
  return 0;
}

function mtime(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}

/** The browser view: the server on loopback, its port remembered in .dmalab/web.json. */
async function serve(course: Course, port: number | undefined, w: { state: () => import('./web/state.ts').WatchView; current_lesson: () => string; hint: () => void }): Promise<WebServer> {
  const { WebServer, remembered_port, remember_port, DEFAULT_PORT } = await import('./web/server.ts');
  const { web_state } = await import('./web/state.ts');
  const cache = new WeakMap<Verdict, WebVerdict>();
  const server = new WebServer({
    root: course.root,
    state: () => web_state(course, w.state(), cache),
    current_lesson: w.current_lesson,
    hint: w.hint,
  });
  await server.listen(port ?? remembered_port(course.root) ?? DEFAULT_PORT);
  remember_port(course.root, server.port);
  return server;
}
