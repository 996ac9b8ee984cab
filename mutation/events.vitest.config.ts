import { mutationVitestConfig } from './vitest.base.js';

export default mutationVitestConfig(['test/api/sse.test.ts', 'test/api/sse-replay.test.ts']);
