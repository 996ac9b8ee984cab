import { mutationVitestConfig } from './vitest.base.js';

export default mutationVitestConfig([
  'src/core/keys.test.ts',
  'test/api/auth.test.ts',
  'test/api/security-keys.test.ts',
  'test/api/security-tokens.test.ts',
]);
