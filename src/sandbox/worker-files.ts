import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { AppError } from '../base/errors.js';

/** A local file a remote provider copies into the sandbox; `to` is relative to the sandbox workdir. */
export interface UploadFile {
  from: string;
  to: string;
}

/** Where the bundle goes in the sandbox, relative to the workdir (see below for why this layout). */
export const WORKER_BUNDLE_PATH = 'dist/worker/worker.bundle.mjs';

/** How the travelling worker is started inside a bare sandbox (from its workdir). */
export const WORKER_COMMAND = ['node', WORKER_BUNDLE_PATH, 'worker'];

/**
 * The files of the travelling worker: `dist/worker.bundle.mjs` (built by `npm run build`) and the
 * skill files in `src/skills/`. A remote provider uploads them into a sandbox that has only Node
 * and git in this package's own layout (`dist/worker/…` and `src/skills/…`), so the bundled worker
 * finds its skills at the same relative place as the unbundled one does (src/worker/skill.ts).
 *
 * @example
 * const files = workerUploads('/opt/omoi');
 * // [{ from: '/opt/omoi/dist/worker.bundle.mjs', to: 'dist/worker/worker.bundle.mjs' },
 * //  { from: '/opt/omoi/src/skills/spec-driven-dev/SKILL.md', to: 'src/skills/spec-driven-dev/SKILL.md' }, …]
 */
export function workerUploads(packageRoot: string): UploadFile[] {
  const bundle = join(packageRoot, 'dist', 'worker.bundle.mjs');
  if (!existsSync(bundle)) {
    throw new AppError(
      'SANDBOX_FAILED',
      `The travelling worker ${bundle} is missing; run \`npm run build\` before using a remote sandbox`,
    );
  }
  const files: UploadFile[] = [{ from: bundle, to: WORKER_BUNDLE_PATH }];
  const skills = join(packageRoot, 'src', 'skills');
  if (existsSync(skills)) {
    for (const file of walk(skills)) {
      files.push({ from: file, to: relative(packageRoot, file).split('\\').join('/') });
    }
  }
  return files;
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}
