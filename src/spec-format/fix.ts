// `omoi spec fix`: the mechanical repairs, planned without I/O (the CLI writes them):
// - a legacy `**Feature**: …` header (no frontmatter) becomes a frontmatter block;
// - top-level `depends_on:` / `blocks:` move under `dependencies:`;
// - a missing `blocks` mirror is added on the file the other one depends on;
// - a ticket or task file whose name does not fit its id is renamed to `<id>.md`.
import { createRequire } from 'node:module';
import {
  DOC_STATUSES,
  estimateSize,
  KINDS,
  PRIORITIES,
  REQUIREMENT_CATEGORIES,
  TASK_STATUSES,
  TICKET_STATUSES,
} from './format.js';
import { nextSpecId } from './next-id.js';
import { LEGACY_FIELD, legacyHeader } from './parse.js';
import type { SpecFile, SpecKind } from './types.js';
import { validateSpecFiles } from './validate.js';

export interface SpecFix {
  path: string;
  kind: 'frontmatter' | 'nest' | 'blocks' | 'rename';
  description: string;
  /** For renames: the new path. */
  to?: string;
}

export interface FixPlan {
  fixes: SpecFix[];
  /** The new content of each changed file, by its path before any rename. */
  contents: Map<string, string>;
  /** Renames, old path -> new path. */
  renames: Map<string, string>;
}

type Yaml = typeof import('yaml');
let yamlLibrary: Yaml | undefined;
const yaml = (): Yaml => {
  yamlLibrary ??= createRequire(import.meta.url)('yaml') as Yaml;
  return yamlLibrary;
};

const asText = (content: string | Uint8Array) =>
  typeof content === 'string' ? content : new TextDecoder().decode(content);

/** Splits `---\n…\n---\n body` into the YAML source and the rest, or null without frontmatter. */
function splitFrontmatter(text: string): { bom: string; yaml: string; rest: string; eol: string } | null {
  const bom = text.startsWith('\uFEFF') ? '\uFEFF' : '';
  const body = text.slice(bom.length);
  const eol = body.includes('\r\n') ? '\r\n' : '\n';
  const lines = body.split(/\r?\n/);
  if (lines[0]?.trimEnd() !== '---') return null;
  const close = lines.findIndex((l, i) => i > 0 && l.trimEnd() === '---');
  if (close < 0) return null;
  return { bom, yaml: lines.slice(1, close).join('\n'), rest: lines.slice(close + 1).join(eol), eol };
}

/** Applies `edit` to the frontmatter as a YAML document (comments and order kept). */
function editFrontmatter(text: string, edit: (doc: import('yaml').Document) => boolean): string | null {
  const parts = splitFrontmatter(text);
  if (!parts) return null;
  const doc = yaml().parseDocument(parts.yaml);
  if (doc.errors.length || !yaml().isMap(doc.contents)) return null;
  if (!edit(doc)) return null;
  const out = doc
    .toString({ lineWidth: 0, flowCollectionPadding: false })
    .replace(/\n$/, '')
    .split('\n')
    .join(parts.eol);
  return `${parts.bom}---${parts.eol}${out}${parts.eol}---${parts.eol}${parts.rest}`;
}

function ensureDependencies(doc: import('yaml').Document): void {
  if (!yaml().isMap(doc.get('dependencies', true))) doc.set('dependencies', doc.createNode({}));
}

function flowList(doc: import('yaml').Document, ids: string[]) {
  const node = doc.createNode(ids) as import('yaml').YAMLSeq;
  node.flow = true;
  return node;
}

const isoDate = (value: string | undefined) => /\d{4}-\d{2}-\d{2}/.exec(value ?? '')?.[0];

/** A frontmatter block for a file with a legacy header, from the header and sensible defaults. */
function convertLegacy(
  path: string,
  kind: SpecKind,
  text: string,
  context: { files: SpecFile[]; today: string },
): { content: string; defaults: string[] } | null {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (!legacyHeader(lines)) return null;
  const header = new Map<string, string>();
  const kept: string[] = [];
  lines.forEach((line, i) => {
    const match = i < 30 ? LEGACY_FIELD.exec(line) : null;
    if (match)
      header.set(
        match[1]!
          .trim()
          .toLowerCase()
          .replace(/[\s-]+/g, '_'),
        match[2]!.trim(),
      );
    else kept.push(line);
  });
  const h1 = /^#\s+(.+?)\s*#*\s*$/m.exec(kept.join('\n'))?.[1];
  const stem = path.slice(path.lastIndexOf('/') + 1).replace(/\.md$/i, '');
  const defaults: string[] = [];
  const pick = (values: readonly string[], raw: string | undefined, fallback: string, field: string) => {
    const norm = (raw ?? '')
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, '_');
    const found = values.find((v) => v.toLowerCase() === norm);
    if (!found) defaults.push(`${field}: ${fallback}`);
    return found ?? fallback;
  };
  const feature =
    header.get('feature') ?? (kind === 'ticket' || kind === 'task' ? undefined : stem.replace(/^prd-/i, ''));
  const spec = KINDS[kind];
  let id = header.get('id');
  if (!id || !spec.idPattern.test(id)) {
    const others = validateSpecFiles(context.files).documents;
    const next = nextSpecId(others, kind, feature ? { feature } : {});
    if ('error' in next) return null;
    id = next.id;
    defaults.push(`id: ${id}`);
  }
  const fields: Record<string, unknown> = { id, title: header.get('title') ?? h1 ?? stem };
  if (feature) fields.feature = feature.toLowerCase();
  const statuses = kind === 'ticket' ? TICKET_STATUSES : kind === 'task' ? TASK_STATUSES : DOC_STATUSES;
  fields.status = pick(statuses, header.get('status'), statuses[0]!, 'status');
  fields.created = isoDate(header.get('created') ?? header.get('date')) ?? context.today;
  fields.updated = isoDate(header.get('updated') ?? header.get('last_updated')) ?? fields.created;
  if (kind === 'prd' && header.get('author')) fields.author = header.get('author');
  if (kind === 'requirements') {
    fields.category = pick(REQUIREMENT_CATEGORIES, header.get('category'), 'functional', 'category');
    fields.priority = pick(PRIORITIES, header.get('priority')?.toUpperCase(), 'MEDIUM', 'priority');
  }
  if (kind === 'ticket' || kind === 'task') {
    if (kind === 'ticket')
      fields.priority = pick(PRIORITIES, header.get('priority')?.toUpperCase(), 'MEDIUM', 'priority');
    const estimate = header.get('estimate');
    fields.estimate = estimate && estimateSize(estimate) ? estimate : kind === 'ticket' ? 'M' : 'S';
    if (!(estimate && estimateSize(estimate))) defaults.push(`estimate: ${fields.estimate}`);
    const parent = header.get('parent_ticket') ?? header.get('ticket');
    if (kind === 'task' && parent) fields.parent_ticket = parent;
  }
  if (kind === 'design') {
    const named = [
      ...new Set((header.get('requirements') ?? kept.join('\n')).match(/\bREQ-[A-Z0-9-]*\d{3,}\b/g) ?? []),
    ];
    if (named.length) fields.requirements = named;
    else {
      const sameFeature = validateSpecFiles(context.files).documents.find(
        (d) => d.kind === 'requirements' && d.id && d.frontmatter.feature === fields.feature,
      );
      if (sameFeature?.id) {
        fields.requirements = [sameFeature.id];
        defaults.push(`requirements: [${sameFeature.id}]`);
      }
    }
  }
  const doc = new (yaml().Document)(fields);
  const list = doc.get('requirements', true);
  if (yaml().isSeq(list)) list.flow = true;
  const body = kept
    .join('\n')
    .replace(/^\n+/, '')
    .replace(/\n{3,}/g, '\n\n');
  return {
    content: `---\n${doc.toString({ lineWidth: 0, flowCollectionPadding: false })}---\n\n${body}`,
    defaults,
  };
}

/**
 * Plans every mechanical fix for a set of spec files. Pure and deterministic.
 *
 * @example
 * const plan = planSpecFixes(await loadSpecFiles('.'));
 * for (const fix of plan.fixes) console.log(fix.path, fix.description);
 */
export function planSpecFixes(files: SpecFile[], options: { today?: string } = {}): FixPlan {
  const today = options.today ?? new Date().toISOString().slice(0, 10);
  const fixes: SpecFix[] = [];
  const contents = new Map<string, string>();
  const current = () => files.map((f) => ({ path: f.path, content: contents.get(f.path) ?? f.content }));
  const textOf = (path: string) => contents.get(path) ?? asText(files.find((f) => f.path === path)!.content);

  // 1. Legacy headers.
  let report = validateSpecFiles(current());
  for (const issue of report.issues) {
    if (issue.code !== 'FRONTMATTER_MISSING') continue;
    const kind = KINDS_BY_FOLDER[issue.path.split('/')[1] ?? ''];
    if (!kind) continue;
    const converted = convertLegacy(issue.path, kind, textOf(issue.path), { files: current(), today });
    if (!converted) continue;
    contents.set(issue.path, converted.content);
    fixes.push({
      path: issue.path,
      kind: 'frontmatter',
      description: `legacy header turned into frontmatter${converted.defaults.length ? ` (filled in: ${converted.defaults.join(', ')})` : ''}`,
    });
  }

  // 2. Top-level dependency lists move under `dependencies:`.
  report = validateSpecFiles(current());
  for (const issue of report.issues) {
    if (issue.code !== 'DEP_TOP_LEVEL') continue;
    const doc = report.documents.find((d) => d.path === issue.path);
    const moves = doc ? (KINDS[doc.kind].topLevelDeps ?? {}) : {};
    const edited = editFrontmatter(textOf(issue.path), (y) => {
      let changed = false;
      for (const [key, nested] of Object.entries(moves)) {
        if (!y.has(key)) continue;
        const top = y.get(key);
        const values = yaml().isSeq(top)
          ? (top.toJSON() as unknown[]).filter((v) => typeof v === 'string')
          : [];
        ensureDependencies(y);
        const before = y.getIn(['dependencies', nested]);
        const existing = yaml().isSeq(before)
          ? (before.toJSON() as unknown[]).filter((v) => typeof v === 'string')
          : [];
        y.delete(key);
        y.setIn(['dependencies', nested], flowList(y, [...new Set([...existing, ...values])] as string[]));
        changed = true;
      }
      return changed;
    });
    if (edited !== null && !fixes.some((f) => f.path === issue.path && f.kind === 'nest')) {
      contents.set(issue.path, edited);
      fixes.push({
        path: issue.path,
        kind: 'nest',
        description: 'top-level dependency lists moved under dependencies:',
      });
    }
  }

  // 3. Missing `blocks` mirrors.
  report = validateSpecFiles(current());
  const byId = new Map<string, (typeof report.documents)[number]>();
  for (const doc of report.documents) if (doc.id && !byId.has(doc.id)) byId.set(doc.id, doc);
  const additions = new Map<string, string[]>();
  for (const doc of report.documents) {
    if (!doc.id || byId.get(doc.id) !== doc) continue;
    const forward =
      doc.kind === 'task' ? doc.refs.dependsOn : doc.kind === 'ticket' ? doc.refs.blockedBy : [];
    for (const otherId of forward) {
      const other = byId.get(otherId);
      if (!other || other.kind !== doc.kind || other === doc || other.refs.blocks.includes(doc.id)) continue;
      additions.set(other.path, [...(additions.get(other.path) ?? []), doc.id]);
    }
  }
  for (const [path, ids] of [...additions].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const edited = editFrontmatter(textOf(path), (y) => {
      ensureDependencies(y);
      const before = y.getIn(['dependencies', 'blocks']);
      if (yaml().isSeq(before)) for (const id of ids) before.add(id);
      else y.setIn(['dependencies', 'blocks'], flowList(y, ids));
      return true;
    });
    if (edited === null) continue;
    contents.set(path, edited);
    fixes.push({ path, kind: 'blocks', description: `added ${ids.join(', ')} to dependencies.blocks` });
  }

  // 4. File names that do not fit the id.
  report = validateSpecFiles(current());
  const renames = new Map<string, string>();
  const taken = new Set(files.map((f) => f.path));
  for (const issue of report.issues) {
    if (issue.code !== 'FILENAME_MISMATCH') continue;
    const doc = report.documents.find((d) => d.path === issue.path);
    if (!doc?.id) continue;
    const to = `${issue.path.slice(0, issue.path.lastIndexOf('/'))}/${doc.id}.md`;
    if (taken.has(to)) continue;
    taken.add(to);
    renames.set(issue.path, to);
    fixes.push({ path: issue.path, kind: 'rename', description: `renamed to ${to}`, to });
  }
  return { fixes, contents, renames };
}

const KINDS_BY_FOLDER: Record<string, SpecKind> = Object.fromEntries(
  Object.values(KINDS).map((k) => [k.folder, k.kind]),
);
