// Which branch a repository's work starts from. A bare repository made with `git init --bare`
// keeps HEAD at `master` even when only `main` was ever pushed, so HEAD alone is not enough:
// the branch must also exist.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The default branch of a repository (a local path or a URL), or null when it cannot be asked
 * (no network, no such repository, an empty remote repository): the server's default applies.
 * An empty local repository answers the branch its HEAD names.
 *
 * @example
 * await detectDefaultBranch('/srv/app.git'); // 'main'
 */
export async function detectDefaultBranch(
  location: string,
  extraEnv: Record<string, string> = {},
): Promise<string | null> {
  const ask = async (flag: string, ...patterns: string[]) =>
    (
      await run('git', ['ls-remote', flag, '--', location, ...patterns], {
        timeout: 15_000,
        env: { ...process.env, ...extraEnv, GIT_TERMINAL_PROMPT: '0' },
      })
    ).stdout;
  let symref: string;
  let heads: string;
  try {
    [symref, heads] = await Promise.all([ask('--symref', 'HEAD'), ask('--heads')]);
  } catch {
    return null;
  }
  // An empty repository advertises no HEAD; a local one can still be asked which branch it is on.
  const localHead = await run('git', ['-C', location, 'symbolic-ref', '--short', 'HEAD']).then(
    ({ stdout }) => stdout.trim() || null,
    () => null,
  );
  return chooseDefaultBranch(symref, heads, localHead);
}

/** Picks the branch from `git ls-remote --symref HEAD` and `git ls-remote --heads` output. */
export function chooseDefaultBranch(
  symrefOutput: string,
  headsOutput: string,
  localHead: string | null = null,
): string | null {
  const head = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(symrefOutput)?.[1] ?? localHead;
  const branches = headsOutput
    .split('\n')
    .map((line) => /\trefs\/heads\/(.+)$/.exec(line)?.[1])
    .filter((name): name is string => Boolean(name));
  if (branches.length === 0) return head;
  if (head && branches.includes(head)) return head;
  for (const usual of ['main', 'master', 'trunk', 'develop']) if (branches.includes(usual)) return usual;
  return branches[0] ?? null;
}

/**
 * The environment that lets `git ls-remote` use a credential given to `omoi project add` (an https
 * token as a header through GIT_CONFIG_*, an ssh key file through GIT_SSH_COMMAND), so it is never
 * put in a URL or on a command line. `cleanup` removes what it wrote.
 */
export async function credentialGitEnv(
  url: string,
  credential: Record<string, string> | undefined,
  keyFile: string | undefined,
  knownHostsFile: string | undefined,
): Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }> {
  const none = { env: {}, cleanup: async () => {} };
  if (credential?.kind === 'https_token' && /^https?:\/\//i.test(url) && credential.secret) {
    const origin = new URL(url);
    const user = credential.username ?? 'x-access-token';
    return {
      env: {
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: `http.${origin.protocol}//${origin.host}/.extraHeader`,
        GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`${user}:${credential.secret}`).toString('base64')}`,
      },
      cleanup: async () => {},
    };
  }
  if (credential?.kind === 'ssh_key' && keyFile) {
    const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
    const hosts = knownHostsFile
      ? `-o UserKnownHostsFile=${quote(knownHostsFile)} -o StrictHostKeyChecking=yes`
      : '';
    return {
      env: {
        GIT_SSH_COMMAND: `ssh -i ${quote(keyFile)} -o IdentitiesOnly=yes -o BatchMode=yes ${hosts}`.trim(),
      },
      cleanup: async () => {},
    };
  }
  return none;
}
