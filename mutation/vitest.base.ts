// The vitest settings a mutation run shares: each module's config names only the test files that
// cover that module, so a mutant is judged by its own tests and not by the whole suite.
import { defineConfig } from 'vitest/config';

export function mutationVitestConfig(include: string[]) {
  return defineConfig({
    root: new URL('..', import.meta.url).pathname,
    test: {
      include,
      testTimeout: 60_000,
      hookTimeout: 120_000,
    },
  });
}
