import { mutationVitestConfig } from './vitest.base.js';

// test/orchestrator/lease-renewal.test.ts covers the heartbeat too, through the orchestrator, but runs
// for seconds per mutant; the queue's own suites reach every statement of queue.ts.
export default mutationVitestConfig([
  'test/e2e-run/queue.test.ts',
  'test/e2e-run/queue-overlap.test.ts',
  'test/e2e-run/queue-contract.test.ts',
]);
