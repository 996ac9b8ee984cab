import type { IssueCode, IssueLevel, ValidationIssue } from './types.js';

/** The level of each code, as in the rules table of docs/spec-format.md. */
export const CODE_LEVELS: Record<IssueCode, IssueLevel> = {
  DIR_MISSING: 'error',
  FRONTMATTER_MISSING: 'error',
  YAML_INVALID: 'error',
  FIELD_MISSING: 'error',
  FIELD_TYPE: 'error',
  ENUM_INVALID: 'error',
  DATE_INVALID: 'error',
  ID_FORMAT: 'error',
  ID_DUPLICATE: 'error',
  FILENAME_MISMATCH: 'error',
  REF_MISSING: 'error',
  PARENT_MISMATCH: 'error',
  DEP_CYCLE: 'error',
  EARS_MISSING: 'error',
  ITEMS_MISSING: 'error',
  CRITERIA_MISSING: 'warning',
  SECTION_MISSING: 'warning',
  FIELD_UNKNOWN: 'warning',
  DEP_ASYMMETRIC: 'warning',
  DEP_TOP_LEVEL: 'warning',
  FILE_UNEXPECTED: 'warning',
};

/** Builds an issue with the level its code has by default. */
export function issue(
  code: IssueCode,
  path: string,
  line: number | null,
  message: string,
  fix?: string,
): ValidationIssue {
  const result: ValidationIssue = { level: CODE_LEVELS[code], code, path, line, message };
  if (fix !== undefined) result.fix = fix;
  return result;
}

/**
 * One issue on one line, as the CLI prints it and the agent's feedback lists it:
 * `path:line: level CODE message (fix: …)`, the line left out when it is not known.
 *
 * @example
 * formatIssue({ level: 'error', code: 'REF_MISSING', path: '.omoi_os/tasks/TSK-001.md', line: 4, message: 'TKT-009 does not exist' });
 * // '.omoi_os/tasks/TSK-001.md:4: error REF_MISSING TKT-009 does not exist'
 */
export function formatIssue(
  issue: Pick<ValidationIssue, 'path' | 'line' | 'level' | 'code' | 'message'>,
): string {
  const line = issue.line === null || issue.line === undefined ? '' : `:${issue.line}`;
  return `${issue.path}${line}: ${issue.level} ${issue.code} ${issue.message}`;
}

/** `formatIssue` with the issue's fix hint after it, as the agent's feedback shows it. */
export function formatIssueWithFix(issue: ValidationIssue): string {
  return `${formatIssue(issue)}${issue.fix ? ` (fix: ${issue.fix})` : ''}`;
}
