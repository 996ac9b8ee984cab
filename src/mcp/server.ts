// `omoi mcp`: Omoi as an MCP server over stdio, for agents and editors. A small tool set (a large
// one costs every agent context): list and show tickets (with the questions their agents ask),
// validate a spec folder (locally, the one validator), create a ticket, answer an agent's question,
// approve one (the API refuses a key whose role may not: 403, passed on as a tool error), and a
// ticket's trace; the spec documents of tickets as resources. It calls a
// running server over the HTTP API with the CLI's client, so a key's role holds here as everywhere.
import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { stringify } from 'yaml';
import { z } from 'zod';
import { type ApiClient, ApiRequestError } from '../api/client.js';
import { VERSION } from '../base/version.js';
import type { SpecDocument, Ticket, TicketDetail } from '../contracts/api.js';
import { PRIORITIES, TICKET_STATUSES, WORKFLOW_MODES } from '../contracts/enums.js';
import { QUESTION_LIMITS } from '../contracts/questions.js';
import { validateSpecDir } from '../spec-format/validate.js';
import { chooseQuestion, taskLabel, ticketQuestions } from './questions.js';

type ToolResult = { content: { type: 'text'; text: string }[]; isError?: boolean };

const text = (value: unknown): ToolResult => ({
  content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value, null, 2) }],
});

/** An API refusal or an unreachable server as a tool error the agent can read and act on. */
export function toolError(error: unknown, what: string): ToolResult {
  let message: string;
  if (error instanceof ApiRequestError) {
    const hint =
      error.httpStatus === 403
        ? ' (the API key in OMOIOS_API_KEY has a role that may not do this; an admin key can)'
        : error.httpStatus === 404
          ? ' (not found: check the id or ref, or this server does not have that route yet)'
          : '';
    message = `${what} failed: ${error.httpStatus} ${error.code}: ${error.message}${hint}`;
  } else message = `${what} failed: ${(error as Error).message ?? String(error)}`;
  return { content: [{ type: 'text', text: message }], isError: true };
}

async function attempt(what: string, run: () => Promise<ToolResult>): Promise<ToolResult> {
  try {
    return await run();
  } catch (error) {
    return toolError(error, what);
  }
}

/** The path of a ticket route, with ?project_id= when given (refs repeat across projects). */
function ticketPath(ticket: string, projectId?: string, suffix = ''): string {
  const query = projectId ? `?project_id=${encodeURIComponent(projectId)}` : '';
  return `/tickets/${encodeURIComponent(ticket)}${suffix}${query}`;
}

/** A spec document as the Markdown file it came from. */
export function specMarkdown(doc: Pick<SpecDocument, 'frontmatter' | 'body'>): string {
  return `---\n${stringify(doc.frontmatter).trimEnd()}\n---\n${doc.body}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface McpOptions {
  api: ApiClient;
  /** OMOIOS_PROJECT_ID: the project create_ticket uses when none is named. */
  defaultProject?: string | undefined;
  /** Where relative spec folders are read from (the client's working folder). */
  cwd?: string;
}

/**
 * Builds the server (not connected).
 *
 * @example
 * const server = createOmoiMcpServer({ api: createApiClient({ baseUrl }) });
 * await server.connect(new StdioServerTransport());
 */
export function createOmoiMcpServer(options: McpOptions): McpServer {
  const { api } = options;
  const server = new McpServer({ name: 'omoi', version: VERSION });

  async function projectId(idOrName: string): Promise<string> {
    if (UUID.test(idOrName)) return idOrName;
    const { projects } = await api.get<{ projects: { id: string; name: string }[] }>('/projects');
    const found = projects.find((p) => p.name === idOrName);
    if (!found)
      throw new Error(
        `no project named "${idOrName}" (projects: ${projects.map((p) => p.name).join(', ') || 'none'})`,
      );
    return found.id;
  }

  server.registerTool(
    'list_tickets',
    {
      description: 'Tickets, newest first: ref, title, status, mode, id.',
      inputSchema: {
        project: z.string().optional().describe('project id or name'),
        status: z.enum(TICKET_STATUSES).optional(),
        limit: z.number().int().min(1).max(200).optional(),
      },
    },
    (args) =>
      attempt('list_tickets', async () => {
        const query = new URLSearchParams();
        if (args.project) query.set('project_id', await projectId(args.project));
        if (args.status) query.set('status', args.status);
        query.set('limit', String(args.limit ?? 50));
        const { tickets } = await api.get<{ tickets: Ticket[] }>(`/tickets?${query}`);
        return text(
          tickets.map((t) => ({
            ref: t.ref,
            title: t.title,
            status: t.status,
            workflow_mode: t.workflow_mode,
            id: t.id,
            project_id: t.project_id,
          })),
        );
      }),
  );

  server.registerTool(
    'show_ticket',
    {
      description:
        "A ticket's status, tasks, the questions its agents ask (open ones wait for answer_question) and spec documents (ids and titles; read one as a resource omoi://tickets/{id}/specs/{spec_id}).",
      inputSchema: {
        ticket: z.string().min(1).describe('ticket id or ref (TKT-001)'),
        project_id: z.string().optional().describe('needed when the ref repeats across projects'),
      },
    },
    (args) =>
      attempt('show_ticket', async () => {
        const detail = await api.get<TicketDetail>(ticketPath(args.ticket, args.project_id));
        const open = (detail.questions ?? []).filter((q) => q.status === 'open');
        return text({
          id: detail.id,
          ref: detail.ref,
          title: detail.title,
          status: detail.status,
          workflow_mode: detail.workflow_mode,
          approved_at: detail.approved_at,
          pull_request: detail.pull_request ?? null,
          tasks: detail.tasks.map((t) => ({
            id: t.id,
            title: t.title,
            status: t.status,
            spec_task_id: t.spec_task_id,
            error: t.error,
          })),
          // what its agents wait for: answer with answer_question (task_id when several ask)
          open_questions: open.map((q) => ({
            task_id: q.task_id,
            task: taskLabel(q, detail.tasks),
            kind: q.kind,
            question: q.question,
            why: q.why,
            options: q.options,
            asked_at: q.asked_at,
          })),
          spec_documents: detail.spec_documents.map((d) => ({
            spec_id: d.spec_id,
            kind: d.kind,
            title: d.title,
            status: d.status,
            path: d.path,
            uri: `omoi://tickets/${detail.id}/specs/${d.spec_id}`,
          })),
        });
      }),
  );

  server.registerTool(
    'validate_spec',
    {
      description:
        'Validate a local .omoi_os spec folder with the one validator Omoi uses (no server needed): valid, summary, issues with line numbers and fixes.',
      inputSchema: {
        dir: z.string().min(1).describe('the folder holding .omoi_os/ (or .omoi_os itself)'),
        strict: z.boolean().optional().describe('warnings count as errors'),
      },
    },
    (args) =>
      attempt('validate_spec', async () => {
        let root = resolve(options.cwd ?? process.cwd(), args.dir);
        const info = await stat(root).catch(() => null);
        if (!info?.isDirectory())
          throw new Error(`cannot read ${args.dir}: ${info ? 'not a folder' : 'no such folder'}`);
        if (basename(root) === '.omoi_os' && !(await stat(join(root, '.omoi_os')).catch(() => null)))
          root = dirname(root);
        const report = await validateSpecDir(root, { strict: args.strict ?? false });
        return text({ valid: report.valid, summary: report.summary, issues: report.issues });
      }),
  );

  server.registerTool(
    'create_ticket',
    {
      description:
        'Create a ticket. quick: an agent implements it straight away; spec_driven: an agent writes a spec first, which waits for approval.',
      inputSchema: {
        description: z.string().min(1).max(20_000),
        mode: z.enum(WORKFLOW_MODES),
        project: z.string().optional().describe('project id or name (default OMOIOS_PROJECT_ID)'),
        title: z.string().max(200).optional(),
        priority: z.enum(PRIORITIES).optional(),
      },
    },
    (args) =>
      attempt('create_ticket', async () => {
        const project = args.project ?? options.defaultProject;
        if (!project) throw new Error('name a project (or set OMOIOS_PROJECT_ID for the MCP server)');
        const created = await api.post<{ ticket: Ticket; task: { id: string; status: string } }>('/tickets', {
          project_id: await projectId(project),
          description: args.description,
          workflow_mode: args.mode,
          ...(args.title ? { title: args.title } : {}),
          ...(args.priority ? { priority: args.priority } : {}),
        });
        return text({
          ref: created.ticket.ref,
          id: created.ticket.id,
          status: created.ticket.status,
          task: created.task,
        });
      }),
  );

  server.registerTool(
    'answer_question',
    {
      description:
        "Answer the question an agent of a ticket asked (show_ticket lists them): its task resumes with the answer. Name task_id when several of the ticket's tasks ask.",
      inputSchema: {
        ticket: z.string().min(1).describe('ticket id or ref (TKT-001)'),
        answer: z
          .string()
          .trim()
          .min(1)
          .max(QUESTION_LIMITS.answer)
          .describe('the answer, or one of the options offered'),
        task_id: z
          .string()
          .optional()
          .describe("the asking task's id or spec task id (TSK-…), when several ask"),
        project_id: z.string().optional().describe('needed when the ref repeats across projects'),
      },
      annotations: { destructiveHint: false, idempotentHint: false },
    },
    (args) =>
      attempt('answer_question', async () => {
        const detail = await api.get<TicketDetail>(ticketPath(args.ticket, args.project_id));
        const choice = chooseQuestion(await ticketQuestions(api, detail), detail.tasks, args.task_id);
        if (!choice.ok) {
          const open = choice.open.map(
            (q) => `${taskLabel(q, detail.tasks)} (task_id ${q.task_id}): ${q.question}`,
          );
          const why =
            choice.reason === 'none'
              ? `${detail.ref} has no open question`
              : choice.reason === 'several'
                ? `${choice.open.length} tasks of ${detail.ref} ask: name one with task_id`
                : `no open question of ${detail.ref} for task_id ${args.task_id}`;
          return { content: [{ type: 'text', text: [why, ...open].join('\n') }], isError: true };
        }
        const result = await api.post<{
          question: { id: string; question: string; answer: string | null; answered_by: string | null };
          task: { id: string; status: string; title: string };
        }>(`/tasks/${encodeURIComponent(choice.question.task_id)}/answer`, { answer: args.answer });
        return text({
          ticket: detail.ref,
          question: result.question.question,
          answer: result.question.answer,
          answered_by: result.question.answered_by,
          task: { id: result.task.id, title: result.task.title, status: result.task.status },
        });
      }),
  );

  server.registerTool(
    'approve_ticket',
    {
      description:
        "Approve a spec-driven ticket: its spec tasks become tasks that run in dependency order. Needs a key whose role may approve (admin); the API's refusal comes back as the error.",
      inputSchema: {
        ticket: z.string().min(1).describe('ticket id or ref'),
        project_id: z.string().optional(),
      },
      annotations: { destructiveHint: false, idempotentHint: true },
    },
    (args) =>
      attempt('approve_ticket', async () => {
        const result = await api.post<{
          ticket: Ticket;
          tasks: { id: string; title: string; spec_task_id: string | null }[];
          created: number;
        }>(ticketPath(args.ticket, args.project_id, '/approve'));
        return text({
          ref: result.ticket.ref,
          status: result.ticket.status,
          created: result.created,
          tasks: result.tasks.map((t) => ({ id: t.id, spec_task_id: t.spec_task_id, title: t.title })),
        });
      }),
  );

  server.registerTool(
    'ticket_trace',
    {
      description:
        "A ticket's trace: what its runs did, from requirements to commits (GET /tickets/{id}/trace).",
      inputSchema: {
        ticket: z.string().min(1).describe('ticket id or ref'),
        project_id: z.string().optional(),
      },
    },
    (args) =>
      attempt('ticket_trace', async () =>
        text(await api.get<unknown>(ticketPath(args.ticket, args.project_id, '/trace'))),
      ),
  );

  server.registerResource(
    'spec-document',
    new ResourceTemplate('omoi://tickets/{ticket}/specs/{spec_id}', {
      list: async () => {
        const { tickets } = await api.get<{ tickets: Ticket[] }>('/tickets?limit=20');
        const lists = await Promise.all(
          tickets.map((t) =>
            api
              .get<{ documents: SpecDocument[] }>(`/tickets/${t.id}/specs`)
              .then(({ documents }) => documents.map((d) => ({ ticket: t, doc: d })))
              .catch(() => []),
          ),
        );
        return {
          resources: lists.flat().map(({ ticket, doc }) => ({
            uri: `omoi://tickets/${ticket.id}/specs/${doc.spec_id}`,
            name: `${ticket.ref} ${doc.spec_id}`,
            title: doc.title ?? doc.spec_id,
            description: `${doc.kind} of ${ticket.ref}: ${doc.path}`,
            mimeType: 'text/markdown',
          })),
        };
      },
    }),
    {
      description: 'A spec document of a ticket (requirements, design, ticket or task), as Markdown',
      mimeType: 'text/markdown',
    },
    async (uri, variables) => {
      const ticket = String(variables.ticket);
      const specId = String(variables.spec_id);
      const { documents } = await api.get<{ documents: SpecDocument[] }>(
        `/tickets/${encodeURIComponent(ticket)}/specs`,
      );
      const doc = documents.find((d) => d.spec_id === specId);
      if (!doc) throw new Error(`ticket ${ticket} has no spec document ${specId}`);
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: specMarkdown(doc) }] };
    },
  );

  return server;
}
