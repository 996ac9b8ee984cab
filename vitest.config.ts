import { defineConfig } from 'vitest/config';

// `npm test`: unit tests beside their source and the integration suites under test/.
// Browser journeys live under test/e2e and run with `npm run test:e2e`.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/src/**/*.test.{ts,tsx}'],
    exclude: ['test/e2e/**', 'node_modules/**', 'dist/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
