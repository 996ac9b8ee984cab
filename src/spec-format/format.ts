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
 * - `estimate`: a size (`XS` … `XL`) or a duration in hours or days (`1h`, `4h`, `2d`, `1.5d`)
 * - `deps`: a mapping whose keys are `keys`, each an `ids` list
 */
export type FieldRule =
  | { type: 'string' | 'nullable' | 'date' | 'ids' | 'list' | 'estimate' }
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
  /** Body section (a heading) expected in the document, if any; the first name is the usual one. */
  sections?: readonly string[];
  /**
   * Top-level keys read as a `dependencies` list (`depends_on: [TSK-001]` as written by older
   * agents), each with the nested key it stands for. They are read, with a DEP_TOP_LEVEL warning.
   */
  topLevelDeps?: Readonly<Record<string, string>>;
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
const estimate = (): FieldSpec => ({
  rule: { type: 'estimate' },
  required: true,
  description: 'T-shirt size (XS, S, M, L, XL) or a duration in hours or days (1h, 4h, 2d).',
});

// A feature word is upper-case and may hold hyphens and digits (`CREATE-REPO`, `DEMO-SPEC-001`),
// as real trees name features after slugs. Ids stay unambiguous: every segment is upper-case letters
// and digits, the first starts with a letter, and the id always ends in `-NNN` (3+ digits), so the
// number is the last segment and the feature word is everything between the kind and the number.
const WORD = '[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*';
const NUM = '\\d{3,}';

/**
 * Requirement items inside a requirements document: `### REQ-<FEATURE>-<AREA>-NNN: title` (a
 * level-3 or level-4 heading). With hyphens allowed in the feature word this is "at least two
 * words between `REQ-` and the number"; an item may not reuse a document id (ID_DUPLICATE).
 */
export const REQUIREMENT_ITEM_PATTERN = /^REQ-[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+-\d{3,}$/;

/** An estimate written as a duration: `1h`, `4h`, `2d`, `1.5d` (hours or days). */
export const DURATION_ESTIMATE = /^(\d+(?:\.\d+)?)\s*([hd])$/;

/**
 * The size an estimate stands for: a size is itself; a duration maps by working time
 * (up to 2h XS, up to 4h S, up to 1 day (8h) M, up to 3 days L, more XL). Null when it is neither.
 *
 * @example
 * estimateSize('4h'); // 'S'
 * estimateSize('2d'); // 'L'
 */
export function estimateSize(value: unknown): (typeof ESTIMATES)[number] | null {
  if (typeof value !== 'string') return null;
  if ((ESTIMATES as readonly string[]).includes(value)) return value as (typeof ESTIMATES)[number];
  const match = DURATION_ESTIMATE.exec(value.trim());
  if (!match) return null;
  const hours = Number(match[1]) * (match[2] === 'd' ? 8 : 1);
  if (!(hours > 0)) return null;
  return hours <= 2 ? 'XS' : hours <= 4 ? 'S' : hours <= 8 ? 'M' : hours <= 24 ? 'L' : 'XL';
}

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
      condition: str('The EARS condition (the WHEN clause) of a one-requirement document.', false),
      action: str('The EARS response (the SHALL clause) of a one-requirement document.', false),
    },
  },
  design: {
    kind: 'design',
    folder: 'designs',
    idPattern: new RegExp(`^DESIGN-${WORD}-${NUM}$`),
    idShape: 'DESIGN-<FEATURE>-NNN',
    idExample: 'DESIGN-AUTH-001',
    sections: ['Architecture Overview', 'Architecture'],
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
    sections: ['Description', 'Objective', 'Summary'],
    topLevelDeps: { depends_on: 'blocked_by', blocked_by: 'blocked_by', blocks: 'blocks' },
    criteria: true,
    fields: {
      id: str('TKT-NNN or TKT-<PREFIX>-NNN; the file name is <id>.md or <id>-<slug>.md.'),
      ...common,
      status: oneOf(TICKET_STATUSES, 'Board column.'),
      priority: oneOf(PRIORITIES, 'Priority.'),
      estimate: estimate(),
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
    sections: ['Objective', 'Description'],
    topLevelDeps: { depends_on: 'depends_on', blocks: 'blocks' },
    criteria: true,
    fields: {
      id: str('TSK-NNN or TSK-<PREFIX>-NNN; the file name is <id>.md or <id>-<slug>.md.'),
      title: common.title,
      status: oneOf(TASK_STATUSES, 'Execution status.'),
      parent_ticket: str('Id of the ticket this task belongs to.'),
      estimate: estimate(),
      priority: oneOf(PRIORITIES, 'Priority.', false),
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
  | { type: 'ignored'; template?: true }
  | { type: 'unexpected'; reason: string };

// A template is a name that is only "template(s)", or one word joined to it (`ticket-template`,
// `TASK_TEMPLATE`, `template.task`, `_templates`). A name with an id or a longer slug in it
// (`TKT-008-template-service.md`, a ticket about a template service) is a spec, not a template.
const TEMPLATE_NAME = /^[._]?(?:[a-z]+[-_.])?templates?(?:[-_.][a-z]+)?$/i;

/** Whether a file or folder name (a file without its `.md`) names a template. */
export function isTemplateName(name: string): boolean {
  return TEMPLATE_NAME.test(name.replace(/\.md$/i, ''));
}

/**
 * Classifies a path relative to the folder holding `.omoi_os/`. Templates (see {@link isTemplateName}),
 * non-Markdown files and free-form documents in `docs/` are ignored; other Markdown files outside
 * the known folders are unexpected.
 */
export function classifyPath(path: string): PathClass {
  const parts = path.split('/');
  if (parts[0] !== SPEC_DIR || parts.some((p) => p === '..' || p === '.' || p === '') || parts.length < 2)
    return { type: 'unexpected', reason: `is not inside ${SPEC_DIR}/` };
  const name = parts[parts.length - 1]!;
  if (!name.toLowerCase().endsWith('.md')) return { type: 'ignored' };
  // A template (file or folder) is a starting point for authors, never a spec.
  if (parts.slice(1).some(isTemplateName)) return { type: 'ignored', template: true };
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
 * Whether a ticket or task file name fits its id: `<id>.md` or `<id>-<slug>.md` (the slug is
 * anything after the hyphen, `TSK-007-slack-formatter.md`).
 */
export function fileNameFitsId(name: string, id: string): boolean {
  const stem = name.replace(/\.md$/i, '');
  return stem === id || (stem.startsWith(`${id}-`) && stem.length > id.length + 1);
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
