// Where this installation's built web UI is, apart from src/api/main.ts so that `omoi start` can
// build its configuration before it loads the server's modules.
import { fileURLToPath } from 'node:url';

/** web/dist of this installation (two folders up from dist/<area>/ and from dist/cli-bundle/). */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));
