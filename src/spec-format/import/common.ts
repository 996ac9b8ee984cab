// Shared pieces of the importers: a source read into memory, the `.omoi_os/` files they write, ids,
// YAML values and Markdown helpers. Everything here is pure; reading and writing is in load.ts.

/** The three formats `omoi spec import` reads. */
export const IMPORT_FORMATS = ['kiro', 'openspec', 'speckit'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** One source folder read into memory: paths relative to that folder, `/`-separated. */
export interface SourceFolder {
  /** The folder's name (a Kiro feature, an OpenSpec capability path, a Spec Kit `NNN-feature`). */
  name: string;
  files: Record<string, string>;
}

export interface ImportCounts {
  features: number;
  requirements: number;
  criteria: number;
  designs: number;
  tickets: number;
  tasks: number;
}

export interface ImportResult {
  /** Files to write, with paths relative to the folder that will hold `.omoi_os/`. */
  files: { path: string; content: string }[];
  counts: ImportCounts;
  /** Things the importer could not carry over exactly (a reference to a missing requirement, …). */
  notes: string[];
}

export interface ImportOptions {
  /** `YYYY-MM-DD` for `created`/`updated` (default: today, UTC). */
  today?: string;
}

export function today(options: ImportOptions): string {
  return options.today ?? new Date().toISOString().slice(0, 10);
}

export function emptyCounts(): ImportCounts {
  return { features: 0, requirements: 0, criteria: 0, designs: 0, tickets: 0, tasks: 0 };
}

/** `user-auth` -> `user-auth`; a slug for file names and the `feature` field. */
export function slugOf(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'feature'
  );
}

/**
 * An upper-case feature word for ids from a folder name: `user-auth` -> `USER-AUTH`,
 * `001-photo-albums` -> `PHOTO-ALBUMS` (a word starts with a letter), unique among `taken`.
 */
export function featureWord(name: string, taken: Set<string>): string {
  let word = name
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '-')
    .replace(/^[^A-Z]+/, '')
    .replace(/-+$/g, '');
  if (word === '') word = 'F';
  let unique = word;
  for (let n = 2; taken.has(unique); n++) unique = `${word}-V${n}`;
  taken.add(unique);
  return unique;
}

export const pad = (n: number): string => String(n).padStart(3, '0');

/** A YAML scalar: plain when safe, else double-quoted JSON (valid YAML). */
export function yamlValue(value: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9 _./()-]*$/.test(value) &&
    !/^(?:true|false|null|yes|no|on|off|~)$/i.test(value)
    ? value
    : JSON.stringify(value);
}

/** A frontmatter block from ordered fields; lists as flow lists, `dependencies` nested. */
export function frontmatter(fields: [string, string | string[] | Record<string, string[]> | null][]): string {
  const lines = ['---'];
  for (const [key, value] of fields) {
    if (value === null) continue;
    if (typeof value === 'string') lines.push(`${key}: ${yamlValue(value)}`);
    else if (Array.isArray(value)) lines.push(`${key}: [${value.map(yamlValue).join(', ')}]`);
    else {
      lines.push(`${key}:`);
      for (const [k, list] of Object.entries(value))
        lines.push(`  ${k}: [${list.map(yamlValue).join(', ')}]`);
    }
  }
  lines.push('---', '');
  return lines.join('\n');
}

/** Text on one line, at most `max` characters, for titles. */
export function oneLine(text: string, max = 100): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

/** Drops Markdown emphasis so titles read plainly. */
export function plainText(text: string): string {
  return text.replace(/\*\*|__|`/g, '').trim();
}

/**
 * A statement the validator reads as a SHALL statement. Text that already says SHALL is kept;
 * MUST (RFC 2119, as OpenSpec and Spec Kit write) becomes SHALL; anything else is introduced by
 * `THE SYSTEM SHALL satisfy:` so the source wording stays intact.
 */
export function shallStatement(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (/\bshall\b/i.test(flat)) return flat;
  if (/\bMUST\b/.test(flat)) return flat.replace(/\bMUST\b/g, 'SHALL');
  return `THE SYSTEM SHALL satisfy: ${flat}`;
}

/** A checkbox line for a criterion, on one line. */
export function checkbox(text: string, done = false): string {
  return `- [${done ? 'x' : ' '}] ${text.replace(/\s+/g, ' ').trim()}`;
}

/** The lines of a Markdown text, CRLF and a byte-order mark removed. */
export function linesOf(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split(/\r?\n/);
}

/** The text of the first level-1 heading, if any. */
export function firstTitle(text: string): string | null {
  const match = /^#\s+(.+?)\s*#*\s*$/m.exec(text);
  return match ? plainText(match[1]!) : null;
}

/** The source text without its first level-1 heading line (the importer writes its own title). */
export function withoutTitle(text: string): string {
  return text
    .replace(/^\uFEFF/, '')
    .replace(/^#\s+.*(?:\r?\n|$)/m, '')
    .trim();
}

/**
 * Source text placed after the generated items, under its own heading: `##` and deeper headings
 * move one level down so none can end or be read as a requirement item, and fences stay balanced
 * (an unclosed fence is closed).
 */
export function sourceSection(title: string, text: string): string {
  const body = text.trim();
  if (body === '') return '';
  let fence: string | null = null;
  const out: string[] = [];
  for (const line of linesOf(body)) {
    const f = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence !== null) {
      if (f && f[1]![0] === fence[0] && f[1]!.length >= fence.length) fence = null;
      out.push(line);
      continue;
    }
    if (f) fence = f[1]!;
    const heading = /^(#{1,6})(\s.*)$/.exec(line);
    out.push(heading ? `${heading[1]!.length >= 6 ? '######' : `#${heading[1]}`}${heading[2]}` : line);
  }
  if (fence !== null) out.push(fence);
  return `## ${title}\n\n${out.join('\n')}\n`;
}

/** A task parsed from a Markdown checklist. */
export interface ChecklistTask {
  /** The number the source gave (`1`, `1.2`, `T001`), or null. */
  number: string | null;
  title: string;
  done: boolean;
  /** Indented detail lines under the item (bullets without a checkbox). */
  details: string[];
  /** The heading the item was under, if any. */
  section: string | null;
  depth: number;
}

const TASK_LINE = /^(\s*)[-*+]\s+\[([ xX\-~])\]\s+(.*)$/;

/** Checkbox items of a tasks file, with their detail lines and the heading they sit under. */
export function readChecklist(text: string, numberPattern: RegExp): ChecklistTask[] {
  const tasks: ChecklistTask[] = [];
  let section: string | null = null;
  let fence = false;
  for (const line of linesOf(text)) {
    if (/^ {0,3}(`{3,}|~{3,})/.test(line)) {
      fence = !fence;
      continue;
    }
    if (fence) continue;
    const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (heading) {
      section = plainText(heading[1]!);
      continue;
    }
    const item = TASK_LINE.exec(line);
    if (item) {
      const rest = item[3]!.trim();
      const number = numberPattern.exec(rest);
      tasks.push({
        number: number ? number[1]! : null,
        title: plainText(number ? rest.slice(number[0].length) : rest).trim(),
        done: item[2] === 'x' || item[2] === 'X',
        details: [],
        section,
        depth: item[1]!.replace(/\t/g, '    ').length,
      });
      continue;
    }
    const last = tasks[tasks.length - 1];
    if (last && /^\s+\S/.test(line)) last.details.push(line.trim());
  }
  return tasks;
}

/**
 * The body of an imported design: the source text, with an `## Architecture Overview` heading in
 * front when the source has no architecture section (Spec Kit plans and some Kiro designs).
 */
export function designBody(title: string, from: string, text: string): string {
  const hasArchitecture = /^#{1,6}\s+architecture(?:\s+overview)?\s*:?\s*$/im.test(text);
  const lead = hasArchitecture
    ? `Imported from \`${from}\`.`
    : `## Architecture Overview\n\nImported from \`${from}\`; the sections below are the source's.`;
  return `\n# ${title}\n\n${lead}\n\n${withoutTitle(text)}\n`;
}

// The four kinds of `.omoi_os/` document an importer writes. The fields and their order are the
// spec format's (docs/spec-format.md); what differs between sources is the text, so the three
// importers pass that in and the frontmatter and the fixed sections are written here once.

type ImportedFile = ImportResult['files'][number];

/**
 * Where a feature's design goes: `designs/<slug>.md` when the source has a design and there are
 * requirements for it to cover, else null. A design in the format must name the requirements it
 * covers, so without any the source design is kept as a free-form `docs/design-<slug>.md`.
 */
export function designRefOf(slug: string, hasDesign: boolean, requirementCount: number): string | null {
  return hasDesign && requirementCount > 0 ? `designs/${slug}.md` : null;
}

/**
 * A feature's requirements document `REQ-<WORD>-001`: its items, then the source's other text
 * (`rest`) under "From the source".
 */
export function requirementsFile(doc: {
  word: string;
  slug: string;
  /** The frontmatter title; `heading` is the document's `#` heading. */
  title: string;
  heading: string;
  date: string;
  designRef: string | null;
  /** The source file the items come from. */
  from: string;
  items: string[];
  rest: string;
}): ImportedFile {
  return {
    path: `.omoi_os/requirements/${doc.slug}.md`,
    content:
      frontmatter([
        ['id', `REQ-${doc.word}-001`],
        ['title', oneLine(doc.title)],
        ['feature', doc.slug],
        ['status', 'draft'],
        ['created', doc.date],
        ['updated', doc.date],
        ['category', 'functional'],
        ['priority', 'MEDIUM'],
        ['design_ref', doc.designRef],
      ]) +
      `\n# ${doc.heading}\n\nImported from \`${doc.from}\`.\n\n${doc.items.join('\n\n')}\n\n${sourceSection('From the source', withoutTitle(doc.rest))}`,
  };
}

/**
 * A feature's design at `designRef` (see designRefOf) naming `requirements`, or, when `designRef`
 * is null, the same text as the free-form `docs/design-<slug>.md`.
 */
export function designFile(doc: {
  designRef: string | null;
  word: string;
  slug: string;
  title: string;
  date: string;
  requirements: string[];
  body: string;
}): ImportedFile {
  if (doc.designRef === null)
    return { path: `.omoi_os/docs/design-${doc.slug}.md`, content: doc.body.trimStart() };
  return {
    path: `.omoi_os/${doc.designRef}`,
    content:
      frontmatter([
        ['id', `DESIGN-${doc.word}-001`],
        ['title', oneLine(doc.title)],
        ['feature', doc.slug],
        ['status', 'draft'],
        ['created', doc.date],
        ['updated', doc.date],
        ['requirements', doc.requirements],
      ]) + doc.body,
  };
}

/**
 * A task document. `objective` is the text of its Objective section (the title and whatever the
 * source adds); its one criterion is the title, checked when the source checked the task.
 */
export function taskFile(task: {
  id: string;
  title: string;
  done: boolean;
  ticket: string;
  date: string;
  requirements?: string[] | null;
  dependencies?: { depends_on: string[]; blocks: string[] };
  objective: string;
  /** The source file, and the task's number in it. */
  from: string;
  number: string | null;
}): ImportedFile {
  return {
    path: `.omoi_os/tasks/${task.id}.md`,
    content:
      frontmatter([
        ['id', task.id],
        ['title', oneLine(task.title)],
        ['status', task.done ? 'done' : 'pending'],
        ['parent_ticket', task.ticket],
        ['estimate', 'S'],
        ['created', task.date],
        ['updated', task.date],
        ['requirements', task.requirements ?? null],
        ['dependencies', task.dependencies ?? null],
      ]) +
      `\n# ${oneLine(task.title)}\n\n## Objective\n\n${task.objective}\n## Acceptance Criteria\n\n${checkbox(task.title, task.done)}\n\nImported from \`${task.from}\`${task.number ? `, task ${task.number}` : ''}.\n`,
  };
}

/** A ticket document; `after` is source text placed after its acceptance criteria. */
export function ticketFile(ticket: {
  id: string;
  title: string;
  done: boolean;
  date: string;
  slug: string;
  designRef: string | null;
  requirements?: string[] | null;
  tasks: string[] | null;
  dependencies?: { blocked_by: string[]; blocks: string[] };
  heading: string;
  description: string;
  criteria: string[];
  after?: string;
}): ImportedFile {
  return {
    path: `.omoi_os/tickets/${ticket.id}.md`,
    content:
      frontmatter([
        ['id', ticket.id],
        ['title', oneLine(ticket.title)],
        ['status', ticket.done ? 'done' : 'backlog'],
        ['priority', 'MEDIUM'],
        ['estimate', 'M'],
        ['created', ticket.date],
        ['updated', ticket.date],
        ['feature', ticket.slug],
        ['design_ref', ticket.designRef],
        ['requirements', ticket.requirements ?? null],
        ['tasks', ticket.tasks],
        ['dependencies', ticket.dependencies ?? null],
      ]) +
      `\n# ${ticket.heading}\n\n## Description\n\n${ticket.description}\n\n## Acceptance Criteria\n\n${ticket.criteria.join('\n')}\n${ticket.after === undefined ? '' : `\n${ticket.after}`}`,
  };
}
