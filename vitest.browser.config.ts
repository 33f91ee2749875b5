import { defineConfig } from 'vitest/config';

/** The storefront example in a real Chromium (npm run test:browser); not part of npm test. */
export default defineConfig({
  // The same single copy of graphql as the main suite (see vitest.config.ts).
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    include: ['test/browser/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    // One browser at a time on a small machine.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
