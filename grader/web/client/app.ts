/// <reference lib="dom" />
// The browser view's script (bundled by the server with esbuild): listens to the watcher's state
// (Server-Sent Events, reconnecting when the watcher restarts), draws the verdict beside the
// lesson, asks for hints, and opens the timeline of a failing test.
import type { WebState, WebVerdict } from '../state.ts';
import { build_timeline } from '../timeline.ts';
import { TimelineView } from './timeline-view.ts';

type Test = WebVerdict['tests'][number];

const $ = (id: string) => document.getElementById(id)!;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

let state: WebState | undefined;
let connected = false;
/** The failing test whose timeline is open (by name), kept across verdicts while it still fails. */
let timeline_of: string | null | undefined;
let view: TimelineView | undefined;
const here = location.pathname.replace(/^\//, '');

/** vscode://file/<root>/<path>:<line>:<col> for a course-relative 'path:line:col'. */
function editor_link(where: string, text = where): string {
  const abs = where.startsWith('/') ? where : `${state!.root}/${where}`;
  return `<a href="vscode://file${esc(encodeURI(abs))}" title="open in the editor">${esc(text)}</a>`;
}

/** A lesson link: on this page it only scrolls. */
function lesson_link(href: string, label: string, cls = ''): string {
  const [page, anchor] = href.split('#');
  const h = page === here ? `#${anchor ?? ''}` : href;
  return `<a class="${cls}" href="${esc(h)}">${esc(label)}</a>`;
}

function test_html(t: Test, i: number): string {
  const out = [`<div class="test" data-test="${esc(t.name)}"><div class="name fail">✗ ${esc(t.name)}</div>`];
  if (t.error && t.error.kind !== 'assertion') {
    const loc = t.error.file ? ` ${editor_link(`${t.error.file}:${t.error.line ?? 1}:${t.error.col ?? 1}`)}` : '';
    out.push(`<div class="msg">${esc(t.error.kind)}${loc}</div><pre>${esc(t.error.message)}</pre>`);
  } else if (t.message) out.push(`<div class="msg">${esc(t.message.split('\n')[0]!)}</div>`);
  t.diagnostics.forEach((d, j) => {
    const sites = (t.sites[j] ?? []).map((s) => `<li>${esc(s.label)}: ${editor_link(s.where)}${s.fn ? ` (${esc(s.fn)})` : ''}</li>`).join('');
    out.push(`<div class="diag" data-code="${esc(d.code)}"><span class="code">${esc(d.code)}</span>${(d.count ?? 1) > 1 ? ` <span class="muted">×${d.count}</span>` : ''}` +
      `<pre>${esc(d.lines.join('\n'))}</pre>${sites ? `<ul class="sites">${sites}</ul>` : ''}</div>`);
  });
  for (const x of t.report?.data ?? []) out.push(`<div class="fail">→ ${esc(x)}</div>`);
  if (t.lesson) out.push(`<div>→ read ${lesson_link(t.lesson.href, t.lesson.label)}</div>`);
  const r = t.report;
  if (r?.events?.events.length) out.push(`<button data-timeline="${i}">timeline</button> `);
  if (r?.dmesg?.length) out.push(`<details><summary>dmesg (last ${r.dmesg.length})</summary><pre>${esc(r.dmesg.join('\n'))}</pre></details>`);
  if (r) out.push(`<div class="muted">seed 0x${r.seed.toString(16)} · machine ${esc(r.shape)}</div>`);
  out.push('</div>');
  return out.join('');
}

function render(): void {
  const s = state;
  const el = $('verdict');
  if (!s) return;
  const v = s.verdict;
  const parts: string[] = [];
  parts.push(`<div class="head"><h2>${esc(s.exercise.id)}</h2><span class="conn${connected ? '' : ' off'}">${connected ? '● live' : '○ reconnecting…'}</span></div>`);
  parts.push(`<div class="muted">${esc(s.exercise.title)} · edit ${editor_link(s.exercise.file)} · ${lesson_link(s.exercise.lesson.href, 'lesson')} · ${s.progress.done}/${s.progress.total} done</div>`);
  if (!v) parts.push(`<p class="muted">${esc(s.status || 'not graded yet')}</p>`);
  else {
    parts.push(`<div class="headline ${v.passed ? 'pass' : 'fail'}" id="headline">${esc(v.headline)}${s.progress.was_done && !v.passed ? ' <span class="warn">(was done)</span>' : ''}</div>`);
    for (const e of v.errors) {
      const loc = e.file ? ` ${editor_link(`${e.file}:${e.line ?? 1}:${e.col ?? 1}`)}` : '';
      parts.push(`<div class="test"><div class="name fail">${esc(e.kind)}${loc}</div><pre>${esc(e.message)}</pre></div>`);
    }
    if (s.lesson && !v.passed) parts.push(`<span class="lessonlink">→ lesson: ${lesson_link(s.lesson.href, s.lesson.label, 'lesson-pointer')}</span>`);
    if (v.passed) parts.push(`<p class="pass">✓ ${esc(s.exercise.id)} is done. Compare with the reference solution: <code>solutions/${esc(s.exercise.file.replace(/^exercises\//, ''))}</code></p>`);
    v.tests.forEach((t, i) => {
      if (!t.passed && t.state !== 'skipped') parts.push(test_html(t, i));
    });
    const ok = v.tests.filter((t) => t.passed);
    if (ok.length) parts.push(`<details${v.passed ? ' open' : ''}><summary class="pass">${ok.length} passing</summary><ul class="passing">${ok.map((t) => `<li>✓ ${esc(t.name)}</li>`).join('')}</ul></details>`);
    if (!v.passed) {
      const h = s.hint;
      parts.push(`<div><button id="hint-btn">hint</button></div>`);
      if (h) parts.push(`<div class="hint" id="hint">${'none' in h ? `<b>no more hints:</b> ${h.none}` : `<b>hint ${h.n}/${h.of}:</b> ${h.html}`}</div>`);
    }
    parts.push(`<div class="muted">${esc(s.status)}</div>`);
  }
  if (s.notice) parts.push(`<div class="warn">${esc(s.notice)}</div>`);
  el.innerHTML = parts.join('\n');
  el.querySelector('#hint-btn')?.addEventListener('click', ask_hint);
  el.querySelectorAll<HTMLButtonElement>('button[data-timeline]').forEach((b) => b.addEventListener('click', () => {
    const t = v!.tests[Number(b.dataset.timeline)]!;
    timeline_of = t.name;
    show_timeline();
  }));
  show_timeline();
  document.body.dataset.verdict = v ? (v.passed ? 'passed' : 'failed') : 'none';
  document.body.dataset.hash = v?.hash ?? '';
  // For the end-to-end test: when this verdict reached the page.
  (window as unknown as { __dmalab: unknown }).__dmalab = { state: s, rendered_at: Date.now() };
}

/** The timeline of the chosen failing test (the first one until the learner picks another). */
function show_timeline(): void {
  const sec = $('timeline');
  const failing = state?.verdict?.tests.filter((t) => !t.passed && t.report?.events?.events.length) ?? [];
  const t = failing.find((x) => x.name === timeline_of) ?? (timeline_of === null ? undefined : failing[0]);
  if (!t) {
    sec.hidden = true;
    document.body.classList.remove('has-timeline');
    return;
  }
  const tl = build_timeline(t.report!.events!, t.diagnostics);
  sec.hidden = false;
  document.body.classList.add('has-timeline');
  view ??= new TimelineView(sec, $('tip'), () => {
    timeline_of = null;
    show_timeline();
  });
  view.show(tl, t.name);
}

async function ask_hint(): Promise<void> {
  const r = await fetch('api/hint', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
  if (r.ok) {
    state = (await r.json()) as WebState;
    render();
  }
}

function connect(): void {
  const es = new EventSource('events');
  es.addEventListener('state', (e) => {
    connected = true;
    state = JSON.parse((e as MessageEvent<string>).data) as WebState;
    render();
  });
  es.onopen = () => {
    connected = true;
  };
  es.onerror = () => {
    connected = false;
    const c = document.querySelector('#verdict .conn');
    if (c) {
      c.textContent = '○ reconnecting…';
      c.classList.add('off');
    }
    // EventSource retries by itself; a stream the browser gave up on is opened again here.
    if (es.readyState === EventSource.CLOSED) setTimeout(connect, 1000);
  };
}

connect();
