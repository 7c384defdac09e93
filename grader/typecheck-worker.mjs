// Type errors for the learner's files, off the verdict's critical path: a long-lived process
// holding a TypeScript language service (incremental: after the first check only the edited
// file is re-checked). Plain JS so node runs it without a loader.
// Request: { id, root, files: [abs] }  Response: { id, ms, diagnostics: [{file,line,col,code,message}] }
import { createRequire } from 'node:module';
import { readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const ts = require('typescript');

let service;
let host_root;
const roots = new Set();
const versions = new Map();

function version(f) {
  try {
    const s = statSync(f);
    return `${s.mtimeMs}:${s.size}`;
  } catch {
    return 'missing';
  }
}

function make(root) {
  const cfg_path = ts.findConfigFile(root, ts.sys.fileExists, 'tsconfig.json');
  let options = { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, allowImportingTsExtensions: true, skipLibCheck: true, types: ['node'] };
  if (cfg_path) {
    const cfg = ts.readConfigFile(cfg_path, ts.sys.readFile);
    options = ts.parseJsonConfigFileContent(cfg.config, ts.sys, dirname(cfg_path)).options;
  }
  options.noEmit = true;
  options.noUnusedLocals = false;
  options.noUnusedParameters = false;
  const host = {
    getScriptFileNames: () => [...roots],
    getScriptVersion: (f) => versions.get(f) ?? version(f),
    getScriptSnapshot: (f) => (existsSync(f) ? ts.ScriptSnapshot.fromString(readFileSync(f, 'utf8')) : undefined),
    getCurrentDirectory: () => root,
    getCompilationSettings: () => options,
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    fileExists: ts.sys.fileExists,
    readFile: ts.sys.readFile,
    readDirectory: ts.sys.readDirectory,
    directoryExists: ts.sys.directoryExists,
    getDirectories: ts.sys.getDirectories,
  };
  host_root = root;
  return ts.createLanguageService(host, ts.createDocumentRegistry());
}

process.on('message', (m) => {
  const t0 = performance.now();
  try {
    if (!service || host_root !== m.root) service = make(m.root);
    for (const f of m.files) {
      roots.add(f);
      versions.set(f, version(f));
    }
    const diagnostics = [];
    for (const f of m.files) {
      if (!existsSync(f)) continue;
      const ds = [...service.getSyntacticDiagnostics(f), ...service.getSemanticDiagnostics(f)];
      for (const d of ds) {
        const pos = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : { line: 0, character: 0 };
        diagnostics.push({
          file: d.file ? d.file.fileName : f,
          line: pos.line + 1,
          col: pos.character + 1,
          code: d.code,
          message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
        });
      }
    }
    process.send({ id: m.id, ms: Math.round(performance.now() - t0), diagnostics });
  } catch (e) {
    process.send({ id: m.id, ms: Math.round(performance.now() - t0), diagnostics: [], error: String(e?.message ?? e) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
