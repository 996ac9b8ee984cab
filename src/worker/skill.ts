// Skills ship with the package under src/skills/<name>/SKILL.md (package.json "files").
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { AppError } from '../base/errors.js';

/** Folder holding the shipped skills, from dist/worker/ or src/worker/ alike. */
export const SKILLS_DIR = fileURLToPath(new URL('../../src/skills/', import.meta.url));

/**
 * Reads a skill's text.
 *
 * @example
 * const text = await loadSkill('spec-driven-dev');
 */
export async function loadSkill(name: string, dir: string = SKILLS_DIR): Promise<string> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new AppError('BAD_REQUEST', `Invalid skill name "${name}"`);
  try {
    return await readFile(`${dir}${dir.endsWith('/') ? '' : '/'}${name}/SKILL.md`, 'utf8');
  } catch (error) {
    throw new AppError('NOT_FOUND', `Skill "${name}" is not installed (looked in ${dir})`, { cause: error });
  }
}
