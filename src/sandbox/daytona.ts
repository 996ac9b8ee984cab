import { randomBytes } from 'node:crypto';
import { Daytona, type Sandbox as DaytonaSandbox } from '@daytonaio/sdk';
import type { SandboxSettings } from './config.js';
import { sandboxName, shellQuote } from './log-buffer.js';
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

/** Labels that mark a sandbox as ours, so the reaper never touches anyone else's. */
const MANAGED_LABEL = 'omoi-managed';
const TASK_LABEL = 'omoi-task';
/** The worker writes its shell's pid here, so cancel can signal it (session commands have no kill). */
const PID_FILE = 'worker.pid';

export interface DaytonaProviderOptions extends RemoteProviderOptions {
  apiKey?: string;
  apiUrl?: string;
  target?: string;
  /** A snapshot with Node 20 and git (and the Claude Agent SDK for AGENT_RUNTIME=claude). */
  snapshot?: string;
  /** How often to ask for the exit code after the log stream closed. */
  pollMs?: number;
}

/**
 * Runs each worker in a Daytona sandbox through `@daytonaio/sdk`: creates it with the env
 * contract as its environment, resources and labels, uploads the travelling worker, runs it as an
 * asynchronous session command, streams its log over the toolbox's follow socket, deletes the
 * sandbox at the end. Sandboxes are ephemeral, so one that stops is deleted by Daytona too.
 *
 * @example
 * const provider = createDaytonaProvider({ apiKey, snapshot: 'omoi-worker', uploads: workerUploads(root) });
 */
export function createDaytonaProvider(options: DaytonaProviderOptions): SandboxProvider {
  let client: Daytona | undefined;
  // The client is built on first use: its constructor refuses a missing key, and availability()
  // must be able to say so instead of throwing at start-up.
  const daytona = () => {
    client ??= new Daytona({
      apiKey: options.apiKey,
      ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}),
      ...(options.target ? { target: options.target } : {}),
    });
    return client;
  };
  const workdir = options.workdir ?? '/home/daytona/omoi';

  const list = async (): Promise<string[]> => {
    const ids: string[] = [];
    for await (const sandbox of daytona().list({ labels: { [MANAGED_LABEL]: 'true' } })) ids.push(sandbox.id);
    return ids;
  };

  return {
    name: 'daytona',

    ...byListing('Daytona', 'DAYTONA_API_KEY', options.apiKey, list),

    async create(create) {
      const resources = { ...options.defaults, ...create.resources };
      const uploads = uploadsOf(options);
      const apiOnly = options.network?.mode === 'api-only';
      let sandbox: DaytonaSandbox;
      try {
        sandbox = await daytona().create(
          {
            name: sandboxName(create.taskId),
            ...(options.snapshot ? { snapshot: options.snapshot } : {}),
            envVars: create.env,
            labels: { [MANAGED_LABEL]: 'true', [TASK_LABEL]: create.taskId },
            ephemeral: true,
            // Daytona stops (and, ephemeral, deletes) an idle sandbox: a safety net if we crash.
            autoStopInterval: Math.max(1, Math.ceil((resources.timeoutMs ?? 60 * 60_000) / 60_000)),
            ...(resources.cpus || resources.memoryMb
              ? {
                  resources: {
                    ...(resources.cpus ? { cpu: Math.ceil(resources.cpus) } : {}),
                    ...(resources.memoryMb
                      ? { memory: Math.max(1, Math.ceil(resources.memoryMb / 1024)) }
                      : {}),
                  },
                }
              : {}),
            ...(apiOnly ? { domainAllowList: (options.network?.allowHosts ?? []).join(',') } : {}),
          },
          { timeout: 120 },
        );
      } catch (error) {
        throw serviceFailure(
          'Daytona',
          `creating a sandbox${options.snapshot ? ` from ${options.snapshot}` : ''}`,
          error,
        );
      }
      const remote = new RemoteSandbox(sandbox.id, 'daytona', {
        // Session commands have no kill: signal the pid the command line wrote down.
        signal: async (kind) => {
          await sandbox.process
            .executeCommand(`kill -${kind} $(cat ${shellQuote(`${workdir}/${PID_FILE}`)})`)
            .catch(() => undefined);
        },
        remove: () => deleteSandbox(sandbox),
        graceMs: options.stopGraceMs ?? 10_000,
        keepOnFailure: create.keepOnFailure ?? false,
      });
      const logs = remote.logBuffer;
      const session = `omoi-${randomBytes(4).toString('hex')}`;
      let commandId: string;
      try {
        logs.system(`Uploading the worker (${uploads.length} files) to ${workdir}`);
        await sandbox.fs.uploadFiles(
          uploads.map((file) => ({ source: file.from, destination: `${workdir}/${file.to}` })),
        );
        await sandbox.process.createSession(session);
        const command = (options.command ?? WORKER_COMMAND).map(shellQuote).join(' ');
        // A child shell writes its pid and becomes the worker (exec), so cancel can signal exactly
        // the worker; the session's own shell stays, waits, and records the exit code.
        const started = await sandbox.process.executeSessionCommand(session, {
          command: `cd ${shellQuote(workdir)} && sh -c 'echo $$ > ${PID_FILE} && exec "$@"' omoi-worker ${command}`,
          runAsync: true,
        });
        if (!started.cmdId) throw new Error('the toolbox returned no command id');
        commandId = started.cmdId;
      } catch (error) {
        await sandbox.delete().catch(() => undefined);
        throw serviceFailure('Daytona', 'starting the worker in the sandbox', error);
      }
      void follow(sandbox, session, commandId, remote, options.pollMs ?? 500);
      return remote;
    },

    async destroyById(id) {
      let sandbox: DaytonaSandbox;
      try {
        sandbox = await daytona().get(id);
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return;
        throw serviceFailure('Daytona', `finding sandbox ${id}`, error);
      }
      await deleteSandbox(sandbox);
    },
  };
}

/** The provider as `OMOI_SANDBOX=daytona` configures it; `packageRoot` holds dist/worker.bundle.mjs. */
export function daytonaProviderFromSettings(settings: SandboxSettings, packageRoot: string): SandboxProvider {
  return createDaytonaProvider({
    apiKey: settings.DAYTONA_API_KEY,
    apiUrl: settings.DAYTONA_API_URL,
    target: settings.DAYTONA_TARGET,
    snapshot: settings.OMOI_DAYTONA_SNAPSHOT,
    ...remoteOptionsFromSettings(settings, packageRoot),
  });
}

/** Deletes a sandbox; one that is already gone counts as deleted. */
async function deleteSandbox(sandbox: DaytonaSandbox): Promise<void> {
  try {
    await sandbox.delete();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return;
    throw serviceFailure('Daytona', `deleting sandbox ${sandbox.id}`, error);
  }
}

/** Streams the command's log over the toolbox's follow socket, then reads its exit code. */
async function follow(
  sandbox: DaytonaSandbox,
  session: string,
  commandId: string,
  remote: RemoteSandbox,
  pollMs: number,
): Promise<void> {
  const logs = remote.logBuffer;
  try {
    await sandbox.process.getSessionCommandLogs(
      session,
      commandId,
      (chunk) => logs.push('stdout', chunk),
      (chunk) => logs.push('stderr', chunk),
    );
    // The log socket closes when the command ends; its exit code is recorded just after.
    let exitCode: number | undefined;
    while (exitCode === undefined && !remote.isDestroyed) {
      const command = await sandbox.process.getSessionCommand(session, commandId);
      exitCode = command.exitCode ?? undefined;
      if (exitCode === undefined) await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
    remote.finish({ exitCode: exitCode ?? null });
  } catch (error) {
    remote.finish({
      exitCode: null,
      error: serviceFailure('Daytona', 'following the worker', error).message,
    });
  }
}
