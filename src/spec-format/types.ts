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
  | 'DEP_TOP_LEVEL'
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
  /** Files that were not read because they are templates (`.omoi_os/templates/ticket.md`), by path. */
  skipped: string[];
}

/** One file handed to the validator: `path` relative to the folder holding `.omoi_os/`. */
export interface SpecFile {
  path: string;
  content: string | Uint8Array;
}

export type SpecKind = 'prd' | 'requirements' | 'design' | 'ticket' | 'task';

/** One requirement item inside a requirements document (`### REQ-<FEATURE>-<AREA>-NNN: title`). */
export interface RequirementItem {
  id: string;
  title: string;
  /** 1-based line of the heading. */
  line: number;
  /** The EARS statement (`WHEN … THE SYSTEM SHALL …`), or null when there is none. */
  ears: string | null;
  criteria: { text: string; done: boolean }[];
}

/** Ids and paths a spec document names, for the API to resolve into rows. */
export interface SpecRefs {
  parentTicket?: string;
  dependsOn: string[];
  blocks: string[];
  blockedBy: string[];
  related: string[];
  tasks: string[];
  requirements: string[];
  designRef?: string;
  prdRef?: string;
}

/**
 * One parsed, recognised spec file. Partially valid files still produce a document as long as the
 * frontmatter is a mapping, so that the API and UI can show what is there.
 */
export interface SpecDocument {
  kind: SpecKind;
  /** The frontmatter `id` when it is a string, else null. */
  id: string | null;
  /** Relative to the folder holding `.omoi_os/`, for example `.omoi_os/tasks/TSK-001.md`. */
  path: string;
  title: string | null;
  frontmatter: Record<string, unknown>;
  /** Everything after the closing `---` line. */
  body: string;
  /** sha256 (hex) of the raw content, bytes as given. */
  contentHash: string;
  /** Requirements documents only. */
  items?: RequirementItem[];
  refs: SpecRefs;
}

/** A validation report with the documents it was computed from. */
export interface SpecValidation extends ValidationReport {
  documents: SpecDocument[];
}

/** A task node in the spec dependency graph. */
export interface SpecGraphTask {
  id: string;
  dependsOn: string[];
  ticket: string | null;
  status: string;
}

/** The task and ticket dependency graph of a spec tree. */
export interface SpecGraph {
  tasks: Map<string, SpecGraphTask>;
  /** Topological order of task ids (dependencies first; stable: by id among equals). */
  order: string[];
  /** Tasks not done whose `depends_on` are all done. */
  ready: string[];
  /** Each cycle as a path `[A, B, A]`. */
  cycles: string[][];
  /** Tickets ordered by `blocked_by` (blockers first; by id among equals). */
  ticketOrder: string[];
}

/**
 * Lines of frontmatter keys and list items: `status`, `dependencies.depends_on`,
 * `dependencies.depends_on#0` (the first item). Keys are in file lines (1-based).
 */
export type KeyLines = Map<string, number>;
