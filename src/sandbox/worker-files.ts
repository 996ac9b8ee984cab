import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { AppError } from '../core/errors.js';

/** A local file a remote provider copies into the sandbox; `to` is relative to the sandbox workdir. */
export interface UploadFile {
  from: string;
  to: string;
}

/** How the travelling worker is started inside a bare sandbox (from its workdir). */
export const WORKER_COMMAND = ['node', 'worker.bundle.mjs', 'worker'];

/**
 * The files of the travelling worker built by `npm run build`: `dist/worker.bundle.mjs` and the
 * skill files beside it in `dist/skills/`. A remote provider uploads them into a sandbox that has
 * only Node and git, keeping the same layout, so the bundle finds its skills next to itself.
 *
 * @example
 * const files = workerUploads('/opt/omoi'); // [{ from: '/opt/omoi/dist/worker.bundle.mjs', to: 'worker.bundle.mjs' }, …]
 */
export function workerUploads(packageRoot: string): UploadFile[] {
  const dist = join(packageRoot, 'dist');
  const bundle = join(dist, 'worker.bundle.mjs');
  if (!existsSync(bundle)) {
    throw new AppError(
      'SANDBOX_FAILED',
      `The travelling worker ${bundle} is missing; run \`npm run build\` before using a remote sandbox`,
    );
  }
  const files: UploadFile[] = [{ from: bundle, to: 'worker.bundle.mjs' }];
  const skills = join(dist, 'skills');
  if (existsSync(skills)) {
    for (const file of walk(skills))
      files.push({ from: file, to: relative(dist, file).split('\\').join('/') });
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
