// `omoi ticket forecast <ref-or-id>`: what approving the ticket should cost and take
// (GET /api/v1/tickets/:id/forecast), per task and in total, with the basis of each size.
import type { Command } from 'commander';
import type { Forecast } from '../../contracts/api.js';
import { printJson, usageError } from '../output.js';
import { forecastBudgetLine } from './ticket-budget.js';

const USAGE = 'omoi ticket forecast <ref-or-id> [--project P] [--json]';

/** The forecast as a person reads it. */
export function renderForecast(f: Forecast): string {
  if (f.tasks.length === 0) return `${f.ref}: nothing to forecast: ${f.note ?? 'no spec tasks'}\n`;
  const lines = [
    `${f.ref}: about $${f.total.cost_usd.toFixed(2)}, ${f.total.tokens.toLocaleString('en-US')} tokens, ` +
      `${Math.round(f.critical_path.minutes)} min on the critical path (${f.critical_path.tasks.join(' -> ')})`,
    '',
  ];
  for (const t of f.tasks)
    lines.push(
      `  ${t.spec_task_id.padEnd(16)} ${t.size.padEnd(3)} $${t.cost_usd.toFixed(2).padStart(6)}  ${String(Math.round(t.minutes)).padStart(4)} min` +
        (t.depends_on.length ? `  <- ${t.depends_on.join(', ')}` : ''),
    );
  lines.push('', 'basis:');
  for (const b of f.basis)
    lines.push(
      `  ${b.size.padEnd(3)} ${b.basis === 'history' ? `mean of ${b.samples} finished task(s) of this project` : 'default (no history yet)'}`,
    );
  const budget = forecastBudgetLine(f.budget);
  if (budget) lines.push('', budget);
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  // `ticket` belongs to src/cli/commands/ticket.ts; `forecast` hangs under it.
  const ticket =
    program.commands.find((c) => c.name() === 'ticket') ?? program.command('ticket').description('Tickets');
  ticket
    .command('forecast')
    .description("Expected cost and time of the ticket's spec tasks, before approving")
    .argument('<ref-or-id>', 'TKT-001 or the ticket id')
    .option('--project <id-or-name>', 'the project, when the ref repeats across projects')
    .option('--json', 'print JSON')
    .showHelpAfterError(`usage: ${USAGE}`)
    .action(async (key: string, flags: { project?: string; json?: boolean }) => {
      const { connect, projectIdOf } = await import('./ticket-view.js');
      const { api } = await connect();
      const query = new URLSearchParams();
      if (flags.project) {
        const { projects } = await api.get<{ projects: { id: string; name: string }[] }>('/projects');
        const id = projectIdOf(projects, flags.project);
        if (!id) return usageError(`no project with id or name "${flags.project}"`, USAGE);
        query.set('project_id', id);
      }
      const forecast = await api.get<Forecast>(
        `/tickets/${encodeURIComponent(key)}/forecast${query.size ? `?${query}` : ''}`,
      );
      if (flags.json) return printJson(forecast);
      process.stdout.write(renderForecast(forecast));
    });
}
