/**
 * The port every sandbox provider implements: `local` (a git clone under the data folder and a
 * child process), `docker`, `daytona` and `e2b`. A sandbox runs exactly one `omoi worker` with the
 * env contract of docs/design.md and nothing else of the server's environment.
 *
 * @example
 * const sandbox = await provider.create({ taskId, env, resources: {} });
 * for await (const line of sandbox.logs()) console.log(line.stream, line.text);
 * const exit = await sandbox.wait();   // { exitCode: 0 } when the worker finished its task
 * await sandbox.destroy();
 */
export interface SandboxProvider {
  /** Registry name: `local`, `docker`, `daytona`, `e2b`. */
  readonly name: string;
  /** Whether this provider can create sandboxes here and now, and why not. */
  availability(): Promise<{ available: boolean; reason?: string }>;
  /** Creates a sandbox and starts the worker in it with exactly `options.env`. */
  create(options: SandboxCreateOptions): Promise<Sandbox>;
  /** Ids of sandboxes this provider still holds (for the reaper after a crash). */
  list?(): Promise<string[]>;
  /** Removes a sandbox by id, also one left behind by a crashed orchestrator. Idempotent. */
  destroyById?(id: string): Promise<void>;
}

export interface SandboxCreateOptions {
  /** The task this sandbox runs; also used to name it. */
  taskId: string;
  /** The whole env contract (OMOIOS_API_URL, OMOIOS_API_KEY, TASK_ID, REPO_URL, …). */
  env: Record<string, string>;
  /** Limits where the provider supports them. */
  resources?: { cpus?: number; memoryMb?: number; timeoutMs?: number; pids?: number };
  /**
   * The project's outbound network policy (`settings.network`): `none`, `registries` (package
   * registries only) or `open`; never the host's loopback or private ranges. Default `registries`.
   * The local provider enforces it; remote providers document what their service offers.
   */
  network?: 'none' | 'registries' | 'open';
  /** Keep the workspace after a failed run (for debugging). */
  keepOnFailure?: boolean;
  /**
   * The server's mirror of the project (a host path), for providers that clone outside the sandbox
   * (`local`): the clone comes from it and its `origin` is then REPO_URL (the git broker). Never
   * bound into or given to the sandbox.
   */
  cloneFrom?: string;
}

export interface SandboxLogLine {
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
  ts: number;
}

export interface Sandbox {
  readonly id: string;
  readonly provider: string;
  /** Log lines in order, from the start; ends when the worker exits. */
  logs(): AsyncIterable<SandboxLogLine>;
  /** Resolves when the worker exits. `error` says why when the provider itself failed. */
  wait(): Promise<SandboxExit>;
  /** Stops the worker (SIGTERM, then SIGKILL after a grace period). Idempotent. */
  cancel(): Promise<void>;
  /** Removes everything the sandbox created. Idempotent. */
  destroy(): Promise<void>;
}

export interface SandboxExit {
  exitCode: number | null;
  signal?: string | null;
  /** A provider-level failure (quota, timeout, auth, clone failed) in words a person can act on. */
  error?: string;
}
