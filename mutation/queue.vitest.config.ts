import { mutationVitestConfig } from './vitest.base.js';

export default mutationVitestConfig([
  'test/e2e-run/queue.test.ts',
  'test/e2e-run/queue-overlap.test.ts',
  'test/orchestrator/lease-renewal.test.ts',
]);
