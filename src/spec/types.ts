/** Shared types of the `.omoi_os/` spec format (see docs/spec-format.md). */

export type IssueLevel = 'error' | 'warning';

export type IssueCode =
  | 'DIR_MISSING'
  | 'FRONTMATTER_MISSING'
  | 'YAML_INVALID'
  | 'FIELD_MISSING'
  | 'FIELD_TYPE'
  | 'ENUM_INVALID'
  | 'DATE_INVALID'
  | 'ID_FORMAT'
  | 'ID_DUPLICATE'
  | 'FILENAME_MISMATCH'
  | 'REF_MISSING'
  | 'PARENT_MISMATCH'
  | 'DEP_CYCLE'
  | 'EARS_MISSING'
  | 'ITEMS_MISSING'
  | 'CRITERIA_MISSING'
  | 'SECTION_MISSING'
  | 'FIELD_UNKNOWN'
  | 'DEP_ASYMMETRIC'
  | 'FILE_UNEXPECTED';

export interface ValidationIssue {
  level: IssueLevel;
  code: IssueCode;
  /** Relative to the folder that holds `.omoi_os/`, for example `.omoi_os/tasks/TSK-001.md`. */
  path: string;
  /** 1-based, or null where no line can be known. */
  line: number | null;
  message: string;
  fix?: string;
}

export interface ValidationReport {
  valid: boolean;
  summary: { files: number; errors: number; warnings: number };
  issues: ValidationIssue[];
}

/** One file handed to the validator: `path` relative to the folder holding `.omoi_os/`. */
export interface SpecFile {
  path: string;
  content: string | Uint8Array;
}

export type SpecKind = 'prd' | 'requirements' | 'design' | 'ticket' | 'task';
