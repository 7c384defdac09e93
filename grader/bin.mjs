#!/usr/bin/env node
// The `dmalab` command (package.json "bin"): `npx dmalab verify --json` is `npm run -s verify -- --json`.
// It starts grader/cli.ts the way every npm script does, through boot.mjs.
import { fileURLToPath } from 'node:url';

process.argv.splice(2, 0, fileURLToPath(new URL('./cli.ts', import.meta.url)));
await import('./boot.mjs');
