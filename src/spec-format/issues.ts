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
