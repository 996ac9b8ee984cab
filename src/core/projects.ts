// Projects: a repository Omoi works on, with its settings.

import { AppError } from '../base/errors.js';
import type { Project as ApiProject, ProjectSettings } from '../contracts/api.js';
import type { Db, Queryable } from '../db/client.js';
import type { EventsService } from './events.js';
import { pgCode, plain } from './rows.js';

/** The project as the API defines it (src/contracts/api.ts). */
export type Project = ApiProject;

export interface CreateProject {
  name: string;
  repo_url: string;
  default_branch?: string;
  settings?: ProjectSettings;
}

const COLUMNS = 'id, name, repo_url, default_branch, settings, created_at, updated_at';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a syntactically valid uuid (anything else cannot name a row). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function createProjectsService(db: Db, events: EventsService) {
  async function find(id: string, q: Queryable = db): Promise<Project | null> {
    if (!isUuid(id)) return null;
    const rows = await q.query<Record<string, unknown>>(`SELECT ${COLUMNS} FROM projects WHERE id = $1`, [
      id,
    ]);
    return rows[0] ? plain<Project>(rows[0]) : null;
  }

  return {
    /** `inTx` runs in the creating transaction (the project's credential is stored with it). */
    async create(
      input: CreateProject,
      inTx?: (project: Project, tx: Queryable) => Promise<unknown>,
    ): Promise<Project> {
      try {
        return await db.transaction(async (tx) => {
          const rows = await tx.query<Record<string, unknown>>(
            `INSERT INTO projects (name, repo_url, default_branch, settings)
             VALUES ($1, $2, $3, $4::jsonb) RETURNING ${COLUMNS}`,
            [input.name, input.repo_url, input.default_branch ?? 'main', input.settings ?? {}],
          );
          const project = plain<Project>(rows[0]!);
          if (inTx) await inTx(project, tx);
          await events.append(
            {
              type: 'project.created',
              projectId: project.id,
              data: { name: project.name, repo_url: project.repo_url },
            },
            tx,
          );
          return project;
        });
      } catch (error) {
        if (pgCode(error) === '23505')
          throw new AppError('CONFLICT', `a project named "${input.name}" already exists`);
        throw error;
      }
    },

    async list(): Promise<Project[]> {
      const rows = await db.query<Record<string, unknown>>(
        `SELECT ${COLUMNS} FROM projects ORDER BY created_at, id`,
      );
      return rows.map((r) => plain<Project>(r));
    },

    find,

    /** The project, or NOT_FOUND. */
    async get(id: string, q: Queryable = db): Promise<Project> {
      const project = await find(id, q);
      if (!project) throw new AppError('NOT_FOUND', `no project with id ${id}`);
      return project;
    },

    /** A project by id or by name (the CLI accepts either). */
    async resolve(idOrName: string): Promise<Project> {
      const byId = await find(idOrName);
      if (byId) return byId;
      const rows = await db.query<Record<string, unknown>>(
        `SELECT ${COLUMNS} FROM projects WHERE name = $1`,
        [idOrName],
      );
      if (!rows[0]) throw new AppError('NOT_FOUND', `no project with id or name "${idOrName}"`);
      return plain<Project>(rows[0]);
    },
  };
}

export type ProjectsService = ReturnType<typeof createProjectsService>;
