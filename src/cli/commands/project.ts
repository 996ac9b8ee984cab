// `omoi project add <path-or-git-url>` and `omoi project list`: through the running server's API
// (the server owns the database).
import type { Command } from 'commander';
import { printJson, usageError } from '../output.js';

const USAGE =
  'omoi project add <path-or-git-url> [--name N] [--branch B] [--verify "CMD"] [--token-env VAR [--username U] | --ssh-key FILE [--known-hosts FILE]] [--json]';

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

interface AddFlags {
  name?: string;
  branch?: string;
  tokenEnv?: string;
  username?: string;
  sshKey?: string;
  knownHosts?: string;
  verify?: string;
  json?: boolean;
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
    .option(
      '--token-env <VAR>',
      'send the https token held in environment variable VAR as the project credential',
    )
    .option('--username <name>', 'user name the token is sent with (default x-access-token)')
    .option('--ssh-key <file>', 'send this ssh private key as the project credential')
    .option(
      '--known-hosts <file>',
      'known_hosts lines for the ssh remote (then its host key is checked strictly)',
    )
    .option(
      '--verify <command>',
      'the command that verifies every implementation run (default: detected from the repository)',
    )
    .option('--json', 'print the project as JSON')
    .action(async (location: string, flags: AddFlags) => {
      const { existsSync, readFileSync } = await import('node:fs');
      const { resolve } = await import('node:path');
      const { splitRepoUrl } = await import('../../core/credentials.js');
      const { localRepositoryProblem, parseRepoLocation } = await import('../../core/repo-url.js');

      // A credential inside the URL is split off here too: it is sent as the credential, never as the URL.
      const split = splitRepoUrl(location);
      let repoUrl = split.url;
      let credential: Record<string, string> | undefined = split.credential
        ? { ...split.credential }
        : undefined;
      if ((flags.tokenEnv || flags.sshKey) && credential)
        return usageError(
          'the URL already holds a credential; drop it or the --token-env/--ssh-key flag',
          USAGE,
        );
      if (flags.tokenEnv && flags.sshKey) return usageError('give --token-env or --ssh-key, not both', USAGE);
      if (flags.knownHosts && !flags.sshKey) return usageError('--known-hosts goes with --ssh-key', USAGE);
      if (flags.username && !flags.tokenEnv) return usageError('--username goes with --token-env', USAGE);
      const verify = flags.verify?.trim();
      if (flags.verify !== undefined && (!verify || verify.length > 2000))
        return usageError(
          '--verify needs a command of 1 to 2000 characters, e.g. --verify "npm test"',
          USAGE,
        );
      if (flags.tokenEnv) {
        const secret = process.env[flags.tokenEnv];
        if (!secret) return usageError(`the environment variable ${flags.tokenEnv} is not set`, USAGE);
        credential = { kind: 'https_token', secret, ...(flags.username ? { username: flags.username } : {}) };
      } else if (flags.sshKey) {
        if (!existsSync(flags.sshKey)) return usageError(`no such key file: ${flags.sshKey}`, USAGE);
        if (flags.knownHosts && !existsSync(flags.knownHosts))
          return usageError(`no such known_hosts file: ${flags.knownHosts}`, USAGE);
        credential = {
          kind: 'ssh_key',
          private_key: readFileSync(flags.sshKey, 'utf8'),
          ...(flags.knownHosts ? { known_hosts: readFileSync(flags.knownHosts, 'utf8') } : {}),
        };
      }

      let branch = flags.branch;
      if (!isGitUrl(repoUrl)) {
        // A path: the same check the server makes (it exists and is a repository).
        repoUrl = resolve(location);
        const problem = await localRepositoryProblem(repoUrl);
        if (problem)
          return usageError(
            problem.startsWith('no such folder')
              ? `no such folder: ${location}`
              : `${location} is not a git repository (run git init there first)`,
            USAGE,
          );
      }
      try {
        parseRepoLocation(repoUrl);
      } catch (error) {
        return usageError((error as Error).message, USAGE);
      }
      if (!branch) {
        const { detectDefaultBranch, credentialGitEnv } = await import('../default-branch.js');
        const asked = await credentialGitEnv(repoUrl, credential, flags.sshKey, flags.knownHosts);
        try {
          branch = (await detectDefaultBranch(repoUrl, asked.env)) ?? undefined;
        } finally {
          await asked.cleanup();
        }
      }
      const { createApiClient, parseApiClientEnv } = await import('../../api/client.js');
      const env = parseApiClientEnv(process.env);
      const api = createApiClient({ baseUrl: env.OMOIOS_API_URL, key: env.OMOIOS_API_KEY });
      const created = await api.post<{
        id: string;
        name: string;
        repo_url: string;
        default_branch: string;
        credential?: { kind: string; username?: string } | null;
        settings?: { verify_command?: string };
      }>('/projects', {
        name: flags.name ?? repoName(location),
        repo_url: repoUrl,
        ...(branch ? { default_branch: branch } : {}),
        ...(credential ? { credential } : {}),
        ...(verify ? { settings: { verify_command: verify } } : {}),
      });
      if (flags.json) printJson(created);
      else
        process.stdout.write(
          `project ${created.name} (${created.id})\n  repo ${created.repo_url}, branch ${created.default_branch}\n` +
            (created.credential
              ? `  credential ${created.credential.kind}${created.credential.username ? ` (${created.credential.username})` : ''}, stored sealed on the server\n`
              : '') +
            `  verify ${created.settings?.verify_command ?? '(detected from the repository at each run)'}\n` +
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
