import { mutationVitestConfig } from './vitest.base.js';

export default mutationVitestConfig([
  'src/spec-format/validate.test.ts',
  'src/spec-format/validate-report.test.ts',
  'src/spec-format/robustness.test.ts',
]);
