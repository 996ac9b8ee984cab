// `omoi ticket create|list|show|approve|answer|cancel|retry`: through the running server's API. --project
// takes a project id or name (default OMOIOS_PROJECT_ID); every command that names a ticket takes its
// ref (TKT-001) or its id, and --project picks the project when a ref repeats across projects.
import type { Command } from 'commander';
import { printJson, usageError } from '../output.js';
import type { ApiTicketDetail } from './ticket-view.js';

// loaded inside the actions: `omoi spec validate` and `omoi --help` load none of it
const view = () => import('./ticket-view.js');

const USAGE =
  'omoi ticket create "<prompt>" --project P [--mode quick|spec_driven] [--title T] [--priority P] [--json] [--wait]';
const MODES = ['quick', 'spec_driven'];
const PRIORITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];

interface CreateFlags {
  project?: string;
  mode: string;
  title?: string;
  priority?: string;
  json?: boolean;
  wait?: boolean;
}

export function register(program: Command): void {
  const ticket = program
    .command('ticket')
    .description('Create, list, show, approve, answer, cancel and retry tickets');

  ticket
    .command('create')
    .description('Create a ticket; its first task starts as soon as an orchestrator claims it')
    .argument('<prompt>', 'what to build')
    .option('--project <id-or-name>', 'the project (default OMOIOS_PROJECT_ID)')
    .option('--mode <mode>', 'workflow mode: quick or spec_driven', 'spec_driven')
    .option('--title <title>', 'title (default: derived from the prompt)')
    .option('--priority <priority>', 'CRITICAL, HIGH, MEDIUM or LOW')
    .option('--json', 'print {ticket, task} as JSON')
    .option(
      '--wait',
      'show progress until the task completes (exit 0) or fails (exit 1); a spec-driven ticket the project ' +
        'approves by itself (auto_approve) is followed on to its pull request',
    )
    .action(async (prompt: string, flags: CreateFlags) => {
      if (!MODES.includes(flags.mode))
        return usageError(`--mode must be one of ${MODES.join(', ')} (got ${flags.mode})`, USAGE);
      const priority = flags.priority?.toUpperCase();
      if (priority !== undefined && !PRIORITIES.includes(priority))
        return usageError(`--priority must be one of ${PRIORITIES.join(', ')}`, USAGE);
      if (!prompt.trim()) return usageError('the prompt is empty', USAGE);

      const { createApiClient, parseApiClientEnv } = await import('../../api/client.js');
      const env = parseApiClientEnv(process.env);
      const projectRef = flags.project ?? env.OMOIOS_PROJECT_ID;
      if (!projectRef) return usageError('--project is required (or set OMOIOS_PROJECT_ID)', USAGE);
      const api = createApiClient({ baseUrl: env.OMOIOS_API_URL, key: env.OMOIOS_API_KEY });
      const { projects } = await api.get<{ projects: { id: string; name: string }[] }>('/projects');
      const project =
        projects.find((p) => p.id === projectRef) ?? projects.find((p) => p.name === projectRef);
      if (!project)
        return usageError(`no project with id or name "${projectRef}" (see omoi project list)`, USAGE);

      const created = await api.post<{
        ticket: { id: string; ref: string; title: string };
        task: { id: string; execution_config: unknown; status: string };
      }>('/tickets', {
        project_id: project.id,
        description: prompt,
        workflow_mode: flags.mode,
        ...(flags.title ? { title: flags.title } : {}),
        ...(priority ? { priority } : {}),
      });
      if (flags.json) printJson(created);
      else
        process.stdout.write(
          `${created.ticket.ref} ${created.ticket.title} (${created.ticket.id})\n` +
            `  task ${created.task.id} ${created.task.status}, mode ${flags.mode}, ` +
            `execution_config ${JSON.stringify(created.task.execution_config)}\n`,
        );
      if (flags.wait) {
        const { followTicket } = await import('../wait-progress.js');
        const ok = await followTicket({
          baseUrl: env.OMOIOS_API_URL,
          key: env.OMOIOS_API_KEY,
          ticketId: created.ticket.id,
          taskId: created.task.id,
          through: flags.mode === 'spec_driven',
          // with --json, progress goes to stderr so stdout stays one JSON document
          write: (line) => (flags.json ? process.stderr : process.stdout).write(`${line}\n`),
        });
        if (!ok) process.exitCode = 1;
      }
      // where to look and what to type next (stderr with --json, so stdout stays one document)
      const { nextStep, ticketUrl } = await view();
      const detail = await api.get<ApiTicketDetail>(`/tickets/${created.ticket.id}`);
      (flags.json ? process.stderr : process.stdout).write(
        `${detail.pull_request ? `  pr   ${detail.pull_request.url}\n` : ''}` +
          `  url  ${ticketUrl(api.baseUrl, created.ticket.id)}\n  next ${nextStep(detail).command ?? nextStep(detail).text}\n`,
      );
    });

  registerReading(ticket);
  registerActions(ticket);
}

const LIST_USAGE = 'omoi ticket list [--project P] [--status S] [--json]';

function registerReading(ticket: Command): void {
  ticket
    .command('list')
    .description('List tickets, newest first')
    .option('--project <id-or-name>', 'only this project')
    .option('--status <status>', 'only this status, e.g. awaiting_approval')
    .option('--json', 'print the tickets as JSON')
    .action(async (flags: { project?: string; status?: string; json?: boolean }) => {
      const { TICKET_STATUSES } = await import('../../contracts/enums.js');
      const { connect, projectIdOf } = await view();
      if (flags.status !== undefined && !(TICKET_STATUSES as readonly string[]).includes(flags.status))
        return usageError(
          `--status must be one of ${TICKET_STATUSES.join(', ')} (got ${flags.status})`,
          LIST_USAGE,
        );
      const { api } = await connect();
      const { projects } = await api.get<{ projects: { id: string; name: string }[] }>('/projects');
      const query = new URLSearchParams();
      if (flags.project) {
        const id = projectIdOf(projects, flags.project);
        if (!id)
          return usageError(
            `no project with id or name "${flags.project}" (see omoi project list)`,
            LIST_USAGE,
          );
        query.set('project_id', id);
      }
      if (flags.status) query.set('status', flags.status);
      const { tickets } = await api.get<{
        tickets: {
          id: string;
          ref: string;
          title: string;
          status: string;
          workflow_mode: string;
          project_id: string;
        }[];
      }>(`/tickets${query.size ? `?${query}` : ''}`);
      if (flags.json) return printJson(tickets);
      const names = new Map(projects.map((p) => [p.id, p.name]));
      for (const t of tickets)
        process.stdout.write(
          `${t.ref}\t${t.status.replace(/_/g, ' ')}\t${t.workflow_mode}\t${names.get(t.project_id) ?? t.project_id}\t${t.title}\n`,
        );
      if (tickets.length === 0)
        process.stdout.write(
          flags.project || flags.status
            ? 'no tickets match\n'
            : 'no tickets yet: omoi ticket create "<what to build>" --project <name>\n',
        );
    });

  ticket
    .command('show')
    .description('Show a ticket: status, tasks, spec, branch, runtime and what to do next')
    .argument('<ref-or-id>', 'TKT-001 or the ticket id')
    .option('--project <id-or-name>', 'the project, when the ref repeats across projects')
    .option('--json', 'print JSON')
    .action(async (key: string, flags: { project?: string; json?: boolean }) => {
      const { approvalPlan, connect, nextStep, readTicket, renderTicket, ticketUrl } = await view();
      const { api } = await connect();
      const { detail, runtime } = await readTicket(
        api,
        key,
        flags.project,
        'omoi ticket show <ref-or-id> [--project P] [--json]',
      );
      if (!detail) return;
      const { events: _events, ...rest } = detail;
      if (flags.json)
        return printJson({
          ...rest,
          runtime,
          url: ticketUrl(api.baseUrl, detail.id),
          spec_tasks: approvalPlan(detail),
          next: nextStep(detail),
          spend: await (await import('./ticket-budget.js')).ticketSpend(api, detail.id),
        });
      process.stdout.write(renderTicket(detail, runtime, api.baseUrl));
      const spend = await (await import('./ticket-budget.js')).spendLine(api, detail.id);
      if (spend) process.stdout.write(`${spend}\n`);
    });
}

const APPROVE_USAGE = 'omoi ticket approve <ref-or-id> [--project P] [--yes] [--json]';

function registerActions(ticket: Command): void {
  ticket
    .command('approve')
    .description(
      "Approve a ticket's spec: its tasks become runs, in dependency order (asks first unless --yes)",
    )
    .argument('<ref-or-id>', 'TKT-001 or the ticket id')
    .option('--project <id-or-name>', 'the project, when the ref repeats across projects')
    .option('--yes', 'approve without asking (needed without a terminal)')
    .option('--json', 'print the approval result as JSON')
    .action(async (key: string, flags: { project?: string; yes?: boolean; json?: boolean }) => {
      const { approvalPlan, connect, readTicket, ticketUrl } = await view();
      const { api } = await connect();
      const { detail, runtime } = await readTicket(api, key, flags.project, APPROVE_USAGE);
      if (!detail) return;
      const plan = approvalPlan(detail);
      const out = flags.json ? process.stderr : process.stdout;
      const overBudget = detail.approved_at
        ? null
        : await (await import('./ticket-budget.js')).overBudgetLine(api, detail.id);
      if (overBudget) out.write(`${overBudget}\n`);
      // nothing synced to approve: the server says why (409), no question first
      if (!detail.approved_at && plan.length > 0) {
        out.write(
          `Approving ${detail.ref} starts ${plan.length === 1 ? '1 task' : `${plan.length} tasks`} on the ${runtime ?? "server's"} runtime, in this order:\n` +
            plan.map((t, i) => `  ${i + 1}. ${t.spec_id}${t.title ? ` ${t.title}` : ''}\n`).join('') +
            `  then the integration run merges them into omoi/${detail.ref}-feature\n`,
        );
        if (!flags.yes) {
          if (!process.stdin.isTTY)
            return usageError('approving starts work: confirm on a terminal, or pass --yes', APPROVE_USAGE);
          const { createInterface } = await import('node:readline/promises');
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          const answer = await rl.question(`Approve ${detail.ref} and start ${plan.length} task(s)? [y/N] `);
          rl.close();
          if (!/^y(es)?$/i.test(answer.trim())) {
            out.write('not approved\n');
            process.exitCode = 1;
            return;
          }
        }
      }
      const result = await api.post<{
        ticket: { ref: string; status: string };
        tasks: { task_type: string }[];
        created: number;
      }>(`/tickets/${detail.id}/approve`, overBudget ? { confirm_over_budget: true } : undefined);
      if (flags.json) return printJson(result);
      const work = result.tasks.filter((t) => t.task_type !== 'integration').length;
      const integration = work < result.tasks.length ? ' and the integration run' : '';
      process.stdout.write(
        result.created === 0
          ? `${detail.ref} was already approved (${result.tasks.length} tasks)\n`
          : `approved ${detail.ref}: ${work} task(s)${integration} queued, status ${result.ticket.status.replace(/_/g, ' ')}\n`,
      );
      process.stdout.write(
        `  url  ${ticketUrl(api.baseUrl, detail.id)}\n  next omoi ticket show ${detail.ref}\n`,
      );
    });

  registerAnswer(ticket);

  for (const action of ['cancel', 'retry'] as const) {
    const usage = `omoi ticket ${action} <ref-or-id> [--project P] [--json]`;
    ticket
      .command(action)
      .description(
        action === 'cancel'
          ? "Cancel the ticket's queued or running task"
          : "Queue the ticket's failed or cancelled task again",
      )
      .argument('<ref-or-id>', 'TKT-001 or the ticket id')
      .option('--project <id-or-name>', 'the project, when the ref repeats across projects')
      .option('--json', 'print the task as JSON')
      .action(async (key: string, flags: { project?: string; json?: boolean }) => {
        const { connect, readTicket } = await view();
        const { api } = await connect();
        const { detail } = await readTicket(api, key, flags.project, usage);
        if (!detail) return;
        const wanted =
          action === 'cancel' ? ['pending', 'claimed', 'running', 'awaiting_input'] : ['failed', 'cancelled'];
        const task = [...detail.tasks].reverse().find((t) => wanted.includes(t.status));
        if (!task) {
          process.stderr.write(
            `omoi: ${detail.ref} has no ${action === 'cancel' ? 'queued or running' : 'failed or cancelled'} task ` +
              `(${detail.tasks.map((t) => `${t.spec_task_id ?? t.task_type} ${t.status}`).join(', ') || 'no tasks'})\n`,
          );
          process.exitCode = 1;
          return;
        }
        const done = await api.post<{ id: string; status: string; title: string }>(
          `/tasks/${task.id}/${action}`,
        );
        if (flags.json) return printJson(done);
        process.stdout.write(
          `${action === 'cancel' ? 'cancelled' : 'queued again'}: ${task.spec_task_id ?? task.task_type} ${done.title} (${done.status})\n` +
            `  next omoi ticket show ${detail.ref}\n`,
        );
      });
  }
}

const ANSWER_USAGE = 'omoi ticket answer <ref-or-id> "<answer>" [--task ID] [--project P] [--json]';

/** `omoi ticket answer`: answers the ticket's open question; the task resumes with the answer. */
function registerAnswer(ticket: Command): void {
  ticket
    .command('answer')
    .description('Answer the question an agent of the ticket asked; its task resumes with the answer')
    .argument('<ref-or-id>', 'TKT-001 or the ticket id')
    .argument('<answer>', 'the answer, in your words (or one of the options the agent offered)')
    .option('--task <id>', 'the task whose question this answers, when several tasks ask (id or TSK-…)')
    .option('--project <id-or-name>', 'the project, when the ref repeats across projects')
    .option('--json', 'print {question, task} as JSON')
    .action(
      async (key: string, answer: string, flags: { task?: string; project?: string; json?: boolean }) => {
        if (!answer.trim()) return usageError('the answer is empty', ANSWER_USAGE);
        const { connect, readTicket } = await view();
        const { answerCommand, chooseQuestion, questionLines, taskLabel, ticketQuestions } = await import(
          '../../mcp/questions.js'
        );
        const { api } = await connect();
        const { detail } = await readTicket(api, key, flags.project, ANSWER_USAGE);
        if (!detail) return;
        const questions = await ticketQuestions(api, detail);
        const choice = chooseQuestion(questions, detail.tasks, flags.task);
        if (!choice.ok) {
          if (choice.reason === 'none') {
            process.stderr.write(
              `omoi: ${detail.ref} has no open question (tasks: ${
                detail.tasks
                  .map((t) => `${t.spec_task_id ?? t.task_type} ${t.status.replace(/_/g, ' ')}`)
                  .join(', ') || 'none'
              })\n`,
            );
            process.exitCode = 1;
            return;
          }
          const listed = choice.open.flatMap((q) => [
            `  ${taskLabel(q, detail.tasks)}  ${answerCommand(detail.ref, q, true)}`,
            ...questionLines(q, '    '),
          ]);
          return usageError(
            `${
              choice.reason === 'several'
                ? `${choice.open.length} tasks of ${detail.ref} ask: name one with --task`
                : `no open question of ${detail.ref} for --task ${flags.task}`
            }\n${listed.join('\n')}`,
            ANSWER_USAGE,
          );
        }
        const result = await api.post<{
          question: { id: string; answer: string | null; answered_by: string | null };
          task: { id: string; status: string; title: string };
        }>(`/tasks/${encodeURIComponent(choice.question.task_id)}/answer`, { answer });
        if (flags.json) return printJson(result);
        process.stdout.write(
          `answered ${detail.ref} ${taskLabel(choice.question, detail.tasks)}: ${result.task.title} is ${result.task.status.replace(/_/g, ' ')} again and resumes with your answer\n` +
            `  next omoi ticket show ${detail.ref}\n`,
        );
      },
    );
}
