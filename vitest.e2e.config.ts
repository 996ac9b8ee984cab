import { defineConfig } from 'vitest/config';

// `npm run test:e2e`: browser journeys in Debian's Chromium against a real `omoi start`.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
