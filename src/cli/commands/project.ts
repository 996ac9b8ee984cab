// `omoi project add <path-or-git-url>` and `omoi project list`: through the running server's API
// (the server owns the database).
import type { Command } from 'commander';
import { printJson, usageError } from '../output.js';

const USAGE = 'omoi project add <path-or-git-url> [--name N] [--branch B] [--json]';

/** A git URL (scheme://… or user@host:path) rather than a local path. */
export function isGitUrl(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^[\w.-]+@[\w.-]+:/.test(value);
}

/** The name a repository gets by default: its last path segment without `.git`. */
export function repoName(location: string): string {
  const last =
    location
      .replace(/[/\\]+$/, '')
      .split(/[/\\:]/)
      .pop() ?? '';
  return last.replace(/\.git$/, '') || 'project';
}

export function register(program: Command): void {
  const project = program.command('project').description('Register and list repositories');

  project
    .command('add')
    .description('Register a repository (a local path or a git URL) with the running server')
    .argument('<path-or-git-url>', 'a local git repository or a git URL')
    .option('--name <name>', 'project name (default: the repository folder name)')
    .option(
      '--branch <branch>',
      "default branch (default: the repository's HEAD branch when it exists, else main or master)",
    )
    .option('--json', 'print the project as JSON')
    .action(async (location: string, flags: { name?: string; branch?: string; json?: boolean }) => {
      const { execFile } = await import('node:child_process');
      const { promisify } = await import('node:util');
      const { existsSync } = await import('node:fs');
      const { resolve } = await import('node:path');
      const git = promisify(execFile);

      let repoUrl = location;
      let branch = flags.branch;
      if (!isGitUrl(location)) {
        const path = resolve(location);
        if (!existsSync(path)) return usageError(`no such folder: ${location}`, USAGE);
        try {
          await git('git', ['-C', path, 'rev-parse', '--git-dir']);
        } catch {
          return usageError(`${location} is not a git repository (run git init there first)`, USAGE);
        }
        repoUrl = path;
      }
      if (!branch) {
        const { detectDefaultBranch } = await import('../default-branch.js');
        branch = (await detectDefaultBranch(repoUrl)) ?? undefined;
      }
      const { createApiClient, parseApiClientEnv } = await import('../../api/client.js');
      const env = parseApiClientEnv(process.env);
      const api = createApiClient({ baseUrl: env.OMOIOS_API_URL, key: env.OMOIOS_API_KEY });
      const created = await api.post<{ id: string; name: string; repo_url: string; default_branch: string }>(
        '/projects',
        {
          name: flags.name ?? repoName(location),
          repo_url: repoUrl,
          ...(branch ? { default_branch: branch } : {}),
        },
      );
      if (flags.json) printJson(created);
      else
        process.stdout.write(
          `project ${created.name} (${created.id})\n  repo ${created.repo_url}, branch ${created.default_branch}\n` +
            `  next: omoi ticket create "<what to build>" --project ${created.name}\n`,
        );
    });

  project
    .command('list')
    .description('List the registered projects')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const { createApiClient, parseApiClientEnv } = await import('../../api/client.js');
      const env = parseApiClientEnv(process.env);
      const api = createApiClient({ baseUrl: env.OMOIOS_API_URL, key: env.OMOIOS_API_KEY });
      const { projects } = await api.get<{ projects: { id: string; name: string; repo_url: string }[] }>(
        '/projects',
      );
      if (flags.json) return printJson(projects);
      for (const p of projects) process.stdout.write(`${p.name}\t${p.id}\t${p.repo_url}\n`);
      if (projects.length === 0)
        process.stdout.write('no projects yet: omoi project add <path-or-git-url>\n');
    });
}
