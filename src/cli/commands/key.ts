// `omoi key create|list|revoke`: API keys with a role and an optional expiry. Keys are stored only
// as hashes; a new key is printed once. The command opens the database itself (DATABASE_URL, or
// the data folder); when a running server holds the embedded database, it asks that server
// instead (with an admin key, or as the local user on 127.0.0.1).
import type { Command } from 'commander';
import type { ApiKey, KeysService, Role } from '../../core/keys.js';
import { printJson, usageError } from '../output.js';

const CREATE_USAGE =
  'omoi key create [--name N] [--role admin|member|read] [--expires 30d|12h|never] [--json]';
const REVOKE_USAGE = 'omoi key revoke <id|prefix> [--json]';

interface ApiFallback {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  delete<T>(path: string): Promise<T>;
}

/** Runs `direct` on the database, or `viaApi` when a running server holds the embedded database. */
async function withKeys<T>(
  dataDir: string | undefined,
  direct: (keys: KeysService) => Promise<T>,
  viaApi: (api: ApiFallback) => Promise<T>,
): Promise<T> {
  const { loadServerConfig } = await import('../../core/config.js');
  const { AppError } = await import('../../base/errors.js');
  const config = loadServerConfig(process.env, dataDir ? { dataDir } : {});
  try {
    const { openDatabase } = await import('../../db/client.js');
    const { createKeysService } = await import('../../core/keys.js');
    const db = await openDatabase(
      config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir },
    );
    try {
      return await direct(createKeysService(db));
    } finally {
      await db.close();
    }
  } catch (error) {
    if (!(error instanceof AppError && error.code === 'DATA_DIR_LOCKED')) throw error;
    const { createApiClient, parseApiClientEnv } = await import('../../api/client.js');
    const env = parseApiClientEnv(process.env);
    return viaApi(createApiClient({ baseUrl: env.OMOIOS_API_URL, key: env.OMOIOS_API_KEY }));
  }
}

function describeKey(k: ApiKey): string {
  const state = k.revoked_at
    ? `revoked ${k.revoked_at}`
    : k.expires_at && new Date(k.expires_at) <= new Date()
      ? `expired ${k.expires_at}`
      : k.expires_at
        ? `expires ${k.expires_at}`
        : 'no expiry';
  return `${k.prefix}…\t${k.id}\t${k.role}\t${k.name}\t${state}\tlast used ${k.last_used_at ?? 'never'}`;
}

export function register(program: Command): void {
  const key = program
    .command('key')
    .description('API keys with roles (needed when the server listens beyond 127.0.0.1)');
  const dataOption = 'data folder of the embedded database (default ./.omoi, env OMOI_DATA_DIR)';

  key
    .command('create')
    .description('Create an API key; it is shown once and stored hashed')
    .option('--name <name>', 'a label for the key', 'cli')
    .option(
      '--role <role>',
      'admin (everything), member (tickets, tasks, answers) or read (GET only)',
      'admin',
    )
    .option('--expires <duration>', 'a lifetime such as 30d, 12h, 90m, 2w, or never', 'never')
    .option('--data <dir>', dataOption)
    .option('--json', 'print JSON')
    .action(async (flags: { name: string; role: string; expires: string; data?: string; json?: boolean }) => {
      const { ROLES, parseDuration } = await import('../../core/keys.js');
      if (!(ROLES as readonly string[]).includes(flags.role))
        return usageError(`--role must be one of ${ROLES.join(', ')}`, CREATE_USAGE);
      let expiresInMs: number | null;
      try {
        expiresInMs = parseDuration(flags.expires);
      } catch (error) {
        return usageError((error as Error).message, CREATE_USAGE);
      }
      const role = flags.role as Role;
      const created = await withKeys(
        flags.data,
        (keys) => keys.create(flags.name, { role, expiresInMs }),
        (api) =>
          api.post<ApiKey & { key: string }>('/keys', {
            name: flags.name,
            role,
            ...(flags.expires === 'never' ? {} : { expires_in: flags.expires }),
          }),
      );
      if (flags.json) return printJson(created);
      process.stdout.write(
        `${created.key}\n` +
          `API key "${created.name}" (${created.id}), role ${created.role}, ${created.expires_at ? `expires ${created.expires_at}` : 'no expiry'}.\n` +
          'It is shown only now: keep it somewhere safe. Send it as X-API-Key or Authorization: Bearer, ' +
          'set OMOIOS_API_KEY for the CLI, or paste it into the web login.\n',
      );
    });

  key
    .command('list')
    .description('List API keys: prefix, id, role, name, expiry, last use (never the keys)')
    .option('--data <dir>', dataOption)
    .option('--json', 'print JSON')
    .action(async (flags: { data?: string; json?: boolean }) => {
      const keys = await withKeys(
        flags.data,
        (k) => k.list(),
        async (api) => (await api.get<{ keys: ApiKey[] }>('/keys')).keys,
      );
      if (flags.json) return printJson(keys);
      for (const k of keys) process.stdout.write(`${describeKey(k)}\n`);
      if (keys.length === 0) process.stdout.write('no API keys yet: omoi key create --role admin\n');
    });

  key
    .command('revoke')
    .description('Revoke an API key by its id or its prefix (as `omoi key list` shows it)')
    .argument('[id-or-prefix]', 'the key id, or its prefix such as omoi_sk_AbC123')
    .option('--data <dir>', dataOption)
    .option('--json', 'print JSON')
    .action(async (idOrPrefix: string | undefined, flags: { data?: string; json?: boolean }) => {
      if (!idOrPrefix) return usageError('name the key to revoke', REVOKE_USAGE);
      const wanted = idOrPrefix.replace(/…$/, '');
      const revoked = await withKeys(
        flags.data,
        (k) => k.revoke(wanted),
        (api) => api.delete<ApiKey>(`/keys/${encodeURIComponent(wanted)}`),
      );
      if (flags.json) return printJson(revoked);
      process.stdout.write(`revoked ${describeKey(revoked)}\n`);
    });
}
