// `omoi key create [--name N]`: makes an API key, stores only its hash and prints it once. It opens
// the database itself (DATABASE_URL, or the data folder); when a running server holds the embedded
// database, it asks that server instead (only possible from this machine).
import type { Command } from 'commander';
import { printJson } from '../output.js';

export function register(program: Command): void {
  const key = program
    .command('key')
    .description('API keys (needed when the server listens beyond 127.0.0.1)');

  key
    .command('create')
    .description('Create an API key; it is shown once and stored hashed')
    .option('--name <name>', 'a label for the key', 'cli')
    .option('--data <dir>', 'data folder of the embedded database (default ./.omoi, env OMOI_DATA_DIR)')
    .option('--json', 'print JSON')
    .action(async (flags: { name: string; data?: string; json?: boolean }) => {
      const { loadServerConfig } = await import('../../core/config.js');
      const { AppError } = await import('../../base/errors.js');
      const config = loadServerConfig(process.env, flags.data ? { dataDir: flags.data } : {});
      let created: { id: string; name: string; key: string };
      try {
        const { openDatabase } = await import('../../db/client.js');
        const { createKeysService } = await import('../../core/keys.js');
        const db = await openDatabase(
          config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir },
        );
        try {
          created = await createKeysService(db).create(flags.name);
        } finally {
          await db.close();
        }
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'DATA_DIR_LOCKED')) throw error;
        const { createApiClient, parseApiClientEnv } = await import('../../api/client.js');
        const env = parseApiClientEnv(process.env);
        const api = createApiClient({ baseUrl: env.OMOIOS_API_URL, key: env.OMOIOS_API_KEY });
        created = await api.post('/keys', { name: flags.name });
      }
      if (flags.json) return printJson(created);
      process.stdout.write(
        `${created.key}\n` +
          `API key "${created.name}" (${created.id}). It is shown only now: keep it somewhere safe.\n` +
          'Send it as X-API-Key or Authorization: Bearer, or set OMOIOS_API_KEY for the CLI.\n',
      );
    });
}
