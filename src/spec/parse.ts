import type { SpecDocument, ValidationIssue } from './types.js';

/**
 * Parses one spec file without I/O. Returns the document (null when the file is not a recognised
 * spec file or has no usable frontmatter) and the per-file issues, with 1-based line numbers.
 * Never throws.
 *
 * @example
 * const { document, issues } = parseSpecFile('.omoi_os/tasks/TSK-001.md', text);
 */
export function parseSpecFile(
  path: string,
  content: string | Uint8Array,
): { document: SpecDocument | null; issues: ValidationIssue[] } {
  void path;
  void content;
  return { document: null, issues: [] };
}
