import { defineConfig } from 'vitest/config';

export default defineConfig({
  // graphql 16 ships CJS (main) and ESM (module). Node loads the CJS one for the dependencies; make the
  // code vitest transforms load that same copy, or graphql refuses types "from another realm".
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    include: ['test/**/*.test.ts'],
    // Browser tests run on their own (npm run test:browser, vitest.browser.config.ts).
    exclude: ['test/bench/**', 'test/browser/**', 'node_modules/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Each file gets its own database, so files run in parallel, each in its own process.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
