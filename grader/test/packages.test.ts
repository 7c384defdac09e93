// Every package the code imports is declared in package.json, at an exact version, and what
// grading needs at run time is a dependency (not a devDependency: `npm ci --omit=dev` must still
// grade); package-lock.json pins the same.
import { readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../course.ts';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string>; dev?: boolean }>;
};

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', '.dmalab', '.git', 'fixtures'].includes(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (/\.(ts|mjs|js)$/.test(e.name)) yield p;
  }
}

/** Bare specifiers a file loads (static imports, import(), require()); type-only imports apart. */
function imports(src: string): { name: string; type_only: boolean }[] {
  const out: { name: string; type_only: boolean }[] = [];
  const re = /(?:^|\n)\s*(import|export)(\s+type)?\s[^'";]*?from\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)|\brequire\(\s*'([^']+)'\s*\)/g;
  for (const m of src.matchAll(re)) {
    const spec = m[3] ?? m[4] ?? m[5]!;
    if (/^(\.|#|node:)/.test(spec) || builtinModules.includes(spec)) continue;
    const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
    out.push({ name, type_only: !!m[2] });
  }
  return out;
}

/** Code that runs when a learner grades: the grader (not its tests) and the simulator (not its). */
const RUNTIME = (f: string) => /^(grader|sim)\//.test(f) && !/^(grader\/test|sim\/test)\//.test(f);

describe('packages', () => {
  const used = new Map<string, { runtime: boolean; where: string }>();
  for (const top of ['grader', 'sim', 'scripts', 'bench', 'tools', 'lessons', 'vitest.config.ts']) {
    const files = top.endsWith('.ts') ? [join(REPO_ROOT, top)] : [...sources(join(REPO_ROOT, top))];
    for (const f of files) {
      const rel = relative(REPO_ROOT, f);
      for (const i of imports(readFileSync(f, 'utf8'))) {
        const u = used.get(i.name) ?? { runtime: false, where: rel };
        if (RUNTIME(rel) && !i.type_only && !u.runtime) used.set(i.name, { runtime: true, where: rel });
        else used.set(i.name, u);
      }
    }
  }

  test('every package the code imports is declared; what grading loads at run time is a dependency', () => {
    expect([...used.keys()]).toEqual(expect.arrayContaining(['vitest', 'esbuild', 'typescript', 'chokidar', 'markdown-it', 'tsx']));
    for (const [name, u] of used) {
      const declared = pkg.dependencies[name] ?? pkg.devDependencies[name];
      expect(declared, `${u.where} imports '${name}', which package.json does not declare`).toBeDefined();
      if (u.runtime) expect(pkg.dependencies[name], `${u.where} loads '${name}' when grading: a dependency, not a devDependency`).toBeDefined();
    }
    // the type check of a learner's driver (grader/typecheck-worker.mjs) loads Node's types
    expect(readFileSync(join(REPO_ROOT, 'grader', 'typecheck-worker.mjs'), 'utf8')).toContain("types: ['node']");
    expect(pkg.dependencies['@types/node']).toBeDefined();
  });

  test('exact versions, and package-lock.json pins the same ones', () => {
    const root = lock.packages['']!;
    expect(root.dependencies).toEqual(pkg.dependencies);
    expect(root.devDependencies).toEqual(pkg.devDependencies);
    for (const [name, v] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
      expect(v, name).toMatch(/^\d+\.\d+\.\d+$/);
      expect(lock.packages[`node_modules/${name}`]?.version, `package-lock.json: ${name}`).toBe(v);
      if (pkg.dependencies[name]) expect(lock.packages[`node_modules/${name}`]?.dev, `${name} is installed by npm ci --omit=dev`).toBeUndefined();
    }
  });
});
