import { loadSpecFiles } from './load.js';
import type { SpecFile, SpecValidation } from './types.js';

export interface ValidateOptions {
  /** Report warnings as errors. */
  strict?: boolean;
}

/**
 * Validates a set of spec files (paths relative to the folder holding `.omoi_os/`) against every
 * rule of docs/spec-format.md. Pure; never throws.
 *
 * @example
 * const report = validateSpecFiles([{ path: '.omoi_os/tasks/TSK-001.md', content }]);
 * if (!report.valid) console.log(report.issues);
 */
export function validateSpecFiles(files: SpecFile[], options: ValidateOptions = {}): SpecValidation {
  void files;
  void options;
  return { valid: true, summary: { files: 0, errors: 0, warnings: 0 }, issues: [], documents: [] };
}

/**
 * Loads `<root>/.omoi_os/` and validates it.
 *
 * @example
 * const report = await validateSpecDir(process.cwd(), { strict: true });
 */
export async function validateSpecDir(root: string, options: ValidateOptions = {}): Promise<SpecValidation> {
  return validateSpecFiles(await loadSpecFiles(root), options);
}
