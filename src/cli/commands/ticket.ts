// `omoi ticket create "<prompt>" --project P [--mode quick|spec_driven]`: through the running
// server's API. --project takes a project id or name (default OMOIOS_PROJECT_ID).
import type { Command } from 'commander';
import { printJson, usageError } from '../output.js';

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
  const ticket = program.command('ticket').description('Create tickets');

  ticket
    .command('create')
    .description('Create a ticket; its first task starts as soon as an orchestrator claims it')
    .argument('<prompt>', 'what to build')
    .option('--project <id-or-name>', 'the project (default OMOIOS_PROJECT_ID)')
    .option('--mode <mode>', 'workflow mode: quick or spec_driven', 'spec_driven')
    .option('--title <title>', 'title (default: derived from the prompt)')
    .option('--priority <priority>', 'CRITICAL, HIGH, MEDIUM or LOW')
    .option('--json', 'print {ticket, task} as JSON')
    .option('--wait', 'show progress until the task completes (exit 0) or fails (exit 1)')
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
          // with --json, progress goes to stderr so stdout stays one JSON document
          write: (line) => (flags.json ? process.stderr : process.stdout).write(`${line}\n`),
        });
        if (!ok) process.exitCode = 1;
      }
    });
}
