import { mutationVitestConfig } from './vitest.base.js';

export default mutationVitestConfig(['test/api/sse.test.ts', 'src/core/events.test.ts']);
