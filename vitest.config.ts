// Unit tests: the sim's, the grader's, and any lesson or script tests. NOT the hidden tests in
// grader/tests/ (the grader runs those against a chosen target: `npm run verify`), nor the
// fixture courses under grader/test/fixtures/.
import { defineConfig } from 'vitest/config';
import { site_plugins } from './grader/lib/site-plugin.ts';

export default defineConfig(async () => ({
  // >>> INTEGRATION POINT: sim/site/vite-plugin.ts (call sites), loaded by site_plugins()
  plugins: await site_plugins(import.meta.dirname),
  cacheDir: '.dmalab/vite-unit',
  test: {
    include: ['sim/**/*.test.ts', 'grader/test/**/*.test.ts', 'lessons/**/*.test.ts', 'scripts/**/*.test.ts', 'tools/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/fixtures/**', 'grader/tests/**', '.dmalab/**'],
    passWithNoTests: true,
  },
}));
