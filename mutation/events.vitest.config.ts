import { mutationVitestConfig } from './vitest.base.js';

// test/api/sse-backlog.test.ts is left out: 40 MB through HTTP (~20 s a run, most mutants reach
// it) for the drop of a slow subscriber, which src/api/routes/events.test.ts drives directly.
export default mutationVitestConfig([
  'src/core/events.test.ts',
  'src/api/routes/events.test.ts',
  'test/api/sse.test.ts',
]);
