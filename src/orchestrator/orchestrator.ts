// The loop: claim -> mint a token -> spawn a sandbox with the env contract -> stream its logs into
// events -> turn its exit into task.completed / task.failed -> clean up. Woken by NOTIFY omoi_tasks,
// with a slow poll only as a fallback; heartbeats keep each claim's lease alive.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { redact, redactValue } from '../base/redact.js';
import { defaultBranch } from '../contracts/branches.js';
import { TASKS_CHANNEL } from '../contracts/channels.js';
import type { AppendEvent, EventData } from '../contracts/events.js';
import { encodeWorkerEnv, type RunBudget } from '../contracts/worker-env.js';
import { parseOutcomeLine, type WorkerOutcome } from '../contracts/worker-outcome.js';
import type { Tx } from '../db/client.js';
import type { ClaimedTask, Queue } from '../queue/queue.js';
import type { Sandbox, SandboxExit, SandboxProvider } from '../sandbox/provider.js';
import type { OrchestratorStore, RunContext } from './store.js';

/** An event the orchestrator records about a task (one of the catalogue's). */
export type OrchestratorEvent = AppendEvent;
type TaskEventType =
  | 'task.claimed'
  | 'task.completed'
  | 'task.failed'
  | 'task.retrying'
  | 'sandbox.spawned'
  | 'sandbox.log';
/** Builds the event of `type` about `task`; the catalogue types `data`. */
function taskEvent<K extends TaskEventType>(task: ClaimedTask, type: K, data: EventData<K>): AppendEvent {
  return { type, projectId: task.project_id, ticketId: task.ticket_id, taskId: task.id, data } as AppendEvent;
}

export interface OrchestratorConfig {
  /** The API base URL workers call (OMOIOS_API_URL). */
  apiUrl: string;
  /** AGENT_RUNTIME for the workers, and the variables that runtime reads. */
  runtimeName: string;
  runtimeEnv: Record<string, string>;
  /** Sandboxes this orchestrator runs at once (projects also have their own limit). */
  maxConcurrency: number;
  /** Fallback poll when no NOTIFY arrives. */
  pollMs: number;
  maxTurns: number;
  specMaxAttempts: number;
  verifyMaxAttempts?: number;
  verifyTimeoutMs?: number;
  tokenTtlMs: number;
  keepOnFailure: boolean;
  /** The database belongs to this process alone (PGlite): every claim found at start is an orphan. */
  exclusive: boolean;
}

export interface OrchestratorDeps {
  queue: Queue;
  store: OrchestratorStore;
  provider: SandboxProvider;
  /**
   * Records an event. With `tx`, in that transaction: the events of status changes (completed,
   * failed, retrying) are appended in the change's own transaction, so both commit or neither does.
   */
  emit: (event: OrchestratorEvent, tx?: Tx) => Promise<void>;
  mintToken: (args: {
    taskId: string;
    projectId: string;
    ticketId: string | null;
    ttlMs: number;
  }) => Promise<string>;
  /**
   * Called after this orchestrator changed a task's status (claimed, completed, failed, handed back,
   * reaped): dependants are blocked or released and the ticket moves (src/core/flow.ts).
   */
  onTaskChanged?: (taskId: string) => Promise<unknown>;
  /**
   * Readies the project's repository for a run and says where the sandbox gets it: the git broker
   * fetches the real remote into the server's mirror and answers the broker URL (REPO_URL) and the
   * mirror's path (for providers that clone outside the sandbox). Without it the sandbox gets the
   * project's repo_url as it is. A throw fails the run (or retries it) with the reason.
   */
  prepareRepo?: (args: {
    taskId: string;
    projectId: string;
    repoUrl: string;
    defaultBranch: string;
  }) => Promise<{ repoUrl: string; cloneFrom?: string }>;
  /**
   * The model variables of a sandbox (base URL and key of its runtime) for a task token: the model
   * broker's URLs and the token, so the real key stays on the server. Without it the runtime's
   * variables from `config.runtimeEnv` go in as they are.
   */
  modelEnv?: (runtimeName: string, token: string) => Record<string, string>;
  /**
   * Called when a run is over, whatever its outcome, with the worker token that run was given (null
   * when it got none): revokes that token. Only that one: a task answered while its asking run was
   * still being torn down runs again at once, with a token of its own that must stay valid.
   */
  onFinished?: (taskId: string, token: string | null) => Promise<void>;
  /**
   * Budget caps before a run (src/core/budgets.ts `beforeStart`): a used-up cap fails the task with
   * its reason; otherwise what the run may spend goes into its environment (BUDGET_USD/BUDGET_TOKENS).
   */
  budget?: (task: ClaimedTask) => Promise<
    | { ok: true; budget: RunBudget }
    | { ok: false; reason: string }
    /** Past a soft threshold the hook parked the task on a budget question: nothing runs now. */
    | { ok: false; parked: true }
  >;
  /** Called on every heartbeat that still holds the task: keeps its short-lived token alive. */
  renewToken?: (taskId: string, ttlMs: number) => Promise<void>;
  /** Subscribes to NOTIFY omoi_tasks; returns the unsubscribe. */
  listen?: (channel: string, handler: (payload: string) => void) => Promise<() => unknown>;
  log: (message: string, fields?: Record<string, unknown>) => void;
  config: OrchestratorConfig;
}

/** What a run's steps decide before its sandbox exists. */
interface RunPlan {
  requireSkill: boolean;
  mode: 'exploration' | 'implementation';
  skill: string;
  branch: string;
}

/** Where the sandbox gets the repository: the URL it clones, and a local mirror to copy from. */
interface PreparedRepo {
  repoUrl: string;
  cloneFrom?: string;
}

interface ActiveRun {
  task: ClaimedTask;
  sandbox: Sandbox | null;
  /** Why we stopped it ourselves, if we did. */
  stopping: 'cancel' | 'shutdown' | 'lease-lost' | null;
  done: Promise<void>;
  /** The worker token minted for this run (revoked when it ends). */
  token: string | null;
  /** Its completion NOTIFYed every orchestrator, this one included: no wake-up of our own is owed. */
  notified: boolean;
}

/** True when the worker ended because its agent asked a person (the task is parked, not failed). */
function parked(outcome: WorkerOutcome | null): boolean {
  return outcome !== null && !outcome.ok && outcome.awaiting_input === true;
}

/**
 * Creates an orchestrator. `start()` begins claiming; `stop()` hands running tasks back and waits.
 *
 * @example
 * const orchestrator = createOrchestrator({ queue, store, provider, emit, mintToken, listen, log, config });
 * await orchestrator.start();
 * process.on('SIGTERM', () => orchestrator.stop());
 */
export function createOrchestrator(deps: OrchestratorDeps) {
  const { queue, store, provider, config, log } = deps;
  const claimer = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const active = new Map<string, ActiveRun>();
  let running = false;
  let wakeUp: (() => void) | null = null;
  let pending = false;
  /** The loop stopped claiming because this orchestrator's own slots were all taken. */
  let full = false;
  let loopDone: Promise<void> = Promise.resolve();
  let unlisten: (() => unknown) | null = null;
  let reaperTimer: NodeJS.Timeout | null = null;

  const wake = () => {
    pending = true;
    wakeUp?.();
  };

  const changed = async (taskId: string) => {
    try {
      await deps.onTaskChanged?.(taskId);
    } catch (error) {
      log(`could not settle task ${taskId}: ${String(error)}`);
    }
  };

  const emit = async <K extends TaskEventType>(task: ClaimedTask, type: K, data: EventData<K>) => {
    try {
      await deps.emit(taskEvent(task, type, data));
    } catch (error) {
      log(`could not record ${type} for task ${task.id}: ${String(error)}`);
    }
  };

  /** The event of a status change, appended in the change's transaction (failing it when it fails). */
  const record =
    <K extends TaskEventType>(task: ClaimedTask, type: K, data: EventData<K>) =>
    (tx: Tx): Promise<void> =>
      deps.emit(taskEvent(task, type, data), tx);

  async function reap(all = false): Promise<void> {
    const reaped = await queue.reap({ all }, async (tx, tasks) => {
      for (const task of tasks) {
        const data = {
          error: 'the lease ran out (the orchestrator or its worker stopped)',
          attempts: task.attempts,
          previous_claimer: task.claimed_by,
        };
        const where = { projectId: task.project_id, ticketId: task.ticket_id, taskId: task.id };
        const event: AppendEvent =
          task.status === 'failed'
            ? { ...where, type: 'task.failed', data }
            : { ...where, type: 'task.retrying', data };
        await deps.emit(event, tx);
      }
    });
    for (const task of reaped) await changed(task.id);
    if (reaped.some((t) => t.status === 'pending')) wake();
  }

  async function loop(): Promise<void> {
    while (running) {
      pending = false;
      while (running && active.size < config.maxConcurrency) {
        let task: ClaimedTask | null = null;
        try {
          task = await queue.claim(claimer);
        } catch (error) {
          log(`claim failed: ${String(error)}`);
        }
        if (!task) break;
        launch(task);
      }
      full = active.size >= config.maxConcurrency;
      if (!running) break;
      if (pending) continue;
      // Sleep until NOTIFY, a run ending, the poll fallback, or the next backoff coming due (asked
      // while already asleep: a wake-up meanwhile does not wait for the answer).
      await new Promise<void>((resolve) => {
        let timer = setTimeout(resolve, config.pollMs);
        const woken = () => {
          clearTimeout(timer);
          resolve();
        };
        wakeUp = woken;
        if (pending) return woken();
        queue.nextRunAfter().then(
          (next) => {
            if (!next || wakeUp !== woken) return;
            clearTimeout(timer);
            timer = setTimeout(
              resolve,
              Math.max(10, Math.min(config.pollMs, next.getTime() - Date.now() + 10)),
            );
          },
          () => {},
        );
      });
      wakeUp = null;
    }
  }

  function launch(task: ClaimedTask): void {
    const run: ActiveRun = {
      task,
      sandbox: null,
      stopping: null,
      done: Promise.resolve(),
      token: null,
      notified: false,
    };
    active.set(task.id, run);
    run.done = execute(run)
      .catch((error) => {
        log(`run of task ${task.id} crashed: ${String(error)}`);
        return false;
      })
      // After the early exits (no context, no sandbox), which fail the task without `finish`.
      .then((settled) => (settled ? undefined : changed(task.id)))
      .then(() => deps.onFinished?.(task.id, run.token))
      .catch((error) => log(`could not revoke the token of task ${task.id}: ${String(error)}`))
      .finally(() => {
        // The task may run again already (answered while this run was torn down): that run's entry stays.
        if (active.get(task.id) === run) active.delete(task.id);
        // A slot of ours is free, or the task ended without a NOTIFY (failed, handed back, parked)
        // that frees its project's slot for every orchestrator.
        if (full || !run.notified) wake();
      });
  }

  /**
   * Runs one claimed task: its context, its repository, its sandbox, its logs, its outcome. True when
   * it settled the task's new status itself (the early exits leave that to the caller).
   */
  async function execute(run: ActiveRun): Promise<boolean> {
    const { task } = run;
    // Both at once: with one connection (PGlite) they queue side by side, with a pool they overlap.
    const [, context] = await Promise.all([
      emit(task, 'task.claimed', {
        claimed_by: claimer,
        attempt: task.attempts,
        max_attempts: task.max_attempts,
      }),
      store.context(task.id),
    ]);
    if (!context) return failRun(task, 'the task, its project or its ticket no longer exists');
    // A used-up budget cap fails the run before any repository or sandbox work.
    const budget = await deps.budget?.(task);
    if (budget && !budget.ok) return 'parked' in budget ? false : failRun(task, budget.reason);
    const plan = planRun(task, context);
    const repo = await prepareRepository(task, context);
    if (typeof repo === 'string') return failRun(task, repo);
    const sandboxId = randomUUID();
    const env = await workerEnv(task, context, plan, repo, sandboxId, budget?.budget);
    run.token = env.OMOIOS_API_KEY ?? null;
    const sandbox = await createSandbox(task, env, repo, context);
    if (typeof sandbox === 'string') return failRun(task, sandbox);
    run.sandbox = sandbox;
    if (run.stopping) await sandbox.cancel();
    await markStarted(task, sandbox, sandboxId, plan);
    const heartbeat = startHeartbeat(run, sandbox);
    let settled = false;
    try {
      const { outcome, stderrTail } = await followLogs(task, sandbox);
      const exit = await sandbox.wait();
      await finish(run, exit, outcome, stderrTail);
      await changed(task.id);
      settled = true;
      await store
        .sandboxFinished(
          sandboxId,
          run.stopping && !parked(outcome)
            ? 'cancelled'
            : exit.exitCode === 0 || parked(outcome)
              ? 'exited'
              : 'failed',
        )
        .catch(() => {});
    } finally {
      clearInterval(heartbeat);
      await sandbox
        .destroy()
        .catch((error) => log(`could not remove sandbox ${sandbox.id}: ${String(error)}`));
    }
    return settled;
  }

  /** Fails a run that never reached its worker, with the reason, and its event in one transaction. */
  async function failRun(task: ClaimedTask, reason: string): Promise<false> {
    await queue.fail(task.id, claimer, reason, undefined, record(task, 'task.failed', { error: reason }));
    return false;
  }

  /** The run's mode, the skill it must use (if any) and its work branch. */
  function planRun(task: ClaimedTask, context: RunContext): RunPlan {
    const requireSkill = task.execution_config?.require_spec_skill === true;
    const mode = task.execution_mode ?? (requireSkill ? 'exploration' : 'implementation');
    const skill = task.execution_config?.selected_skill ?? 'spec-driven-dev';
    const branch =
      task.branch ?? defaultBranch({ id: task.id, ticketRef: context.ticketRef, executionMode: mode });
    return { requireSkill, mode, skill, branch };
  }

  /** Where the sandbox gets the repository from; a string is why it could not be readied. */
  async function prepareRepository(task: ClaimedTask, context: RunContext): Promise<PreparedRepo | string> {
    if (!deps.prepareRepo) return { repoUrl: context.repoUrl };
    // A fetch of a large repository (or one waiting for the mirror's lock) can outlast the lease.
    const beat = setInterval(
      () => void queue.heartbeat(task.id, claimer).catch(() => {}),
      Math.max(200, Math.floor(queue.leaseMs / 3)),
    );
    try {
      return await deps.prepareRepo({
        taskId: task.id,
        projectId: task.project_id,
        repoUrl: context.repoUrl,
        defaultBranch: context.defaultBranch,
      });
    } catch (error) {
      return `the project's repository could not be fetched: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      clearInterval(beat);
    }
  }

  /** Mints the run's token and encodes the worker's environment (src/contracts/worker-env.ts). */
  async function workerEnv(
    task: ClaimedTask,
    context: RunContext,
    plan: RunPlan,
    repo: PreparedRepo,
    sandboxId: string,
    budget: RunBudget | undefined,
  ): Promise<Record<string, string>> {
    const { mode, requireSkill, skill, branch } = plan;
    const token = await deps.mintToken({
      taskId: task.id,
      projectId: task.project_id,
      ticketId: task.ticket_id,
      ttlMs: config.tokenTtlMs,
    });
    return encodeWorkerEnv({
      apiUrl: config.apiUrl,
      token,
      projectId: task.project_id,
      taskId: task.id,
      sandboxId,
      executionMode: mode,
      requiredSkill: requireSkill ? skill : null,
      runtime: config.runtimeName,
      runtimeEnv: {
        ...config.runtimeEnv,
        ...(deps.modelEnv ? deps.modelEnv(config.runtimeName, token) : {}),
      },
      repoUrl: repo.repoUrl,
      baseBranch: context.baseBranch,
      workBranch: branch,
      maxTurns: config.maxTurns,
      specMaxAttempts: config.specMaxAttempts,
      ...(config.verifyMaxAttempts ? { verifyMaxAttempts: config.verifyMaxAttempts } : {}),
      ...(config.verifyTimeoutMs ? { verifyTimeoutMs: config.verifyTimeoutMs } : {}),
      ...(budget ? { budget } : {}),
    });
  }

  /** Creates the sandbox; a string is why the provider could not. */
  async function createSandbox(
    task: ClaimedTask,
    env: Record<string, string>,
    repo: PreparedRepo,
    context: RunContext,
  ): Promise<Sandbox | string> {
    try {
      return await provider.create({
        taskId: task.id,
        env,
        keepOnFailure: config.keepOnFailure,
        ...(repo.cloneFrom ? { cloneFrom: repo.cloneFrom } : {}),
        network: context.network,
      });
    } catch (error) {
      return `the ${provider.name} sandbox could not be created: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  /** The task runs now: its status, its sandbox row, its ticket's state and sandbox.spawned. */
  async function markStarted(task: ClaimedTask, sandbox: Sandbox, sandboxId: string, plan: RunPlan) {
    const { mode, requireSkill, skill, branch } = plan;
    await queue.markRunning(task.id, claimer);
    await changed(task.id);
    await store
      .sandboxCreated({ id: sandboxId, taskId: task.id, provider: provider.name, externalId: sandbox.id })
      .catch((error) => log(`could not record sandbox ${sandboxId}: ${String(error)}`));
    if (requireSkill && task.ticket_id) await store.ticketAnalyzing(task.ticket_id).catch(() => {});
    if (requireSkill)
      log(
        `Spec skill enforcement enabled for task ${task.id} (REQUIRE_SPEC_SKILL=true, SELECTED_SKILL=${skill})`,
      );
    await emit(task, 'sandbox.spawned', {
      sandbox_id: sandboxId,
      provider: provider.name,
      external_id: sandbox.id,
      branch,
      execution_mode: mode,
      runtime: config.runtimeName,
      require_spec_skill: requireSkill,
      ...(requireSkill
        ? {
            message: 'Spec skill enforcement enabled',
            env: { REQUIRE_SPEC_SKILL: 'true', SELECTED_SKILL: skill },
          }
        : {}),
    });
  }

  /** Renews the lease a third of it apart; a lost claim (cancelled, or reaped) stops the sandbox. */
  function startHeartbeat(run: ActiveRun, sandbox: Sandbox): NodeJS.Timeout {
    const { task } = run;
    return setInterval(
      () => {
        queue.heartbeat(task.id, claimer).then(
          (held) => {
            if (!held && !run.stopping) {
              run.stopping = 'lease-lost';
              log(`task ${task.id} is no longer held by this orchestrator; stopping its sandbox`);
              void sandbox.cancel();
            } else if (held) {
              deps
                .renewToken?.(task.id, config.tokenTtlMs)
                .catch((error) => log(`could not renew the token of task ${task.id}: ${String(error)}`));
            }
          },
          (error) => log(`heartbeat of task ${task.id} failed: ${String(error)}`),
        );
      },
      Math.max(200, Math.floor(queue.leaseMs / 3)),
    );
  }

  /** Streams the worker's lines into sandbox.log events, keeping its outcome line and last stderr. */
  async function followLogs(
    task: ClaimedTask,
    sandbox: Sandbox,
  ): Promise<{ outcome: WorkerOutcome | null; stderrTail: string[] }> {
    let outcome: WorkerOutcome | null = null;
    const stderrTail: string[] = [];
    for await (const line of sandbox.logs()) {
      const reported = parseOutcomeLine(line.text);
      if (reported) {
        outcome = reported;
        continue;
      }
      if (line.stream === 'stderr') {
        stderrTail.push(line.text);
        if (stderrTail.length > 5) stderrTail.shift();
      }
      await emit(task, 'sandbox.log', { stream: line.stream, text: line.text.slice(0, 4000) });
    }
    return { outcome, stderrTail };
  }

  async function finish(
    run: ActiveRun,
    exit: SandboxExit,
    outcome: WorkerOutcome | null,
    stderrTail: string[],
  ): Promise<void> {
    const { task } = run;
    if (run.stopping === 'shutdown') {
      await queue.release(
        task.id,
        claimer,
        record(task, 'task.retrying', { error: 'the server stopped; handed back' }),
      );
      return;
    }
    if (run.stopping === 'cancel' || run.stopping === 'lease-lost') return; // whoever took it reports
    // The agent asked a question: the server parked the task (awaiting_input) when the worker posted
    // it, in the same transaction as the question; nothing is held any more, nothing to record.
    if (parked(outcome)) return;
    if (exit.exitCode === 0 && !exit.error) {
      const result = redactValue({ ...(outcome ?? {}), ok: true });
      if (await queue.complete(task.id, claimer, result, record(task, 'task.completed', result))) {
        // Its dependants may be ready now: claim them at once, not after the sandbox is removed. The
        // completion's NOTIFY wakes every orchestrator listening, this one too.
        if (deps.listen) run.notified = true;
        else wake();
      }
      return;
    }
    if (exit.signal && !exit.error && !outcome) {
      // The worker was killed from outside (OOM killer, kill -9): a crash, so the task may run again.
      const reason = `the worker was killed (${exit.signal})`;
      await queue.retryOrFail(task.id, claimer, reason, (tx, status) =>
        status === 'pending'
          ? record(task, 'task.retrying', { error: reason, attempt: task.attempts })(tx)
          : record(task, 'task.failed', { error: `${reason}; no attempts left` })(tx),
      );
      return;
    }
    // What the worker printed may hold a secret: the stored error and result never do.
    const reason = redact(
      (outcome && !outcome.ok ? outcome.error : undefined) ??
        exit.error ??
        `the worker exited with code ${exit.exitCode}${stderrTail.length ? `: ${stderrTail.join(' | ')}` : ''}`,
    );
    await queue.fail(
      task.id,
      claimer,
      reason,
      outcome ? redactValue(outcome) : undefined,
      record(task, 'task.failed', { error: reason, exit_code: exit.exitCode }),
    );
  }

  return {
    claimer,

    async start(): Promise<void> {
      if (running) return;
      running = true;
      const available = await provider.availability();
      if (!available.available) log(`sandbox provider ${provider.name} is unavailable: ${available.reason}`);
      await reap(config.exclusive);
      // Workspaces a crashed server left in its own data folder: nothing runs yet, and with an
      // exclusive database no other process can own them. (Remote providers' sandboxes may belong
      // to other servers, so only the local provider is swept.)
      if (
        config.exclusive &&
        !config.keepOnFailure &&
        provider.name === 'local' &&
        provider.list &&
        provider.destroyById
      ) {
        const leftovers = await provider.list().catch(() => []);
        for (const id of leftovers) await provider.destroyById(id).catch(() => {});
        if (leftovers.length > 0)
          log(`removed ${leftovers.length} workspace(s) left behind by a previous run`);
      }
      if (deps.listen) unlisten = await deps.listen(TASKS_CHANNEL, () => wake());
      reaperTimer = setInterval(
        () => {
          reap().catch((error) => log(`reaper failed: ${String(error)}`));
        },
        Math.max(500, Math.floor(queue.leaseMs / 2)),
      );
      loopDone = loop();
    },

    /** Wakes the loop now (a task was created in this process). */
    wake,

    /** Stops a running task's sandbox; the caller records the cancellation. */
    async cancel(taskId: string): Promise<boolean> {
      const run = active.get(taskId);
      if (!run) return false;
      run.stopping = 'cancel';
      await run.sandbox?.cancel();
      return true;
    },

    /** Number of sandboxes running now. */
    get activeCount(): number {
      return active.size;
    },

    /** Stops claiming, stops running sandboxes and hands their tasks back, then waits for them. */
    async stop(): Promise<void> {
      if (!running) return;
      running = false;
      wakeUp?.();
      if (reaperTimer) clearInterval(reaperTimer);
      await unlisten?.();
      await loopDone;
      const runs = [...active.values()];
      for (const run of runs) {
        run.stopping = 'shutdown';
        await run.sandbox?.cancel().catch(() => {});
      }
      await Promise.all(runs.map((r) => r.done));
    },
  };
}

export type Orchestrator = ReturnType<typeof createOrchestrator>;
