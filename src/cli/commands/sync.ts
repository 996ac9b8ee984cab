// `omoi spec sync push|diff [DIR]`: sends the .omoi_os/ tree under DIR to the API, which validates
// it with the same validator and stores it (push) or only says what a push would do (diff, the
// server's dry_run). Reads OMOIOS_API_URL, OMOIOS_PROJECT_ID, OMOIOS_API_KEY. Prints created,
// updated and unchanged; on refusal prints the report and exits 1.
import type { Command } from 'commander';
import { formatIssue } from '../../spec-format/issues.js';
import type { ValidationIssue as Issue } from '../../spec-format/types.js';
import { EXIT_FAILURE, printJson, usageError } from '../output.js';

const USAGE = 'omoi spec sync push [DIR] [--project ID] [--json]';
const DIFF_USAGE = 'omoi spec sync diff [DIR] [--project ID] [--json]';

interface SyncAnswer {
  created: number;
  updated: number;
  unchanged: number;
  issues: Issue[];
  documents?: { spec_id: string; kind: string; path: string; action: 'created' | 'updated' | 'unchanged' }[];
}

export function register(program: Command): void {
  // `spec` belongs to src/cli/commands/spec.ts; `sync` hangs under it (or makes it, if absent).
  const spec =
    program.commands.find((c) => c.name() === 'spec') ??
    program.command('spec').description('The .omoi_os spec format');
  const sync = spec.command('sync').description('Sync spec documents with the Omoi API');

  for (const mode of ['push', 'diff'] as const) {
    const usage = mode === 'push' ? USAGE : DIFF_USAGE;
    sync
      .command(mode)
      .description(
        mode === 'push'
          ? 'Validate and store the .omoi_os/ tree under DIR on the server'
          : 'What a push would create, update and leave unchanged (the server validates; nothing is stored)',
      )
      .argument('[dir]', 'the folder holding .omoi_os/', '.')
      .option('--project <id>', 'project id (default OMOIOS_PROJECT_ID)')
      .option('--json', 'print the server response as JSON')
      .showHelpAfterError(`usage: ${usage}`)
      .action(async (dir: string, flags: { project?: string; json?: boolean }) => {
        const { existsSync, statSync } = await import('node:fs');
        if (!existsSync(dir) || !statSync(dir).isDirectory())
          return usageError(`no such folder: ${dir}`, usage);
        const { createApiClient, parseApiClientEnv, ApiRequestError } = await import('../../api/client.js');
        const env = parseApiClientEnv(process.env);
        const projectId = flags.project ?? env.OMOIOS_PROJECT_ID;
        if (!projectId) return usageError('set OMOIOS_PROJECT_ID (or pass --project)', usage);
        const { loadSpecFiles } = await import('../../spec-format/index.js');
        const files = await loadSpecFiles(dir);
        const documents = files.map((f) => ({
          path: f.path,
          content: typeof f.content === 'string' ? f.content : Buffer.from(f.content).toString('utf8'),
        }));
        const api = createApiClient({ baseUrl: env.OMOIOS_API_URL, key: env.OMOIOS_API_KEY });
        try {
          const result = await api.post<SyncAnswer>(
            `/projects/${encodeURIComponent(projectId)}/specs/sync`,
            mode === 'diff' ? { documents, dry_run: true } : { documents },
          );
          if (flags.json) return printJson(result);
          for (const issue of result.issues ?? []) process.stdout.write(`${formatIssue(issue)}\n`);
          if (mode === 'diff') {
            const verbs = { created: 'create', updated: 'update', unchanged: 'unchanged' } as const;
            for (const doc of result.documents ?? [])
              process.stdout.write(`${verbs[doc.action].padEnd(9)} ${doc.spec_id.padEnd(14)} ${doc.path}\n`);
            process.stdout.write(
              `a push would create ${result.created}, update ${result.updated}, leave ${result.unchanged} unchanged\n`,
            );
          } else
            process.stdout.write(
              `created ${result.created}, updated ${result.updated}, unchanged ${result.unchanged}\n`,
            );
        } catch (error) {
          if (!(error instanceof ApiRequestError)) throw error;
          if (flags.json)
            printJson({ error: { code: error.code, message: error.message, issues: error.issues } });
          else {
            for (const issue of (Array.isArray(error.issues) ? error.issues : []) as Issue[])
              process.stdout.write(`${formatIssue(issue)}\n`);
            process.stderr.write(`omoi: the server refused the spec set: ${error.code}: ${error.message}\n`);
          }
          process.exitCode = EXIT_FAILURE;
        }
      });
  }
}
