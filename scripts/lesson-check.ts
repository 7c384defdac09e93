// Checks of the lessons that CI runs (scripts/lessons.test.ts): every ```ts block type-checks
// against the sim's API, every kernel path a lesson cites is in lessons/kernel-paths.md (where
// each was checked to exist when written), and every lesson section a diagnostic points at
// exists.
import fs from 'node:fs';
import path from 'node:path';
import MarkdownIt from 'markdown-it';
import ts from 'typescript';
import { headings } from '../grader/lesson.ts';

export const ROOT = path.resolve(import.meta.dirname, '..');
const LESSONS = path.join(ROOT, 'lessons');

export interface CodeBlock { lesson: string; line: number; code: string }

export function lesson_files(): string[] {
  if (!fs.existsSync(LESSONS)) return [];
  return fs.readdirSync(LESSONS).filter((f) => /^\d\d-.*\.md$/.test(f)).sort().map((f) => path.join(LESSONS, f));
}

/** The ```ts blocks of a lesson; a block whose first line is `// (fragment)` is not checked. */
export function ts_blocks(file: string): CodeBlock[] {
  const md = new MarkdownIt();
  const out: CodeBlock[] = [];
  for (const t of md.parse(fs.readFileSync(file, 'utf8'), {})) {
    if (t.type !== 'fence') continue;
    const lang = t.info.trim().split(/\s+/)[0];
    if (lang !== 'ts' && lang !== 'typescript') continue;
    if (t.content.startsWith('// (fragment)')) continue;
    out.push({ lesson: path.relative(ROOT, file), line: (t.map?.[0] ?? 0) + 2, code: t.content });
  }
  return out;
}

/** Type-check every block as its own module; returns 'lessons/x.md:LINE: message' lines. */
export function typecheck_blocks(blocks: CodeBlock[]): string[] {
  // Inside the repository (so #linux/* imports resolve), one directory per run.
  fs.mkdirSync(path.join(ROOT, '.dmalab'), { recursive: true });
  const dir = fs.mkdtempSync(path.join(ROOT, '.dmalab', 'lesson-code-'));
  const files = new Map<string, CodeBlock>();
  blocks.forEach((b, i) => {
    const f = path.join(dir, `${path.basename(b.lesson, '.md')}-${i}.ts`);
    fs.writeFileSync(f, b.code + (b.code.includes('export ') || b.code.includes('import ') ? '' : '\nexport {};\n'));
    files.set(f, b);
  });
  const cfg = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(cfg.config, ts.sys, ROOT);
  const program = ts.createProgram([...files.keys()], { ...parsed.options, noEmit: true });
  const out: string[] = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const f = d.file?.fileName;
    const b = f ? files.get(path.resolve(f)) : undefined;
    if (!b || d.start === undefined) continue;
    const { line } = d.file!.getLineAndCharacterOfPosition(d.start);
    out.push(`${b.lesson}:${b.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

const KERNEL_PATH = /\b((?:drivers|kernel|include|mm|lib|arch|sound|fs|net|block|Documentation|tools|samples)\/[\w.+-]+(?:\/[\w.+-]+)*\.(?:c|h|rst|txt|S))\b/g;

/** Kernel source paths cited in a text. */
export function cited_paths(text: string): string[] {
  return [...new Set([...text.matchAll(KERNEL_PATH)].map((m) => m[1]!))];
}

/** Paths listed in lessons/kernel-paths.md (as `path` in a table or list). */
export function listed_paths(): Set<string> {
  const f = path.join(LESSONS, 'kernel-paths.md');
  return new Set(fs.existsSync(f) ? cited_paths(fs.readFileSync(f, 'utf8')) : []);
}

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to dashes. */
export function anchors(file: string): Set<string> {
  return new Set(headings(fs.readFileSync(file, 'utf8')).map((h) => h.anchor));
}
