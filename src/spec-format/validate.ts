import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { classifyPath, normalizePath, SPEC_DIR } from './format.js';
import { type Edges, findCycles } from './graph.js';
import { issue } from './issues.js';
import { loadSpecFiles } from './load.js';
import { keyLine, parseSpecFile } from './parse.js';
import type { SpecDocument, SpecFile, SpecValidation, ValidationIssue } from './types.js';

export interface ValidateOptions {
  /** Report warnings as errors (level `error`). */
  strict?: boolean;
}

/**
 * Validates a set of spec files (paths relative to the folder holding `.omoi_os/`) against every
 * rule of docs/spec-format.md. Pure and deterministic (issues sorted by path, line, code); never
 * throws, whatever the bytes. The CLI, the worker and the API all call this one function.
 *
 * @example
 * const report = validateSpecFiles([{ path: '.omoi_os/tasks/TSK-001.md', content }]);
 * if (!report.valid) for (const i of report.issues) console.log(`${i.path}:${i.line} ${i.code}`);
 */
export function validateSpecFiles(files: SpecFile[], options: ValidateOptions = {}): SpecValidation {
  const issues: ValidationIssue[] = [];
  const documents: SpecDocument[] = [];
  const paths = new Set<string>();
  const skipped: string[] = [];
  let read = 0;
  let specFiles = 0;
  for (const file of files) {
    const path = normalizePath(String(file?.path ?? ''));
    paths.add(path);
    const place = classifyPath(path);
    if (place.type === 'ignored') {
      if (place.template) skipped.push(path);
      continue;
    }
    read++;
    if (place.type === 'spec') specFiles++;
    const content =
      typeof file?.content === 'string' || file?.content instanceof Uint8Array ? file.content : '';
    const parsed = parseSpecFile(path, content);
    issues.push(...parsed.issues);
    if (parsed.document) documents.push(parsed.document);
  }
  if (specFiles === 0) {
    issues.push(
      issue(
        'DIR_MISSING',
        SPEC_DIR,
        null,
        `no spec file found: ${SPEC_DIR}/ is missing or holds no spec file`,
        `create ${SPEC_DIR}/tickets/TKT-001.md (see docs/spec-format.md)`,
      ),
    );
  }
  issues.push(...crossFileIssues(documents, paths));
  return finish(issues, documents, read, options, skipped);
}

function finish(
  found: ValidationIssue[],
  documents: SpecDocument[],
  files: number,
  options: ValidateOptions,
  skipped: string[],
): SpecValidation {
  const issues = options.strict ? found.map((i) => ({ ...i, level: 'error' as const })) : found;
  issues.sort(
    (a, b) =>
      (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
  );
  const errors = issues.filter((i) => i.level === 'error').length;
  return {
    valid: errors === 0,
    summary: { files, errors, warnings: issues.length - errors },
    issues,
    skipped: [...skipped].sort(),
    documents,
  };
}

/** Rules that need more than one file: duplicates, references, parents, cycles, mirrors. */
function crossFileIssues(documents: SpecDocument[], paths: Set<string>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const byId = new Map<string, SpecDocument>();
  const items = new Map<string, string>();
  const sorted = [...documents].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const doc of sorted) {
    if (doc.id === null || doc.id === '') continue;
    const first = byId.get(doc.id);
    if (first) {
      issues.push(
        issue(
          'ID_DUPLICATE',
          doc.path,
          keyLine(doc, 'id') ?? 1,
          `id ${doc.id} is already used by ${first.path}`,
          'give each file its own id',
        ),
      );
    } else byId.set(doc.id, doc);
  }
  for (const doc of sorted) {
    for (const item of doc.items ?? []) {
      const first = items.get(item.id);
      const clash = byId.get(item.id);
      // `requirements:` lists may name an item or a document, so the two must not share an id.
      if (clash) {
        issues.push(
          issue(
            'ID_DUPLICATE',
            doc.path,
            item.line,
            `requirement ${item.id} has the id of ${clash.path}`,
            'give the requirement item an id with an area word (REQ-<FEATURE>-<AREA>-NNN)',
          ),
        );
      } else if (first !== undefined) {
        issues.push(
          issue(
            'ID_DUPLICATE',
            doc.path,
            item.line,
            `requirement ${item.id} is already defined in ${first}`,
            'give each requirement item its own id',
          ),
        );
      } else items.set(item.id, doc.path);
    }
  }
  const kindOf = (id: string) => byId.get(id)?.kind;
  const isRequirement = (id: string) => items.has(id) || kindOf(id) === 'requirements';

  for (const doc of sorted) {
    const refs = doc.refs;
    const missing = (key: string, index: number, what: string, id: string) =>
      issues.push(
        issue(
          'REF_MISSING',
          doc.path,
          keyLine(doc, `${key}#${index}`) ?? keyLine(doc, key) ?? 1,
          `${key.replace('dependencies.', '')} names ${what} ${id}, which does not exist`,
        ),
      );
    const checkIds = (key: string, ids: string[], kind: 'task' | 'ticket', what: string) =>
      ids.forEach((id, i) => {
        if (kindOf(id) !== kind) missing(key, i, what, id);
      });
    refs.requirements.forEach((id, i) => {
      if (!isRequirement(id)) missing('requirements', i, 'requirement', id);
    });
    for (const [key, ref] of [
      ['design_ref', refs.designRef],
      ['prd_ref', refs.prdRef],
    ] as const) {
      if (ref === undefined || ref.trim() === '') continue;
      const target = resolveRef(ref);
      if (!paths.has(target)) {
        issues.push(
          issue(
            'REF_MISSING',
            doc.path,
            keyLine(doc, key) ?? 1,
            `${key} points at ${ref}, but ${target} does not exist`,
            `${key} is a path relative to ${SPEC_DIR}/, for example designs/auth.md`,
          ),
        );
      }
    }
    if (doc.kind === 'task') {
      if (
        refs.parentTicket !== undefined &&
        refs.parentTicket !== '' &&
        kindOf(refs.parentTicket) !== 'ticket'
      )
        issues.push(
          issue(
            'REF_MISSING',
            doc.path,
            keyLine(doc, 'parent_ticket') ?? 1,
            `parent_ticket names ticket ${refs.parentTicket}, which does not exist`,
          ),
        );
      checkIds('dependencies.depends_on', refs.dependsOn, 'task', 'task');
      checkIds('dependencies.blocks', refs.blocks, 'task', 'task');
      issues.push(...mirrorIssues(doc, 'task', byId));
    }
    if (doc.kind === 'ticket') {
      checkIds('tasks', refs.tasks, 'task', 'task');
      checkIds('dependencies.blocked_by', refs.blockedBy, 'ticket', 'ticket');
      checkIds('dependencies.blocks', refs.blocks, 'ticket', 'ticket');
      checkIds('dependencies.related', refs.related, 'ticket', 'ticket');
      issues.push(...mirrorIssues(doc, 'ticket', byId));
      refs.tasks.forEach((taskId, i) => {
        const parent = byId.get(taskId)?.refs.parentTicket;
        if (
          kindOf(taskId) === 'task' &&
          parent !== undefined &&
          parent !== doc.id &&
          kindOf(parent) === 'ticket'
        )
          issues.push(
            issue(
              'PARENT_MISMATCH',
              doc.path,
              keyLine(doc, `tasks#${i}`) ?? keyLine(doc, 'tasks') ?? 1,
              `ticket ${doc.id} lists task ${taskId}, whose parent_ticket is ${parent}`,
              `remove ${taskId} from tasks, or set its parent_ticket to ${doc.id}`,
            ),
          );
      });
    }
  }
  issues.push(...cycleIssues(sorted, byId));
  return issues;
}

/** `*_ref` paths are relative to `.omoi_os/`; a path already starting with `.omoi_os/` is accepted too. */
function resolveRef(ref: string): string {
  const path = normalizePath(ref.trim());
  return path.startsWith(`${SPEC_DIR}/`) ? path : `${SPEC_DIR}/${path}`;
}

/**
 * `blocks` mirrors `depends_on` (tasks) and `blocked_by` (tickets). A missing mirror is reported on
 * the file whose list names the other file.
 */
function mirrorIssues(
  doc: SpecDocument,
  kind: 'task' | 'ticket',
  byId: Map<string, SpecDocument>,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (doc.id === null) return issues;
  const [forward, forwardKey] =
    kind === 'task' ? [doc.refs.dependsOn, 'depends_on'] : [doc.refs.blockedBy, 'blocked_by'];
  const reverseOf = (other: SpecDocument) => (kind === 'task' ? other.refs.dependsOn : other.refs.blockedBy);
  forward.forEach((otherId, i) => {
    const other = byId.get(otherId);
    if (other?.kind === kind && other !== doc && !other.refs.blocks.includes(doc.id!))
      issues.push(
        issue(
          'DEP_ASYMMETRIC',
          doc.path,
          keyLine(doc, `dependencies.${forwardKey}#${i}`) ?? keyLine(doc, 'dependencies') ?? 1,
          `${doc.id} ${forwardKey.replace('_', ' ')} ${otherId}, but ${otherId} does not list ${doc.id} in blocks`,
          `add ${doc.id} to dependencies.blocks of ${otherId}`,
        ),
      );
  });
  doc.refs.blocks.forEach((otherId, i) => {
    const other = byId.get(otherId);
    if (other?.kind === kind && other !== doc && !reverseOf(other).includes(doc.id!))
      issues.push(
        issue(
          'DEP_ASYMMETRIC',
          doc.path,
          keyLine(doc, `dependencies.blocks#${i}`) ?? keyLine(doc, 'dependencies') ?? 1,
          `${doc.id} blocks ${otherId}, but ${otherId} does not list ${doc.id} in ${forwardKey}`,
          `add ${doc.id} to dependencies.${forwardKey} of ${otherId}`,
        ),
      );
  });
  return issues;
}

function cycleIssues(sorted: SpecDocument[], byId: Map<string, SpecDocument>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const [kind, key] of [
    ['task', 'depends_on'],
    ['ticket', 'blocked_by'],
  ] as const) {
    const edges: Edges = new Map();
    for (const doc of sorted) {
      if (doc.kind === kind && doc.id !== null && byId.get(doc.id) === doc)
        edges.set(doc.id, kind === 'task' ? doc.refs.dependsOn : doc.refs.blockedBy);
    }
    for (const cycle of findCycles(edges)) {
      const doc = byId.get(cycle[0]!)!;
      issues.push(
        issue(
          'DEP_CYCLE',
          doc.path,
          keyLine(doc, `dependencies.${key}`) ?? keyLine(doc, 'dependencies') ?? 1,
          `${kind} dependency cycle: ${cycle.join(' -> ')}`,
          `remove one ${key} link of the cycle`,
        ),
      );
    }
  }
  return issues;
}

/**
 * Loads `<root>/.omoi_os/` and validates it. A missing `.omoi_os/` folder is a DIR_MISSING report;
 * Markdown files that were not read (a symlink out of the tree, too large) are FILE_UNEXPECTED
 * warnings. Never throws.
 *
 * @example
 * const report = await validateSpecDir(process.cwd(), { strict: true });
 */
export async function validateSpecDir(root: string, options: ValidateOptions = {}): Promise<SpecValidation> {
  const info = await stat(join(root, SPEC_DIR)).catch(() => null);
  if (!info?.isDirectory()) {
    // Loaded only here: a folder with another tool's specs gets the command that imports them.
    const { detectForeignLayout } = await import('./import/index.js');
    const foreign = detectForeignLayout(root);
    const names = { kiro: 'Kiro', openspec: 'OpenSpec', speckit: 'Spec Kit' } as const;
    return finish(
      [
        foreign
          ? issue(
              'DIR_MISSING',
              SPEC_DIR,
              null,
              `there is no ${SPEC_DIR}/ folder in ${root}, but there is a ${names[foreign.format]} layout in ${foreign.path}/: import it with \`${foreign.command}\``,
              `run \`${foreign.command}\` to convert it into ${SPEC_DIR}/`,
            )
          : issue(
              'DIR_MISSING',
              SPEC_DIR,
              null,
              `there is no ${SPEC_DIR}/ folder in ${root}`,
              `create ${SPEC_DIR}/tickets/TKT-001.md (see docs/spec-format.md)`,
            ),
      ],
      [],
      0,
      options,
      [],
    );
  }
  const skipped: ValidationIssue[] = [];
  const files = await loadSpecFiles(root, {
    onSkip: (path, reason) =>
      skipped.push(issue('FILE_UNEXPECTED', path, null, `${path} ${reason}; not read`)),
  });
  const report = validateSpecFiles(files, options);
  if (skipped.length === 0) return report;
  return finish(
    [...report.issues, ...skipped],
    report.documents,
    report.summary.files,
    options,
    report.skipped,
  );
}
