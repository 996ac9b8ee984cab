import { mutationVitestConfig } from './vitest.base.js';

export default mutationVitestConfig(['test/exec/approval.test.ts', 'test/api/approval-contract.test.ts']);
