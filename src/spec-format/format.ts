// The `.omoi_os/` format as data: one table that the validator, the zod schemas (and through them the
// JSON Schema files in docs/schema/) and the docs are all derived from, so they cannot drift.
import type { SpecKind } from './types.js';

export const SPEC_DIR = '.omoi_os';

export const DOC_STATUSES = ['draft', 'review', 'approved'] as const;
export const TICKET_STATUSES = ['backlog', 'analyzing', 'building', 'testing', 'done', 'blocked'] as const;
export const TASK_STATUSES = ['pending', 'in_progress', 'review', 'done', 'blocked'] as const;
export const PRIORITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const;
export const ESTIMATES = ['XS', 'S', 'M', 'L', 'XL'] as const;
export const REQUIREMENT_CATEGORIES = ['functional', 'non-functional', 'constraint'] as const;
export const TASK_TYPES = [
  'implementation',
  'refactor',
  'test',
  'documentation',
  'research',
  'bugfix',
] as const;

/**
 * How a frontmatter field is checked:
 * - `string`: a non-empty string; `nullable`: a string or null (`assignee`)
 * - `date`: a `YYYY-MM-DD` string naming a real date
 * - `enum`: one of `values`
 * - `ids`: a list of strings (ids or paths); `list`: a list of anything (design `components`, …)
 * - `deps`: a mapping whose keys are `keys`, each an `ids` list
 */
export type FieldRule =
  | { type: 'string' | 'nullable' | 'date' | 'ids' | 'list' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'deps'; keys: readonly string[] };

export interface FieldSpec {
  rule: FieldRule;
  required: boolean;
  description: string;
}

export interface KindSpec {
  kind: SpecKind;
  /** Folder under `.omoi_os/`. */
  folder: string;
  idPattern: RegExp;
  /** The id pattern as people read it, for messages. */
  idShape: string;
  idExample: string;
  fields: Record<string, FieldSpec>;
  /** Body section (a heading) expected in the document, if any. */
  section?: string;
  /** Whether acceptance-criteria checkboxes are expected in the body. */
  criteria: boolean;
}

const str = (description: string, required = true): FieldSpec => ({
  rule: { type: 'string' },
  required,
  description,
});
const date = (description: string, required = true): FieldSpec => ({
  rule: { type: 'date' },
  required,
  description,
});
const oneOf = (values: readonly string[], description: string, required = true): FieldSpec => ({
  rule: { type: 'enum', values },
  required,
  description,
});
const ids = (description: string, required = false): FieldSpec => ({
  rule: { type: 'ids' },
  required,
  description,
});
const list = (description: string): FieldSpec => ({ rule: { type: 'list' }, required: false, description });

const WORD = '[A-Z][A-Z0-9]*';
const NUM = '\\d{3,}';

/** Requirement items inside a requirements document: `### REQ-<FEATURE>-<AREA>-NNN: title`. */
export const REQUIREMENT_ITEM_PATTERN = new RegExp(`^REQ-${WORD}-${WORD}-${NUM}$`);

const common = {
  title: str('Human-readable title.'),
  created: date('Creation date, YYYY-MM-DD.'),
  updated: date('Date of the last change, YYYY-MM-DD.'),
};

export const KINDS: Record<SpecKind, KindSpec> = {
  prd: {
    kind: 'prd',
    folder: 'docs',
    idPattern: new RegExp(`^PRD-${WORD}-${NUM}$`),
    idShape: 'PRD-<FEATURE>-NNN',
    idExample: 'PRD-AUTH-001',
    criteria: false,
    fields: {
      id: str('PRD-<FEATURE>-NNN'),
      ...common,
      feature: str('Feature slug this document belongs to.'),
      status: oneOf(DOC_STATUSES, 'Review status.'),
      author: str('Who wrote it.', false),
    },
  },
  requirements: {
    kind: 'requirements',
    folder: 'requirements',
    idPattern: new RegExp(`^REQ-${WORD}-${NUM}$`),
    idShape: 'REQ-<FEATURE>-NNN',
    idExample: 'REQ-AUTH-001',
    criteria: false,
    fields: {
      id: str('REQ-<FEATURE>-NNN'),
      ...common,
      feature: str('Feature slug this document belongs to.'),
      status: oneOf(DOC_STATUSES, 'Review status.'),
      category: oneOf(REQUIREMENT_CATEGORIES, 'Kind of requirement.'),
      priority: oneOf(PRIORITIES, 'Priority.'),
      prd_ref: str('Path of the PRD, relative to .omoi_os/.', false),
      design_ref: str('Path of the design, relative to .omoi_os/.', false),
    },
  },
  design: {
    kind: 'design',
    folder: 'designs',
    idPattern: new RegExp(`^DESIGN-${WORD}-${NUM}$`),
    idShape: 'DESIGN-<FEATURE>-NNN',
    idExample: 'DESIGN-AUTH-001',
    section: 'Architecture Overview',
    criteria: false,
    fields: {
      id: str('DESIGN-<FEATURE>-NNN'),
      ...common,
      feature: str('Feature slug this document belongs to.'),
      status: oneOf(DOC_STATUSES, 'Review status.'),
      requirements: ids('Requirement item ids or requirements-document ids this design covers.', true),
      components: list('Components introduced or changed.'),
      api_endpoints: list('API endpoints introduced or changed.'),
      data_models: list('Data models introduced or changed.'),
      prd_ref: str('Path of the PRD, relative to .omoi_os/.', false),
    },
  },
  ticket: {
    kind: 'ticket',
    folder: 'tickets',
    idPattern: new RegExp(`^TKT-(?:${WORD}-)?${NUM}$`),
    idShape: 'TKT-NNN or TKT-<PREFIX>-NNN',
    idExample: 'TKT-001',
    section: 'Description',
    criteria: true,
    fields: {
      id: str('TKT-NNN or TKT-<PREFIX>-NNN; the file name is <id>.md.'),
      ...common,
      status: oneOf(TICKET_STATUSES, 'Board column.'),
      priority: oneOf(PRIORITIES, 'Priority.'),
      estimate: oneOf(ESTIMATES, 'T-shirt size.'),
      feature: str('Feature slug.', false),
      design_ref: str('Path of the design, relative to .omoi_os/.', false),
      requirements: ids('Requirement item ids or requirements-document ids.'),
      tasks: ids('Task ids of this ticket.'),
      dependencies: {
        rule: { type: 'deps', keys: ['blocked_by', 'blocks', 'related'] },
        required: false,
        description: 'Ticket ids: blocked_by (mirrored by blocks) and related.',
      },
      description: str('One-paragraph summary.', false),
    },
  },
  task: {
    kind: 'task',
    folder: 'tasks',
    idPattern: new RegExp(`^TSK-(?:${WORD}-)?${NUM}$`),
    idShape: 'TSK-NNN or TSK-<PREFIX>-NNN',
    idExample: 'TSK-001',
    section: 'Objective',
    criteria: true,
    fields: {
      id: str('TSK-NNN or TSK-<PREFIX>-NNN; the file name is <id>.md.'),
      title: common.title,
      status: oneOf(TASK_STATUSES, 'Execution status.'),
      parent_ticket: str('Id of the ticket this task belongs to.'),
      estimate: oneOf(ESTIMATES, 'T-shirt size.'),
      created: common.created,
      updated: date('Date of the last change, YYYY-MM-DD.', false),
      type: oneOf(TASK_TYPES, 'Kind of work.', false),
      assignee: { rule: { type: 'nullable' }, required: false, description: 'Who works on it, or null.' },
      requirements: ids('Requirement item ids or requirements-document ids.'),
      files: ids('Files the task expects to touch.'),
      dependencies: {
        rule: { type: 'deps', keys: ['depends_on', 'blocks'] },
        required: false,
        description: 'Task ids: depends_on (mirrored by blocks).',
      },
    },
  },
};

/** The kind of a file from its path under `.omoi_os/`, or why it has none. */
export type PathClass =
  | { type: 'spec'; kind: SpecKind }
  | { type: 'ignored' }
  | { type: 'unexpected'; reason: string };

/**
 * Classifies a path relative to the folder holding `.omoi_os/`. Template files, non-Markdown files
 * and free-form documents in `docs/` are ignored; other Markdown files outside the known folders
 * are unexpected.
 */
export function classifyPath(path: string): PathClass {
  const parts = path.split('/');
  if (parts[0] !== SPEC_DIR || parts.some((p) => p === '..' || p === '.' || p === '') || parts.length < 2)
    return { type: 'unexpected', reason: `is not inside ${SPEC_DIR}/` };
  const name = parts[parts.length - 1]!;
  if (!name.toLowerCase().endsWith('.md')) return { type: 'ignored' };
  // A template (file or folder) is a starting point for authors, never a spec.
  if (parts.slice(1).some((p) => p.toLowerCase().includes('template'))) return { type: 'ignored' };
  if (parts.length !== 3) {
    return parts.length === 2
      ? { type: 'unexpected', reason: `sits directly in ${SPEC_DIR}/` }
      : { type: 'unexpected', reason: 'is in a sub-folder of a spec folder' };
  }
  const folder = parts[1]!;
  if (folder === 'docs') return /^prd-/i.test(name) ? { type: 'spec', kind: 'prd' } : { type: 'ignored' };
  for (const spec of Object.values(KINDS)) {
    if (spec.folder === folder) return { type: 'spec', kind: spec.kind };
  }
  return { type: 'unexpected', reason: `is in an unknown folder ${SPEC_DIR}/${folder}/` };
}

/**
 * Normalises a path handed to the validator: backslashes to slashes, a leading `./` dropped.
 * Anything else (absolute, `..`) is kept as is and then reported as outside `.omoi_os/`.
 */
export function normalizePath(path: string): string {
  let p = path.replace(/\\/g, '/');
  while (p.startsWith('./')) p = p.slice(2);
  return p;
}
