// `npm run lessons`: the lessons as static web pages in .dmalab/html/, from the same renderer as
// the browser view (grader/web/render.ts): anchors as a code host makes them, so the grader's
// "lesson § …" pointers and the lessons' own cross-links work as file:// links; links to .md
// files become links to their .html, links into the repository point at the files.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { index_body, list_lessons, page_html, render_lesson_html } from './web/render.ts';

export interface BuiltLesson { file: string; title: string; html: string; ids: string[] }

/** Renders every lesson; returns what it wrote (for the tests and the index). */
export function build_lessons_html(root: string, out_dir: string): BuiltLesson[] {
  const lessons = list_lessons(root);
  mkdirSync(out_dir, { recursive: true });
  const built: BuiltLesson[] = [];
  for (const l of lessons) {
    const r = render_lesson_html(root, lessons, l, { kind: 'static', out_dir });
    writeFileSync(join(out_dir, l.html), page_html(lessons, r));
    built.push({ file: l.html, title: l.title, html: r.body, ids: r.ids });
  }
  writeFileSync(join(out_dir, 'index.html'), page_html(lessons, index_body(lessons)));
  return built;
}
