// Unit tests: the sim's, the grader's, and any lesson or script tests. NOT the hidden tests in
// grader/tests/ (the grader runs those against a chosen target: `npm run verify`), nor the
// fixture courses under grader/test/fixtures/.
// Load with `vitest --configLoader runner` (npm test does): the call-site plugin is TypeScript
// imported at run time.
import { defineConfig } from 'vitest/config';
import { site_plugins } from './grader/lib/site-plugin.ts';

// >>> INTEGRATION POINT: sim/site/vite-plugin.ts (call sites), loaded by site_plugins()
const plugins = await site_plugins(import.meta.dirname);

export default defineConfig({
  plugins,
  cacheDir: '.dmalab/vite-unit',
  test: {
    include: ['sim/**/*.test.ts', 'grader/test/**/*.test.ts', 'lessons/**/*.test.ts', 'scripts/**/*.test.ts', 'tools/**/*.test.ts'],
    exclude: [
      '**/node_modules/**',
      '**/fixtures/**',
      'grader/tests/**',
      '.dmalab/**',
      // timing-sensitive (verdict within 5 s, the page within 100 ms): npm test runs them alone, after the rest
      ...(process.env.DMALAB_TEST_PHASE === 'parallel' ? ['grader/test/watch.test.ts', 'grader/test/web-watch.test.ts', 'grader/test/spin-watch.test.ts', 'grader/test/web-browser.test.ts'] : []),
    ],
    passWithNoTests: true,
  },
});
