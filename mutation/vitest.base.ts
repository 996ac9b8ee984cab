// The vitest settings a mutation run shares: each module's config names only the test files that
// cover that module, so a mutant is judged by its own tests and not by the whole suite.
import { defineConfig } from 'vitest/config';

export function mutationVitestConfig(include: string[]) {
  return defineConfig({
    root: new URL('..', import.meta.url).pathname,
    test: {
      include,
      testTimeout: 60_000,
      // Waits for something that never comes fail in 10 s (test/support/wait.ts), well inside
      // Stryker's timeout: such a mutant counts as killed without a test process restarted.
      env: { OMOI_TEST_WAIT_MS: '10000' },
      hookTimeout: 120_000,
    },
  });
}
