import { readFile } from 'node:fs/promises';
import { CommandExitError, type CommandHandle, Sandbox as E2BSandbox, type SandboxOpts } from 'e2b';
import type { SandboxSettings } from './config.js';
import { shellQuote } from './log-buffer.js';
import type { SandboxProvider } from './provider.js';
import {
  byListing,
  type RemoteProviderOptions,
  RemoteSandbox,
  remoteOptionsFromSettings,
  uploadsOf,
} from './remote-sandbox.js';
import { serviceFailure } from './service-failure.js';
import { WORKER_COMMAND } from './worker-files.js';

/** Metadata that marks a sandbox as ours, so the reaper never touches anyone else's. */
const MANAGED_KEY = 'omoi-managed';
const TASK_KEY = 'omoi-task';
/** E2B kills a sandbox at its timeout; an hour covers a long agent run unless the task says otherwise. */
const DEFAULT_LIFETIME_MS = 60 * 60 * 1000;

export interface E2BProviderOptions extends RemoteProviderOptions {
  apiKey?: string;
  /** E2B's domain (self-hosted E2B); the SDK derives API and sandbox hosts from it. */
  domain?: string;
  apiUrl?: string;
  /** One address for every sandbox's envd (tests point it at the fake; E2B_SANDBOX_URL in the SDK). */
  sandboxUrl?: string;
  /** A template with Node 20 and git (see deploy/Dockerfile). */
  template: string;
}

/**
 * Runs each worker in an E2B sandbox through the `e2b` SDK: creates it from the template, uploads
 * the travelling worker, starts it with exactly the env contract, streams its output, kills the
 * sandbox at the end. Sandboxes carry `omoi-managed` metadata so `list` finds orphans.
 *
 * @example
 * const provider = createE2BProvider({ apiKey, template: 'omoi-worker', uploads: workerUploads(root) });
 */
export function createE2BProvider(options: E2BProviderOptions): SandboxProvider {
  const connection = {
    apiKey: options.apiKey,
    ...(options.domain ? { domain: options.domain } : {}),
    ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}),
    ...(options.sandboxUrl ? { sandboxUrl: options.sandboxUrl } : {}),
  };
  const workdir = options.workdir ?? '/home/user/omoi';

  const list = async (): Promise<string[]> => {
    const paginator = E2BSandbox.list({ ...connection, query: { metadata: { [MANAGED_KEY]: 'true' } } });
    const ids: string[] = [];
    while (paginator.hasNext) {
      for (const info of await paginator.nextItems()) ids.push(info.sandboxId);
    }
    return ids;
  };

  return {
    name: 'e2b',

    ...byListing('E2B', 'E2B_API_KEY', options.apiKey, list),

    async create(create) {
      const resources = { ...options.defaults, ...create.resources };
      const uploads = uploadsOf(options);
      const hosts = options.network?.allowHosts ?? [];
      const sandboxOptions: SandboxOpts = {
        ...connection,
        metadata: { [MANAGED_KEY]: 'true', [TASK_KEY]: create.taskId },
        timeoutMs: resources.timeoutMs ?? DEFAULT_LIFETIME_MS,
        ...(options.network?.mode === 'api-only'
          ? { network: { allowOut: hosts, denyOut: ['0.0.0.0/0'] } }
          : {}),
      };
      let sandbox: E2BSandbox;
      try {
        sandbox = await E2BSandbox.create(options.template, sandboxOptions);
      } catch (error) {
        throw serviceFailure('E2B', `creating a sandbox from template ${options.template}`, error);
      }
      let handle: CommandHandle | undefined;
      const remote = new RemoteSandbox(sandbox.sandboxId, 'e2b', {
        // The SDK's kill is SIGKILL only; a SIGTERM first lets the worker push what it has.
        signal: async (kind) => {
          if (!handle) return;
          if (kind === 'KILL') await handle.kill().catch(() => undefined);
          else await sandbox.commands.run(`kill -TERM ${handle.pid}`).catch(() => undefined);
        },
        remove: async () => {
          try {
            await sandbox.kill();
          } catch (error) {
            throw serviceFailure('E2B', `killing sandbox ${sandbox.sandboxId}`, error);
          }
        },
        graceMs: options.stopGraceMs ?? 10_000,
        keepOnFailure: create.keepOnFailure ?? false,
      });
      const logs = remote.logBuffer;
      try {
        logs.system(`Uploading the worker (${uploads.length} files) to ${workdir}`);
        const files = await Promise.all(
          uploads.map(async (file) => ({
            path: `${workdir}/${file.to}`,
            data: toArrayBuffer(await readFile(file.from)),
          })),
        );
        await sandbox.files.write(files, { useOctetStream: true });
        // `exec`: the shell E2B starts becomes the worker, so its pid is the worker's for SIGTERM.
        const command = `exec ${(options.command ?? WORKER_COMMAND).map(shellQuote).join(' ')}`;
        handle = await sandbox.commands.run(command, {
          background: true,
          cwd: workdir,
          envs: create.env,
          timeoutMs: 0,
          onStdout: (data) => logs.push('stdout', data),
          onStderr: (data) => logs.push('stderr', data),
        });
      } catch (error) {
        await sandbox.kill().catch(() => undefined);
        throw serviceFailure('E2B', 'starting the worker in the sandbox', error);
      }
      void handle.wait().then(
        (done) => remote.finish({ exitCode: done.exitCode }),
        (error: unknown) =>
          remote.finish(
            error instanceof CommandExitError
              ? { exitCode: error.exitCode }
              : { exitCode: null, error: serviceFailure('E2B', 'following the worker', error).message },
          ),
      );
      return remote;
    },

    async destroyById(id) {
      try {
        await E2BSandbox.kill(id, connection);
      } catch (error) {
        throw serviceFailure('E2B', `killing sandbox ${id}`, error);
      }
    },
  };
}

/** The provider as `OMOI_SANDBOX=e2b` configures it; `packageRoot` holds dist/worker.bundle.mjs. */
export function e2bProviderFromSettings(settings: SandboxSettings, packageRoot: string): SandboxProvider {
  return createE2BProvider({
    apiKey: settings.E2B_API_KEY,
    domain: settings.E2B_DOMAIN,
    apiUrl: settings.E2B_API_URL,
    template: settings.OMOI_E2B_TEMPLATE,
    ...remoteOptionsFromSettings(settings, packageRoot),
  });
}

function toArrayBuffer(data: Buffer): ArrayBuffer {
  return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
}
