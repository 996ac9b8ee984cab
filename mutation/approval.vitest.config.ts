import { mutationVitestConfig } from './vitest.base.js';

export default mutationVitestConfig([
  // the plan and the task context, rule by rule
  'src/core/approval.test.ts',
  'test/exec/approval.test.ts',
  'test/api/approval-contract.test.ts',
]);
