import { ExitLatch, LogBuffer } from './log-buffer.js';
import type { Sandbox, SandboxExit, SandboxProvider } from './provider.js';
import { serviceFailure } from './service-failure.js';

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
 * A remote provider's availability: its key must be set, and listing our sandboxes must work
 * (which proves the URL, the key and the network at once).
 */
export async function availableByListing(
  service: string,
  keyName: string,
  key: string | undefined,
  list: () => Promise<unknown>,
): ReturnType<SandboxProvider['availability']> {
  if (!key) return { available: false, reason: `${keyName} is not set` };
  try {
    await list();
    return { available: true };
  } catch (error) {
    return { available: false, reason: serviceFailure(service, 'listing sandboxes', error).message };
  }
}
