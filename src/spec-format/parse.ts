import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Node } from 'yaml';
import { hasSection, outlineBody, readRequirementItems } from './body.js';
import { parseFrontmatterFast } from './fast-yaml.js';
import {
  classifyPath,
  DURATION_ESTIMATE,
  ESTIMATES,
  type FieldSpec,
  fileNameFitsId,
  KINDS,
  type KindSpec,
  normalizePath,
} from './format.js';
import { issue } from './issues.js';
import type { KeyLines, SpecDocument, SpecKind, SpecRefs, ValidationIssue } from './types.js';

export type { KeyLines } from './types.js';

export interface ParseResult {
  document: SpecDocument | null;
  issues: ValidationIssue[];
}

// Parsed documents remember where their keys were, so cross-file rules (validate.ts) can point at
// the exact line of a reference. Kept out of SpecDocument, which is a public, serialisable shape.
const keyLinesOf = new WeakMap<SpecDocument, KeyLines>();

/** Where a frontmatter key (or `key#index` list item) of a parsed document is, if known. */
export function keyLine(document: SpecDocument, key: string): number | null {
  return keyLinesOf.get(document)?.get(key) ?? null;
}

const MAX_ALIASES = 100;

// The YAML library is loaded on first use: most frontmatter takes the fast path (fast-yaml.ts),
// and `omoi spec validate` on a tree of plain files then never pays for loading it.
let yamlLibrary: typeof import('yaml') | undefined;
function yamlLib(): typeof import('yaml') {
  yamlLibrary ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlLibrary;
}

/**
 * Parses one spec file without I/O. Returns the document (null when the file is not a recognised
 * spec file or its frontmatter is unusable) and the per-file issues with 1-based lines: frontmatter,
 * field types, enums, dates, id format, file name, body sections, requirement items. Rules that need
 * other files (duplicates, references, cycles) are in validate.ts. Never throws.
 *
 * @example
 * const { document, issues } = parseSpecFile('.omoi_os/tasks/TSK-001.md', text);
 * document?.refs.dependsOn; // ['TSK-000']
 */
export function parseSpecFile(path: string, content: string | Uint8Array): ParseResult {
  const normalized = normalizePath(path);
  const place = classifyPath(normalized);
  if (place.type === 'ignored') return { document: null, issues: [] };
  if (place.type === 'unexpected') {
    return {
      document: null,
      issues: [
        issue(
          'FILE_UNEXPECTED',
          normalized,
          null,
          `${normalized} ${place.reason}; it is not read as a spec`,
          'move it into docs/, requirements/, designs/, tickets/ or tasks/ of .omoi_os/, or delete it',
        ),
      ],
    };
  }
  try {
    return parseKnown(normalized, place.kind, content);
  } catch (error) {
    // Last line of defence for "never throws": a parser bug must not hide the rest of the report.
    const message = error instanceof Error ? error.message : String(error);
    return {
      document: null,
      issues: [issue('YAML_INVALID', normalized, 1, `could not read the file: ${message}`)],
    };
  }
}

function decode(content: string | Uint8Array): string | null {
  if (typeof content === 'string') return content;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    return null;
  }
}

function noFrontmatter(path: string, message: string, fix: string): ParseResult {
  return { document: null, issues: [issue('FRONTMATTER_MISSING', path, 1, message, fix)] };
}

function parseKnown(path: string, kind: SpecKind, content: string | Uint8Array): ParseResult {
  const contentHash = createHash('sha256').update(content).digest('hex');
  let text = decode(content);
  if (text === null || text.includes('\u0000')) {
    return noFrontmatter(
      path,
      'the file is not UTF-8 text, so it has no frontmatter',
      'save it as UTF-8 Markdown',
    );
  }
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trimEnd() !== '---') {
    const legacy = legacyHeader(lines);
    return noFrontmatter(
      path,
      legacy
        ? `the file has a legacy \`**${legacy}**:\` header instead of a \`---\` frontmatter block`
        : 'the file does not start with a `---` frontmatter block',
      legacy
        ? 'run `omoi spec fix` to turn the header into frontmatter, or start the file with `---`, the YAML fields and a closing `---` line'
        : 'start the file with `---`, the YAML fields, and a closing `---` line',
    );
  }
  let close = -1;
  for (let i = 1; i < lines.length; i++) {
    if (lines[i]!.trimEnd() === '---') {
      close = i;
      break;
    }
  }
  if (close < 0) {
    return noFrontmatter(
      path,
      'the frontmatter block opened on line 1 is never closed',
      'add a line `---` after the last field',
    );
  }
  const source = lines.slice(1, close).join('\n');
  const fast = parseFrontmatterFast(source, 2);
  const yaml = fast ? { frontmatter: fast.value, keyLines: fast.keyLines } : readYaml(path, source);
  if ('issue' in yaml) return { document: null, issues: [yaml.issue] };
  const { frontmatter, keyLines } = yaml;
  const spec = KINDS[kind];
  const issues = checkFields(path, spec, frontmatter, keyLines);

  const bodyLines = lines.slice(close + 1);
  const outline = outlineBody(bodyLines, close + 2);
  const document: SpecDocument = {
    kind,
    id: typeof frontmatter.id === 'string' ? frontmatter.id : null,
    path,
    title: typeof frontmatter.title === 'string' ? frontmatter.title : null,
    frontmatter,
    body: bodyLines.join('\n'),
    contentHash,
    refs: readRefs(frontmatter, spec, keyLines),
  };
  if (kind === 'requirements') {
    const read = readRequirementItems(outline, path);
    document.items = read.items;
    issues.push(...read.issues);
  }
  if (spec.sections && !spec.sections.some((name) => hasSection(outline, name))) {
    const [usual, ...others] = spec.sections;
    issues.push(
      issue(
        'SECTION_MISSING',
        path,
        1,
        `${kind} has no "## ${usual}" section${others.length ? ` (or ${others.map((o) => `"## ${o}"`).join(', ')})` : ''}`,
        `add a heading \`## ${usual}\``,
      ),
    );
  }
  if (spec.criteria && outline.checkboxes.length === 0) {
    issues.push(
      issue(
        'CRITERIA_MISSING',
        path,
        1,
        `${kind} has no acceptance criterion`,
        'add at least one `- [ ] …` line (for example under `## Acceptance Criteria`)',
      ),
    );
  }
  if (document.id !== null && spec.idPattern.test(document.id) && (kind === 'ticket' || kind === 'task')) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (!fileNameFitsId(name, document.id)) {
      issues.push(
        issue(
          'FILENAME_MISMATCH',
          path,
          keyLines.get('id') ?? 1,
          `${kind} ${document.id} is in ${name}; the file must be named ${document.id}.md or ${document.id}-<slug>.md`,
          `rename the file to ${document.id}.md (\`omoi spec fix\` does it) or change its id`,
        ),
      );
    }
  }
  keyLinesOf.set(document, keyLines);
  return { document, issues };
}

function yamlLine(counter: import('yaml').LineCounter, offset: number | undefined): number | undefined {
  // YAML line 1 is file line 2: the opening `---` comes first.
  return offset === undefined ? undefined : counter.linePos(offset).line + 1;
}

/** The frontmatter through the full YAML library, with the line of the first error. */
export function readYaml(
  path: string,
  source: string,
): { frontmatter: Record<string, unknown>; keyLines: KeyLines } | { issue: ValidationIssue } {
  const { isMap, isScalar, isSeq, LineCounter, parseDocument } = yamlLib();
  const counter = new LineCounter();
  const doc = parseDocument(source, { lineCounter: counter, uniqueKeys: true, prettyErrors: true });
  const error = doc.errors[0];
  if (error) {
    const line = error.linePos ? error.linePos[0].line + 1 : 2;
    // The library's message repeats the position and quotes the source; ours has the line already.
    const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    return { issue: issue('YAML_INVALID', path, line, `invalid YAML frontmatter: ${message}`) };
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    return {
      issue: issue(
        'YAML_INVALID',
        path,
        yamlLine(counter, doc.contents.range?.[0]) ?? 2,
        'the frontmatter must be a mapping of fields (`key: value` lines)',
      ),
    };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { issue: issue('YAML_INVALID', path, 2, `invalid YAML frontmatter: ${message}`) };
  }
  const keyLines: KeyLines = new Map();
  const record = (prefix: string, node: Node | null | unknown) => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const line = yamlLine(counter, isScalar(pair.key) ? pair.key.range?.[0] : undefined);
        const name = prefix ? `${prefix}.${key}` : key;
        if (line !== undefined) keyLines.set(name, line);
        // Only the two levels the format has: top-level keys and `dependencies.<list>`.
        if (!prefix) record(name, pair.value);
        else recordItems(name, pair.value);
      }
    } else recordItems(prefix, node);
  };
  const recordItems = (name: string, node: unknown) => {
    if (!isSeq(node)) return;
    node.items.forEach((item, i) => {
      const line = yamlLine(counter, (item as Node | null)?.range?.[0]);
      if (line !== undefined) keyLines.set(`${name}#${i}`, line);
    });
  };
  record('', doc.contents);
  const frontmatter = value === null || value === undefined ? {} : (value as Record<string, unknown>);
  return { frontmatter, keyLines };
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return 'a string';
  return `a ${typeof value}`;
}

function isEmpty(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    (typeof value === 'string' && value.trim() === '') ||
    (Array.isArray(value) && value.length === 0)
  );
}

/** A real calendar date in `YYYY-MM-DD` form (2026-02-30 is not). */
export function isIsoDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function checkFields(
  path: string,
  spec: KindSpec,
  frontmatter: Record<string, unknown>,
  keyLines: KeyLines,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const [name, field] of Object.entries(spec.fields)) {
    const value = frontmatter[name];
    if (isEmpty(value) && !(field.rule.type === 'nullable' && value === null && !field.required)) {
      if (field.required) {
        const absent = value === undefined;
        issues.push(
          issue(
            'FIELD_MISSING',
            path,
            absent ? 1 : (keyLines.get(name) ?? 1),
            absent ? `required field '${name}' is missing` : `required field '${name}' is empty`,
            `add \`${name}: …\` (${field.description})`,
          ),
        );
      }
      continue;
    }
    issues.push(...checkField(path, name, field, value, keyLines));
  }
  if (
    typeof frontmatter.id === 'string' &&
    frontmatter.id.trim() !== '' &&
    !spec.idPattern.test(frontmatter.id)
  ) {
    issues.push(
      issue(
        'ID_FORMAT',
        path,
        keyLines.get('id') ?? 1,
        `id '${frontmatter.id}' does not match ${spec.idShape}`,
        `use an id such as ${spec.idExample} (upper-case words, 3 or more digits)`,
      ),
    );
  }
  for (const [key, nested] of Object.entries(spec.topLevelDeps ?? {})) {
    const value = frontmatter[key];
    if (value === undefined || key in spec.fields) continue;
    const line = keyLines.get(key) ?? 1;
    if (value !== null) issues.push(...checkIdList(path, key, value, keyLines, line));
    issues.push(
      issue(
        'DEP_TOP_LEVEL',
        path,
        line,
        `top-level '${key}' is read as dependencies.${nested}`,
        `move it under \`dependencies:\` as \`${nested}: […]\` (\`omoi spec fix\` does it)`,
      ),
    );
  }
  for (const key of Object.keys(frontmatter)) {
    if (!(key in spec.fields) && !(spec.topLevelDeps && key in spec.topLevelDeps)) {
      issues.push(
        issue(
          'FIELD_UNKNOWN',
          path,
          keyLines.get(key) ?? 1,
          `unknown field '${key}' for a ${spec.kind}`,
          `known fields: ${Object.keys(spec.fields).join(', ')}`,
        ),
      );
    }
  }
  return issues;
}

function checkField(
  path: string,
  name: string,
  field: FieldSpec,
  value: unknown,
  keyLines: KeyLines,
): ValidationIssue[] {
  const line = keyLines.get(name) ?? 1;
  // A list or number where a string belongs is usually YAML reading `[x]` or `001` literally.
  const wrongType = (expected: string, at = line, label = name) =>
    issue(
      'FIELD_TYPE',
      path,
      at,
      `'${label}' must be ${expected}, not ${typeName(value)}`,
      expected.startsWith('a list') || expected.startsWith('a mapping')
        ? undefined
        : `quote the value: ${label}: "…"`,
    );
  const rule = field.rule;
  switch (rule.type) {
    case 'string':
      return typeof value === 'string' ? [] : [wrongType('a string')];
    case 'nullable':
      return typeof value === 'string' || value === null ? [] : [wrongType('a string or null')];
    case 'date':
      if (typeof value !== 'string') return [wrongType('a YYYY-MM-DD date string')];
      return isIsoDate(value)
        ? []
        : [
            issue(
              'DATE_INVALID',
              path,
              line,
              `'${name}' is '${value}', not a real YYYY-MM-DD date`,
              'write the date as YYYY-MM-DD, for example 2026-01-31',
            ),
          ];
    case 'enum': {
      if (typeof value !== 'string') return [wrongType(`one of ${rule.values.join(', ')}`)];
      if (rule.values.includes(value)) return [];
      const near = rule.values.find((v) => v.toLowerCase() === value.toLowerCase().replace(/[ -]/g, '_'));
      const sameCase = rule.values.find((v) => v.toLowerCase() === value.toLowerCase());
      const hint = sameCase ?? near;
      return [
        issue(
          'ENUM_INVALID',
          path,
          line,
          `'${name}' is '${value}'; allowed values: ${rule.values.join(', ')}`,
          hint ? `use '${hint}'` : undefined,
        ),
      ];
    }
    case 'list':
      return Array.isArray(value) ? [] : [wrongType('a list')];
    case 'estimate': {
      if (typeof value !== 'string') return [wrongType(`a size (${ESTIMATES.join(', ')}) or a duration`)];
      if ((ESTIMATES as readonly string[]).includes(value) || DURATION_ESTIMATE.test(value)) return [];
      const sameCase = ESTIMATES.find((v) => v.toLowerCase() === value.toLowerCase());
      return [
        issue(
          'ENUM_INVALID',
          path,
          line,
          `'${name}' is '${value}'; allowed values: ${ESTIMATES.join(', ')}, or hours or days such as 4h, 2d`,
          sameCase ? `use '${sameCase}'` : undefined,
        ),
      ];
    }
    case 'ids':
      return checkIdList(path, name, value, keyLines, line);
    case 'deps': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return [wrongType(`a mapping with keys ${rule.keys.join(', ')}`)];
      const issues: ValidationIssue[] = [];
      for (const [key, list] of Object.entries(value)) {
        const label = `${name}.${key}`;
        const at = keyLines.get(label) ?? line;
        if (!rule.keys.includes(key)) {
          issues.push(
            issue(
              'FIELD_UNKNOWN',
              path,
              at,
              `unknown key '${key}' under '${name}'`,
              `allowed keys: ${rule.keys.join(', ')}`,
            ),
          );
        } else if (list !== null) {
          issues.push(...checkIdList(path, label, list, keyLines, at));
        }
      }
      return issues;
    }
  }
}

function checkIdList(
  path: string,
  label: string,
  value: unknown,
  keyLines: KeyLines,
  line: number,
): ValidationIssue[] {
  if (!Array.isArray(value))
    return [
      issue(
        'FIELD_TYPE',
        path,
        line,
        `'${label}' must be a list, not ${typeName(value)}`,
        `write it as a list: \`${label.split('.').pop()}: [${typeof value === 'string' ? value : '…'}]\``,
      ),
    ];
  const issues: ValidationIssue[] = [];
  value.forEach((item, i) => {
    if (typeof item !== 'string')
      issues.push(
        issue(
          'FIELD_TYPE',
          path,
          keyLines.get(`${label}#${i}`) ?? line,
          `item ${i + 1} of '${label}' must be a string, not ${typeName(item)}`,
        ),
      );
  });
  return issues;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function readRefs(frontmatter: Record<string, unknown>, spec: KindSpec, keyLines: KeyLines): SpecRefs {
  const raw = frontmatter.dependencies;
  const deps: Record<string, unknown> =
    typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? { ...(raw as object) } : {};
  // Top-level `depends_on:` / `blocks:` (older agents write them so) join the nested lists; their
  // list items get lines under the nested name, so REF_MISSING points at the right line.
  for (const [key, nested] of Object.entries(spec.topLevelDeps ?? {})) {
    const extra = strings(frontmatter[key]);
    if (extra.length === 0) continue;
    const before = strings(deps[nested]);
    const label = `dependencies.${nested}`;
    extra.forEach((_, i) => {
      const line = keyLines.get(`${key}#${i}`) ?? keyLines.get(key);
      if (line !== undefined && !keyLines.has(`${label}#${before.length + i}`))
        keyLines.set(`${label}#${before.length + i}`, line);
    });
    if (!keyLines.has(label) && keyLines.has(key)) keyLines.set(label, keyLines.get(key)!);
    deps[nested] = [...before, ...extra];
  }
  const refs: SpecRefs = {
    dependsOn: strings(deps.depends_on),
    blocks: strings(deps.blocks),
    blockedBy: strings(deps.blocked_by),
    related: strings(deps.related),
    tasks: strings(frontmatter.tasks),
    requirements: strings(frontmatter.requirements),
  };
  if (typeof frontmatter.parent_ticket === 'string') refs.parentTicket = frontmatter.parent_ticket;
  if (typeof frontmatter.design_ref === 'string') refs.designRef = frontmatter.design_ref;
  if (typeof frontmatter.prd_ref === 'string') refs.prdRef = frontmatter.prd_ref;
  return refs;
}

/**
 * The key of a legacy Markdown header (`**Feature**: webhooks` near the top, the way specs were
 * written before frontmatter), or null. Only the first 30 lines are looked at.
 */
export function legacyHeader(lines: string[]): string | null {
  for (const line of lines.slice(0, 30)) {
    const match = LEGACY_FIELD.exec(line);
    if (match) return match[1]!;
  }
  return null;
}

/** `**Key**: value` or `**Key:** value`, optionally as a list item. */
export const LEGACY_FIELD = /^\s*(?:[-*]\s+)?\*\*([A-Za-z][A-Za-z _-]{0,40}?)(?:\*\*\s*:|:\*\*)\s*(.*)$/;
