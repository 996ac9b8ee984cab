// Spec sync: the documents a run (or `omoi spec sync push`) sends are checked by the one validator
// of src/spec-format; an invalid set is refused whole, a valid set is upserted by (project, spec id) with
// its content hash, and the references between documents are stored resolved to rows.

import { AppError } from '../base/errors.js';
import type { SpecDocument as ApiSpecDocument } from '../contracts/api.js';
import { type Db, json, type Queryable, type Tx } from '../db/client.js';
import { validateSpecFiles } from '../spec-format/index.js';
import type { SpecDocument, SpecFile, ValidationIssue } from '../spec-format/types.js';
import type { EventsService } from './events.js';
import { isUuid } from './projects.js';
import { plain } from './rows.js';

export const SPEC_ROOT = '.omoi_os/';
export const MAX_SPEC_DOCUMENT_BYTES = 256 * 1024;
export const MAX_SPEC_DOCUMENTS = 2000;

/** A stored spec document as the API returns it (src/contracts/api.ts). */
export type SpecDocumentRow = ApiSpecDocument;

export type SpecLink = ApiSpecDocument['links'][number];

export interface SyncOutcome {
  valid: true;
  summary: { files: number; errors: number; warnings: number };
  /** Warnings the validator reported (errors refuse the whole set). */
  issues: ValidationIssue[];
  created: number;
  updated: number;
  unchanged: number;
  documents: { spec_id: string; kind: string; path: string; action: 'created' | 'updated' | 'unchanged' }[];
}

export interface SyncOptions {
  /** The ticket whose run produced these documents (a worker's token names it). */
  ticketId?: string | null;
  /**
   * A worker's sync: it may create documents (they become its ticket's) and change only the ones
   * its own ticket made, never another ticket's or the operator's (FORBIDDEN, nothing stored).
   */
  ownTicketOnly?: boolean;
  /** Whether to write a `spec.synced` event (a worker reports its own). */
  recordEvent?: boolean;
  /** Validator strictness (warnings as errors). */
  strict?: boolean;
  /** Only report what a sync would create, update or leave unchanged; store nothing. */
  dryRun?: boolean;
}

/**
 * Checks the paths before anything is parsed: relative, inside `.omoi_os/`, no `..`, no backslash
 * or NUL, no duplicates, bounded size. Returns the problems, one per offending document.
 */
export function checkSpecPaths(files: SpecFile[]): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    const path = file.path;
    const segments = path.split('/');
    let message: string | null = null;
    if (path.length === 0 || path.length > 512) message = 'a path must have 1 to 512 characters';
    else if (path.includes('\0') || path.includes('\\'))
      message = 'a path must not contain NUL or backslashes';
    else if (path.startsWith('/') || /^[a-zA-Z]:/.test(path)) message = 'a path must be relative';
    else if (segments.some((s) => s === '..' || s === '.' || s === ''))
      message = 'a path must not contain "..", "." or empty segments';
    else if (!path.startsWith(SPEC_ROOT)) message = `a path must stay inside ${SPEC_ROOT}`;
    else if (seen.has(path)) message = 'this path is sent twice';
    else {
      const size =
        typeof file.content === 'string' ? Buffer.byteLength(file.content) : file.content.byteLength;
      if (size > MAX_SPEC_DOCUMENT_BYTES)
        message = `the document is larger than ${MAX_SPEC_DOCUMENT_BYTES} bytes`;
    }
    seen.add(path);
    if (message) problems.push({ path, message });
  }
  return problems;
}

const COLUMNS = `d.id, d.project_id, d.spec_id, d.kind, d.path, d.ticket_id, d.title, d.status, d.frontmatter, d.body,
  d.content_hash, d.items, d.created_at, d.updated_at`;

/** Every reference a document names, as (kind, target) pairs. */
function refsOf(doc: SpecDocument): { kind: string; target: string }[] {
  const out: { kind: string; target: string }[] = [];
  const add = (kind: string, targets: (string | undefined)[]) => {
    for (const target of targets) if (target) out.push({ kind, target });
  };
  const r = doc.refs;
  add('parent_ticket', [r.parentTicket]);
  add('depends_on', r.dependsOn);
  add('blocks', r.blocks);
  add('blocked_by', r.blockedBy);
  add('related', r.related);
  add('tasks', r.tasks);
  add('requirements', r.requirements);
  add('design_ref', [r.designRef]);
  add('prd_ref', [r.prdRef]);
  const seen = new Set<string>();
  return out.filter((l) => {
    const key = `${l.kind}\0${l.target}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function createSpecsService(db: Db, events: EventsService) {
  async function links(q: Queryable, docIds: string[]): Promise<Map<string, SpecLink[]>> {
    const map = new Map<string, SpecLink[]>();
    if (docIds.length === 0) return map;
    const rows = await q.query<{
      from_doc: string;
      kind: string;
      target: string;
      to_doc: string | null;
      to_spec_id: string | null;
    }>(
      `SELECT l.from_doc::text AS from_doc, l.kind, l.target, l.to_doc::text AS to_doc, t.spec_id AS to_spec_id
         FROM spec_links l LEFT JOIN spec_documents t ON t.id = l.to_doc
        WHERE l.from_doc = ANY($1::uuid[]) ORDER BY l.kind, l.target`,
      [docIds],
    );
    for (const { from_doc, ...link } of rows) {
      const list = map.get(from_doc) ?? [];
      list.push(link);
      map.set(from_doc, list);
    }
    return map;
  }

  async function withLinks(q: Queryable, rows: Record<string, unknown>[]): Promise<SpecDocumentRow[]> {
    const docs = rows.map((r) => plain<SpecDocumentRow>(r));
    const byDoc = await links(
      q,
      docs.map((d) => d.id),
    );
    return docs.map((d) => ({ ...d, links: byDoc.get(d.id) ?? [] }));
  }

  /** Re-resolves the links of the given documents against the project's documents. */
  async function relink(
    tx: Tx,
    projectId: string,
    docs: { rowId: string; doc: SpecDocument }[],
  ): Promise<void> {
    const rows = await tx.query<{ id: string; spec_id: string; path: string; items: unknown }>(
      'SELECT id::text AS id, spec_id, path, items FROM spec_documents WHERE project_id = $1',
      [projectId],
    );
    const byTarget = new Map<string, string>();
    for (const row of rows) {
      byTarget.set(row.spec_id, row.id);
      byTarget.set(row.path.slice(SPEC_ROOT.length), row.id);
      if (Array.isArray(row.items))
        for (const item of row.items as { id?: unknown }[])
          if (typeof item?.id === 'string' && !byTarget.has(item.id)) byTarget.set(item.id, row.id);
    }
    const from: string[] = [];
    const kinds: string[] = [];
    const targets: string[] = [];
    const to: (string | null)[] = [];
    for (const { rowId, doc } of docs)
      for (const link of refsOf(doc)) {
        from.push(rowId);
        kinds.push(link.kind);
        targets.push(link.target);
        to.push(byTarget.get(link.target) ?? null);
      }
    await tx.query('DELETE FROM spec_links WHERE from_doc = ANY($1::uuid[])', [docs.map((d) => d.rowId)]);
    if (from.length)
      await tx.query(
        `INSERT INTO spec_links (from_doc, kind, target, to_doc)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[])`,
        [from, kinds, targets, to],
      );
    // Documents synced earlier may name ones that exist only now.
    await tx.query(
      `UPDATE spec_links l SET to_doc = d.id
         FROM spec_documents f, spec_documents d
        WHERE l.to_doc IS NULL AND f.id = l.from_doc AND f.project_id = $1 AND d.project_id = $1
          AND (d.spec_id = l.target OR d.path = '${SPEC_ROOT}' || l.target)`,
      [projectId],
    );
  }

  return {
    /**
     * Validates and stores a set of documents. An invalid set throws SPEC_INVALID (422) with the
     * report's issues and stores nothing; bad paths throw VALIDATION_FAILED (400) before parsing.
     */
    async sync(projectId: string, files: SpecFile[], options: SyncOptions = {}): Promise<SyncOutcome> {
      if (files.length > MAX_SPEC_DOCUMENTS)
        throw new AppError('PAYLOAD_TOO_LARGE', `at most ${MAX_SPEC_DOCUMENTS} documents per sync`);
      const problems = checkSpecPaths(files);
      if (problems.length) {
        const tooBig = problems.every((p) => p.message.startsWith('the document is larger'));
        throw new AppError(
          tooBig ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION_FAILED',
          `refused ${problems.length} document path(s): ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`.slice(
            0,
            2000,
          ),
          { issues: problems.map((p) => ({ path: ['documents', p.path], message: p.message })) },
        );
      }
      const report = validateSpecFiles(files, { strict: options.strict ?? false });
      if (!report.valid)
        throw new AppError(
          'SPEC_INVALID',
          `the spec set is invalid: ${report.summary.errors} error(s), ${report.summary.warnings} warning(s)`,
          { issues: report.issues },
        );
      const documents = report.documents.filter(
        (d): d is SpecDocument & { id: string } => typeof d.id === 'string',
      );
      return db.transaction(async (tx) => {
        const project = isUuid(projectId)
          ? await tx.query('SELECT id FROM projects WHERE id = $1 FOR UPDATE', [projectId])
          : [];
        if (!project[0]) throw new AppError('NOT_FOUND', `no project with id ${projectId}`);
        const ticketId = options.ticketId ?? null;
        if (ticketId) {
          const owned = isUuid(ticketId)
            ? await tx.query('SELECT id FROM tickets WHERE id = $1 AND project_id = $2', [
                ticketId,
                projectId,
              ])
            : [];
          if (!owned[0])
            throw new AppError('NOT_FOUND', `no ticket with id ${ticketId} in project ${projectId}`);
        }
        const outcome: SyncOutcome = {
          valid: true,
          summary: report.summary,
          issues: report.issues,
          created: 0,
          updated: 0,
          unchanged: 0,
          documents: [],
        };
        const changed: { rowId: string; doc: SpecDocument }[] = [];
        for (const doc of documents) {
          const existing = await tx.query<{
            id: string;
            content_hash: string;
            path: string;
            ticket_id: string | null;
          }>(
            `SELECT id::text AS id, content_hash, path, ticket_id::text AS ticket_id
               FROM spec_documents WHERE project_id = $1 AND spec_id = $2`,
            [projectId, doc.id],
          );
          const prior = existing[0];
          if (
            prior &&
            options.ownTicketOnly &&
            (prior.ticket_id === null || prior.ticket_id !== ticketId) &&
            (prior.content_hash !== doc.contentHash || prior.path !== doc.path)
          )
            throw new AppError(
              'FORBIDDEN',
              `${doc.id} belongs to ${prior.ticket_id ? 'another ticket' : 'no ticket'}: a worker may change only its own ticket's documents`,
            );
          const status = typeof doc.frontmatter.status === 'string' ? doc.frontmatter.status : null;
          // $2..$10 in both statements below
          const fields = [
            doc.kind,
            doc.path,
            ticketId,
            doc.title,
            status,
            doc.frontmatter,
            doc.body,
            doc.contentHash,
            json(doc.items ?? null),
          ];
          let action: 'created' | 'updated' | 'unchanged';
          let rowId: string;
          if (options.dryRun) {
            // A preview: the same comparison as below, nothing written.
            rowId = prior?.id ?? '';
            action = !prior
              ? 'created'
              : prior.content_hash !== doc.contentHash || prior.path !== doc.path
                ? 'updated'
                : 'unchanged';
          } else if (!prior) {
            const rows = await tx.query<{ id: string }>(
              `INSERT INTO spec_documents (project_id, kind, path, ticket_id, title, status, frontmatter, body,
                                           content_hash, items, spec_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10::jsonb, $11) RETURNING id::text AS id`,
              [projectId, ...fields, doc.id],
            );
            rowId = rows[0]!.id;
            action = 'created';
          } else if (prior.content_hash !== doc.contentHash || prior.path !== doc.path) {
            await tx.query(
              `UPDATE spec_documents SET kind = $2, path = $3, ticket_id = COALESCE(ticket_id, $4), title = $5,
                      status = $6, frontmatter = $7::jsonb, body = $8, content_hash = $9, items = $10::jsonb,
                      updated_at = now()
                WHERE id = $1`,
              [prior.id, ...fields],
            );
            rowId = prior.id;
            action = 'updated';
          } else {
            rowId = prior.id;
            action = 'unchanged';
          }
          outcome[action] += 1;
          outcome.documents.push({ spec_id: doc.id, kind: doc.kind, path: doc.path, action });
          if (action !== 'unchanged') changed.push({ rowId, doc });
        }
        if (options.dryRun) return outcome;
        if (changed.length) await relink(tx, projectId, changed);
        if (options.recordEvent !== false && (outcome.created || outcome.updated))
          await events.append(
            {
              type: 'spec.synced',
              projectId,
              ticketId,
              data: { created: outcome.created, updated: outcome.updated, unchanged: outcome.unchanged },
            },
            tx,
          );
        return outcome;
      });
    },

    /** The project's documents, with their resolved links. */
    async listForProject(projectId: string, filter: { kind?: string } = {}): Promise<SpecDocumentRow[]> {
      if (!isUuid(projectId)) return [];
      const params: unknown[] = [projectId];
      let where = 'd.project_id = $1';
      if (filter.kind) {
        params.push(filter.kind);
        where += ` AND d.kind = $2`;
      }
      const rows = await db.query<Record<string, unknown>>(
        `SELECT ${COLUMNS} FROM spec_documents d WHERE ${where} ORDER BY d.kind, d.spec_id`,
        params,
      );
      return withLinks(db, rows);
    },

    /** The documents a ticket's run synced, with their resolved links. */
    async listForTicket(ticketId: string): Promise<SpecDocumentRow[]> {
      if (!isUuid(ticketId)) return [];
      const rows = await db.query<Record<string, unknown>>(
        `SELECT ${COLUMNS} FROM spec_documents d WHERE d.ticket_id = $1 ORDER BY d.kind, d.spec_id`,
        [ticketId],
      );
      return withLinks(db, rows);
    },
  };
}

export type SpecsService = ReturnType<typeof createSpecsService>;
