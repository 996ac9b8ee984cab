import { mutationVitestConfig } from './vitest.base.js';

export default mutationVitestConfig([
  // each rule's edges (roles, key sources, worker scope, Host and Origin, no-key requests)
  'src/api/auth.test.ts',
  'test/api/auth.test.ts',
  'test/api/security-keys.test.ts',
  'test/api/security-tokens.test.ts',
  // Host, Origin, proxies and OMOI_REQUIRE_KEY: src/api/auth.ts's originGuard and authMiddleware.
  'test/api/security-http.test.ts',
]);
