// `omoi questions` (or `omoi inbox`): the questions agents asked across projects, open ones by
// default, each with the command that answers it (GET /api/v1/questions).
import type { Command } from 'commander';
import type { Question } from '../../contracts/questions.js';
import { printJson, usageError } from '../output.js';

const USAGE = 'omoi questions [--status open|answered|cancelled] [--project P] [--json]';
const STATUSES = ['open', 'answered', 'cancelled'];

export function register(program: Command): void {
  program
    .command('questions')
    .alias('inbox')
    .description(
      "The agents' questions waiting for an answer, across projects, with the command that answers each",
    )
    .option('--status <status>', 'open (default), answered or cancelled', 'open')
    .option('--project <id-or-name>', 'only this project')
    .option('--json', 'print the questions as JSON')
    .action(async (flags: { status: string; project?: string; json?: boolean }) => {
      if (!STATUSES.includes(flags.status))
        return usageError(`--status must be one of ${STATUSES.join(', ')} (got ${flags.status})`, USAGE);
      const { connect, projectIdOf } = await import('./ticket-view.js');
      const { answerCommand, questionLines } = await import('../../mcp/questions.js');
      const { api } = await connect();
      const query = new URLSearchParams({ status: flags.status });
      if (flags.project) {
        const { projects } = await api.get<{ projects: { id: string; name: string }[] }>('/projects');
        const id = projectIdOf(projects, flags.project);
        if (!id)
          return usageError(`no project with id or name "${flags.project}" (see omoi project list)`, USAGE);
        query.set('project_id', id);
      }
      const { questions } = await api.get<{ questions: Question[] }>(`/questions?${query}`);
      if (flags.json) return printJson(questions);
      if (questions.length === 0) {
        process.stdout.write(
          flags.status === 'open' ? 'no question waits for an answer\n' : `no ${flags.status} questions\n`,
        );
        return;
      }
      // several open questions on one ticket: each command names its task
      const perTicket = new Map<string, number>();
      for (const q of questions)
        perTicket.set(q.ticket_id ?? '', (perTicket.get(q.ticket_id ?? '') ?? 0) + 1);
      const lines: string[] = [];
      for (const q of questions) {
        const ref = q.ticket_ref ?? q.ticket_id ?? '';
        lines.push(
          `${ref}  ${q.task_title}${q.kind === 'budget' ? '  [budget]' : ''}  (asked ${q.asked_at})`,
        );
        lines.push(...questionLines(q, '  '));
        if (q.status === 'open' && ref)
          lines.push(`  answer: ${answerCommand(ref, q, (perTicket.get(q.ticket_id ?? '') ?? 0) > 1)}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
