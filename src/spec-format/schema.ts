// Zod schemas of the frontmatter of the five kinds, for code that wants typed frontmatter (the API,
// the UI) and for the JSON Schema files in docs/schema/ (editors use them for completion).
// They are built from the same constants as the validator (format.ts) and a test checks that both
// agree, but the validator does not use them: it needs a line per problem, and `omoi spec
// validate` stays fast by not loading zod at all.
import { z } from 'zod';
import {
  DOC_STATUSES,
  DURATION_ESTIMATE,
  ESTIMATES,
  KINDS,
  PRIORITIES,
  REQUIREMENT_CATEGORIES,
  TASK_STATUSES,
  TASK_TYPES,
  TICKET_STATUSES,
} from './format.js';
import type { SpecKind } from './types.js';

const text = z.string().min(1);
const date = z.iso.date();
const ids = z.array(z.string());
/** A size, or a duration in hours or days (`4h`, `2d`). */
const estimate = z.union([z.enum(ESTIMATES), z.string().regex(DURATION_ESTIMATE)]);

/** Adds each field's description from the format table, keeping the shape's static type. */
function described<T extends Record<string, z.ZodType>>(kind: SpecKind, shape: T): T {
  const fields = KINDS[kind].fields;
  const out: Record<string, z.ZodType> = {};
  for (const [key, schema] of Object.entries(shape)) out[key] = schema.describe(fields[key]!.description);
  return out as T;
}

/** The fields prd, requirements and design documents share. */
function documentFields(kind: 'prd' | 'requirements' | 'design') {
  return {
    id: z.string().regex(KINDS[kind].idPattern),
    title: text,
    feature: text,
    status: z.enum(DOC_STATUSES),
    created: date,
    updated: date,
  };
}

/** Frontmatter of `docs/prd-<feature>.md`. */
export const PrdFrontmatter = z.looseObject(
  described('prd', {
    ...documentFields('prd'),
    author: text.optional(),
  }),
);
export type PrdFrontmatter = z.infer<typeof PrdFrontmatter>;

/** Frontmatter of `requirements/<feature>.md`. */
export const RequirementsFrontmatter = z.looseObject(
  described('requirements', {
    ...documentFields('requirements'),
    category: z.enum(REQUIREMENT_CATEGORIES),
    priority: z.enum(PRIORITIES),
    prd_ref: text.optional(),
    design_ref: text.optional(),
    condition: text.optional(),
    action: text.optional(),
  }),
);
export type RequirementsFrontmatter = z.infer<typeof RequirementsFrontmatter>;

/** Frontmatter of `designs/<feature>.md`. */
export const DesignFrontmatter = z.looseObject(
  described('design', {
    ...documentFields('design'),
    requirements: ids.min(1),
    components: z.array(z.unknown()).optional(),
    api_endpoints: z.array(z.unknown()).optional(),
    data_models: z.array(z.unknown()).optional(),
    prd_ref: text.optional(),
  }),
);
export type DesignFrontmatter = z.infer<typeof DesignFrontmatter>;

/** Frontmatter of `tickets/<TICKET-ID>.md`. */
export const TicketFrontmatter = z.looseObject(
  described('ticket', {
    id: z.string().regex(KINDS.ticket.idPattern),
    title: text,
    status: z.enum(TICKET_STATUSES),
    priority: z.enum(PRIORITIES),
    estimate,
    created: date,
    updated: date,
    feature: text.optional(),
    design_ref: text.optional(),
    requirements: ids.optional(),
    tasks: ids.optional(),
    dependencies: z
      .looseObject({
        blocked_by: ids.nullable().optional(),
        blocks: ids.nullable().optional(),
        related: ids.nullable().optional(),
      })
      .optional(),
    description: text.optional(),
  }),
);
export type TicketFrontmatter = z.infer<typeof TicketFrontmatter>;

/** Frontmatter of `tasks/<TASK-ID>.md`. */
export const TaskFrontmatter = z.looseObject(
  described('task', {
    id: z.string().regex(KINDS.task.idPattern),
    title: text,
    status: z.enum(TASK_STATUSES),
    parent_ticket: text,
    estimate,
    priority: z.enum(PRIORITIES).optional(),
    created: date,
    updated: date.optional(),
    type: z.enum(TASK_TYPES).optional(),
    assignee: z.string().nullable().optional(),
    requirements: ids.optional(),
    files: ids.optional(),
    dependencies: z
      .looseObject({
        depends_on: ids.nullable().optional(),
        blocks: ids.nullable().optional(),
      })
      .optional(),
  }),
);
export type TaskFrontmatter = z.infer<typeof TaskFrontmatter>;

/** The frontmatter schema of each kind. */
export const FRONTMATTER_SCHEMAS = {
  prd: PrdFrontmatter,
  requirements: RequirementsFrontmatter,
  design: DesignFrontmatter,
  ticket: TicketFrontmatter,
  task: TaskFrontmatter,
} satisfies Record<SpecKind, z.ZodType>;

/**
 * The JSON Schema (draft 2020-12) of each kind's frontmatter, keyed by the file name it is
 * published under in docs/schema/. `scripts/gen-spec-schema.js` writes them; a test checks that the
 * files match.
 *
 * @example
 * specJsonSchemas()['task.schema.json'].properties.status.enum; // ['pending', 'in_progress', …]
 */
export function specJsonSchemas(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [kind, schema] of Object.entries(FRONTMATTER_SCHEMAS)) {
    const spec = KINDS[kind as SpecKind];
    out[`${kind}.schema.json`] = {
      title: `.omoi_os ${kind} frontmatter`,
      description: `Frontmatter of a ${kind} file in .omoi_os/${spec.folder}/ (id ${spec.idShape}). See docs/spec-format.md.`,
      ...z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }),
    };
  }
  return out;
}
