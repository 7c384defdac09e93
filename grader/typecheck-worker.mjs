// The build step of a grade: type errors in the graded files, as `make` stops on a C compile
// error. A long-lived process holding a TypeScript language service: after the first check the
// sim's headers, lib files and @types/node stay parsed and bound, and only the saved file is
// re-read and re-checked (measured 20-50 ms warm on the course's drivers). Plain JS so node
// runs it without a loader.
// Request: { id, root, files: [abs] }
// Response: { id, ms, diagnostics: [{file,line,col,code,message}] } or { id, ms, error }
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

const require = createRequire(import.meta.url);
const ts = require('typescript');

let service;
let host_root;
/** the graded files: their text as last read, and a version from their content (an mtime can
 *  repeat between two quick saves of the same size) */
const roots = new Map();

function disk_version(f) {
  try {
    const s = statSync(f);
    return `${s.mtimeMs}:${s.size}`;
  } catch {
    return 'missing';
  }
}

const DEFAULTS = {
  strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler, allowImportingTsExtensions: true, skipLibCheck: true, types: ['node'],
};

function make(root) {
  const cfg_path = ts.findConfigFile(root, ts.sys.fileExists, 'tsconfig.json');
  let options = { ...DEFAULTS };
  if (cfg_path) {
    const cfg = ts.readConfigFile(cfg_path, ts.sys.readFile);
    options = ts.parseJsonConfigFileContent(cfg.config, ts.sys, dirname(cfg_path)).options;
  }
  options.noEmit = true;
  // a stub's unused parameters are not an error of the build (tsconfig does not ask for them)
  options.noUnusedLocals = false;
  options.noUnusedParameters = false;
  const host = {
    getScriptFileNames: () => [...roots.keys()],
    getScriptVersion: (f) => roots.get(f)?.version ?? disk_version(f),
    getScriptSnapshot: (f) => {
      const r = roots.get(f);
      if (r) return r.text === undefined ? undefined : ts.ScriptSnapshot.fromString(r.text);
      return existsSync(f) ? ts.ScriptSnapshot.fromString(readFileSync(f, 'utf8')) : undefined;
    },
    getCurrentDirectory: () => root,
    getCompilationSettings: () => options,
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    fileExists: (f) => (roots.has(f) ? roots.get(f).text !== undefined : ts.sys.fileExists(f)),
    readFile: ts.sys.readFile,
    readDirectory: ts.sys.readDirectory,
    directoryExists: ts.sys.directoryExists,
    getDirectories: ts.sys.getDirectories,
  };
  host_root = root;
  roots.clear();
  return ts.createLanguageService(host, ts.createDocumentRegistry());
}

function read(f) {
  let text;
  try {
    text = readFileSync(f, 'utf8');
  } catch {
    text = undefined;
  }
  const version = text === undefined ? 'missing' : createHash('sha1').update(text).digest('hex');
  roots.set(f, { text, version });
  return text !== undefined;
}

function check(m) {
  if (!service || host_root !== m.root) service = make(m.root);
  const present = m.files.filter(read);
  const diagnostics = [];
  for (const f of present) {
    for (const d of [...service.getSyntacticDiagnostics(f), ...service.getSemanticDiagnostics(f)]) {
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
  return diagnostics;
}

process.on('message', (m) => {
  const t0 = performance.now();
  try {
    const diagnostics = check(m);
    process.send({ id: m.id, ms: Math.round(performance.now() - t0), diagnostics });
  } catch (e) {
    process.send({ id: m.id, ms: Math.round(performance.now() - t0), error: String(e?.stack ?? e) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
