import { allowedHosts, resourceDefaults, type SandboxSettings } from './config.js';
import { ExitLatch, LogBuffer } from './log-buffer.js';
import type { Sandbox, SandboxCreateOptions, SandboxExit, SandboxProvider } from './provider.js';
import { serviceFailure } from './service-failure.js';
import { type UploadFile, workerUploads } from './worker-files.js';

/** What a Daytona or E2B provider is given besides its service's own connection settings. */
export interface RemoteProviderOptions {
  /** Where the worker files go and the worker runs. */
  workdir?: string;
  /** Files copied into the sandbox before the worker starts (default: the travelling worker). */
  uploads: UploadFile[] | (() => UploadFile[]);
  /** The worker command, run from `workdir` (tests run a tiny script). */
  command?: string[];
  /** `api-only` lets the sandbox reach only these hosts. */
  network?: { mode: 'open' | 'api-only'; allowHosts: string[] };
  /** Milliseconds between SIGTERM and SIGKILL on cancel. */
  stopGraceMs?: number;
  defaults?: SandboxCreateOptions['resources'];
}

/** The remote options as `omoi start`'s settings give them; `packageRoot` holds dist/worker.bundle.mjs. */
export function remoteOptionsFromSettings(
  settings: SandboxSettings,
  packageRoot: string,
): RemoteProviderOptions {
  return {
    uploads: () => workerUploads(packageRoot),
    network: { mode: settings.OMOI_SANDBOX_NETWORK, allowHosts: allowedHosts(settings) },
    ...(settings.OMOI_SANDBOX_WORKDIR ? { workdir: settings.OMOI_SANDBOX_WORKDIR } : {}),
    defaults: resourceDefaults(settings),
  };
}

/** The files to upload, read when a sandbox is created (the bundle may be rebuilt in between). */
export function uploadsOf(options: RemoteProviderOptions): UploadFile[] {
  return typeof options.uploads === 'function' ? options.uploads() : options.uploads;
}

/** What a cloud service offers to stop and remove one sandbox; the rest is the same everywhere. */
export interface RemoteControl {
  /** Sends SIGTERM or SIGKILL to the worker inside the sandbox; never throws. */
  signal(kind: 'TERM' | 'KILL'): Promise<void>;
  /** Removes the sandbox at the service; resolves when it is already gone. */
  remove(): Promise<void>;
  /** Milliseconds between SIGTERM and SIGKILL on cancel. */
  graceMs: number;
  keepOnFailure: boolean;
}

/**
 * The part of a Daytona or E2B sandbox that does not depend on the service: the log buffer, the
 * exit, cancel (SIGTERM, then SIGKILL after the grace period) and an idempotent destroy that keeps
 * a failed sandbox when asked. The provider feeds `logBuffer` and calls `finish` once the worker
 * has exited.
 *
 * @example
 * const sandbox = new RemoteSandbox(id, 'e2b', { signal, remove, graceMs: 10_000, keepOnFailure: false });
 * handle.wait().then((r) => sandbox.finish({ exitCode: r.exitCode }));
 */
export class RemoteSandbox implements Sandbox {
  readonly logBuffer = new LogBuffer();
  private readonly exit = new ExitLatch();
  private cancelled = false;
  private destroyed = false;

  constructor(
    readonly id: string,
    readonly provider: string,
    private readonly control: RemoteControl,
  ) {}

  /** True once destroy() started: a watcher stops polling a sandbox that is being removed. */
  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** Records the worker's exit (the first call wins) and ends the log. */
  finish(result: SandboxExit): void {
    this.logBuffer.end();
    this.exit.settle(this.cancelled ? { ...result, error: 'cancelled' } : result);
  }

  logs() {
    return this.logBuffer.lines();
  }

  wait(): Promise<SandboxExit> {
    return this.exit.promise;
  }

  async cancel(): Promise<void> {
    if (this.exit.done || this.cancelled) return;
    this.cancelled = true;
    await this.control.signal('TERM');
    const stopped = await Promise.race([
      this.exit.promise.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), this.control.graceMs).unref()),
    ]);
    if (!stopped) await this.control.signal('KILL');
    await this.exit.promise;
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.exit.done && this.control.keepOnFailure && (await this.exit.promise).exitCode !== 0) {
      this.logBuffer.system(`Kept ${this.provider} sandbox ${this.id} after the failed run (keepOnFailure)`);
      return;
    }
    try {
      await this.control.remove();
    } catch (error) {
      this.destroyed = false;
      throw error;
    }
  }
}

/**
 * A remote provider's `availability` and `list`, both by listing the sandboxes marked as ours.
 * Available needs the key set and a listing that works (which proves the URL, the key and the
 * network at once); a failed `list` throws the service failure, sorted by kind.
 */
export function byListing(
  service: string,
  keyName: string,
  key: string | undefined,
  list: () => Promise<string[]>,
): Pick<SandboxProvider, 'availability' | 'list'> {
  return {
    async availability() {
      if (!key) return { available: false, reason: `${keyName} is not set` };
      try {
        await list();
        return { available: true };
      } catch (error) {
        return { available: false, reason: serviceFailure(service, 'listing sandboxes', error).message };
      }
    },
    async list() {
      try {
        return await list();
      } catch (error) {
        throw serviceFailure(service, 'listing sandboxes', error);
      }
    },
  };
}
