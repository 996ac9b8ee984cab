// What runs inside a sandbox: fetch the task, inject the skill, run the agent, validate with the one
// validator and feed failures back, then commit, push and sync. Every step becomes an event, so a
// person sees why a run failed even before the agent started.
import { join } from 'node:path';
import { createRuntime } from '../agents/registry.js';
import type { AgentEvent, AgentRuntime, AgentSession } from '../agents/runtime.js';
import type { EventData, WorkerEventType } from '../contracts/events.js';
import type { WorkerConfig } from '../contracts/worker-env.js';
import type { WorkerOutcome as WorkerResult, WorkerSpend } from '../contracts/worker-outcome.js';
import { brokerAuthEnv, cloneAndCheckout, commitAll, isCheckout, pushBranch, setOrigin } from '../git/git.js';
import { loadSpecFiles, validateSpecDir } from '../spec-format/index.js';
import type { ValidationReport } from '../spec-format/types.js';
import type { WorkerApiClient, WorkerTask } from './api-client.js';
import { buildFeedbackPrompt, buildUserPrompt } from './prompt.js';
import { loadSkill } from './skill.js';

export type { WorkerOutcome as WorkerResult, WorkerSpend } from '../contracts/worker-outcome.js';

export interface WorkerDeps {
  api: WorkerApiClient;
  /** The folder the worker starts in: the checkout (local provider) or where to clone. */
  cwd: string;
  /** One line for the sandbox log (stdout). */
  log: (line: string) => void;
  /** Aborted on SIGTERM: the agent stops and the run ends as cancelled. */
  signal: AbortSignal;
  /** Injected by tests; defaults to the registry. */
  createRuntime?: (name: string, config: WorkerConfig) => Promise<AgentRuntime>;
}

const MAX_EVENT_TEXT = 4000;

function clip(text: string): string {
  return text.length > MAX_EVENT_TEXT ? `${text.slice(0, MAX_EVENT_TEXT)}… (${text.length} chars)` : text;
}

/** Sums the usage and cost of every turn's `result`; runtimes that report neither add nothing. */
function spendMeter() {
  let input = 0;
  let output = 0;
  let cost = 0;
  let usage = false;
  let costed = false;
  return {
    add(result: AgentEvent & { type: 'result' }): void {
      if (result.usage) {
        usage = true;
        input += result.usage.inputTokens;
        output += result.usage.outputTokens;
      }
      if (typeof result.costUsd === 'number') {
        costed = true;
        cost += result.costUsd;
      }
    },
    get total(): WorkerSpend {
      return {
        ...(usage ? { usage: { input_tokens: input, output_tokens: output } } : {}),
        // Summed floats: rounded to a millionth of a dollar so 0.1 + 0.2 reads 0.3.
        ...(costed ? { cost_usd: Math.round(cost * 1e6) / 1e6 } : {}),
      };
    },
  };
}

/**
 * Runs the worker's whole job and returns the outcome as a value (only a bug throws). The outcome
 * carries the agent's token usage and cost summed over its turns (`usage`, `cost_usd`), when the
 * runtime reports them, whether the run succeeded or not.
 *
 * @example
 * const result = await runWorker(config, { api, cwd: process.cwd(), log: console.log, signal });
 * process.exitCode = result.ok ? 0 : 1;
 */
export async function runWorker(config: WorkerConfig, deps: WorkerDeps): Promise<WorkerResult> {
  const meter = spendMeter();
  const result = await runJob(config, deps, meter);
  return { ...result, ...meter.total };
}

async function runJob(
  config: WorkerConfig,
  deps: WorkerDeps,
  meter: ReturnType<typeof spendMeter>,
): Promise<WorkerResult> {
  const { api, log } = deps;
  const taskId = config.TASK_ID;
  const emit = async <K extends WorkerEventType>(type: K, data: EventData<K>) => {
    try {
      await api.postEvent(taskId, type, data);
    } catch (error) {
      // The run goes on: the events are a view of it, the exit code is the outcome.
      log(`could not post ${type}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const fail = async (error: string): Promise<WorkerResult> => {
    log(`worker failed: ${error}`);
    await emit('worker.failed', { error });
    return { ok: false, error };
  };

  if (config.REQUIRE_SPEC_SKILL) log('REQUIRE_SPEC_SKILL=true');
  log(`worker started: task ${taskId}, mode ${config.EXECUTION_MODE}, runtime ${config.AGENT_RUNTIME}`);

  let runtime: AgentRuntime;
  try {
    runtime = await (deps.createRuntime ?? ((name, c) => createRuntime(name, c)))(
      config.AGENT_RUNTIME,
      config,
    );
  } catch (error) {
    return fail(`agent runtime ${config.AGENT_RUNTIME} is unavailable: ${message(error)}`);
  }
  await emit('worker.started', {
    sandbox_id: config.SANDBOX_ID,
    execution_mode: config.EXECUTION_MODE,
    require_spec_skill: config.REQUIRE_SPEC_SKILL,
    runtime: runtime.name,
    runtime_label: runtime.label,
  });

  let task: WorkerTask;
  try {
    task = await api.getTask(taskId);
  } catch (error) {
    return fail(`cannot fetch task ${taskId}: ${message(error)}`);
  }

  // The local provider hands over a checkout; remote providers start in an empty folder.
  let workspace = deps.cwd;
  if (!(await isCheckout(workspace))) {
    workspace = join(deps.cwd, 'repo');
    log(`cloning ${config.REPO_URL} into ${workspace}`);
    try {
      await cloneAndCheckout({
        repoUrl: config.REPO_URL,
        dir: workspace,
        baseBranch: config.BASE_BRANCH,
        workBranch: config.WORK_BRANCH,
        authEnv: brokerAuthEnv(config.REPO_URL, config.OMOIOS_API_URL, config.OMOIOS_API_KEY),
      });
    } catch (error) {
      return fail(message(error));
    }
  } else if (config.REPO_URL) {
    // A handed-over checkout's origin names the broker as the server sees it; inside the sandbox
    // the broker may sit at another address (the local sandbox's forwarder): origin is REPO_URL.
    try {
      await setOrigin(workspace, config.REPO_URL);
    } catch (error) {
      return fail(message(error));
    }
  }

  const specRun = config.REQUIRE_SPEC_SKILL || config.EXECUTION_MODE === 'exploration';
  let systemPrompt = `You work in the git repository at ${workspace} for the Omoi platform.`;
  if (config.REQUIRE_SPEC_SKILL) {
    let skill: string;
    try {
      skill = await loadSkill(config.SELECTED_SKILL);
    } catch (error) {
      return fail(message(error));
    }
    systemPrompt = `${systemPrompt}\n\n${skill}`;
    log(`Skill ${config.SELECTED_SKILL} injected into the system prompt`);
    await emit('skill.injected', { skill: config.SELECTED_SKILL, chars: skill.length });
  }

  const session = runtime.start({
    workspace,
    systemPrompt,
    maxTurns: config.MAX_TURNS,
    mode: config.EXECUTION_MODE,
    ...(config.OMOI_MODEL ? { model: config.OMOI_MODEL } : {}),
  });
  try {
    const turn = async (prompt: string): Promise<AgentEvent & { type: 'result' }> => {
      const result = await runTurn(session, prompt, deps.signal, emit);
      meter.add(result);
      return result;
    };

    let prompt = buildUserPrompt(task, config.EXECUTION_MODE);
    const ref = task.ticket?.ref ?? task.title;
    if (!specRun) {
      const result = await turn(prompt);
      if (!result.ok) return fail(`agent stopped: ${result.error ?? 'unknown reason'}`);
      return await publish(config, workspace, `feat: ${task.title}`, [], emit, log);
    }

    let report: ValidationReport | null = null;
    for (let attempt = 1; attempt <= config.SPEC_MAX_ATTEMPTS; attempt += 1) {
      const result = await turn(prompt);
      if (deps.signal.aborted || result.error === 'cancelled') return fail('cancelled');
      // The agent itself failed (endpoint down, key refused): validating what it left behind would
      // only hide the reason behind "Spec validation FAILED". Running out of turns is different:
      // what it wrote so far is validated and fed back.
      if (!result.ok && result.error !== 'max_turns')
        return fail(`agent stopped: ${result.error ?? 'unknown reason'}`);
      if (!result.ok) log(`agent ended attempt ${attempt} with: ${result.error}`);
      report = await validateSpecDir(workspace);
      const passed = report.valid;
      const line = `Spec validation ${passed ? 'PASSED' : 'FAILED'} (attempt ${attempt} of ${config.SPEC_MAX_ATTEMPTS}): ${report.summary.files} files, ${report.summary.errors} errors, ${report.summary.warnings} warnings`;
      log(line);
      await emit('spec.validation', {
        passed,
        attempt,
        max_attempts: config.SPEC_MAX_ATTEMPTS,
        message: line,
        summary: report.summary,
        issues: report.issues.slice(0, 200),
      });
      if (passed) {
        const published = await publish(
          config,
          workspace,
          `docs(spec): ${ref} ${task.ticket?.title ?? task.title}`.trim(),
          ['.omoi_os'],
          emit,
          log,
        );
        if (!published.ok) return published;
        try {
          const files = await loadSpecFiles(workspace);
          const synced = await api.syncSpecs(config.OMOIOS_PROJECT_ID, files);
          const counts = { created: synced.created, updated: synced.updated, unchanged: synced.unchanged };
          log(
            `specs synced: ${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged`,
          );
          await emit('spec.synced', counts);
          return { ...published, attempts: attempt, synced: counts };
        } catch (error) {
          return fail(`spec sync failed: ${message(error)}`);
        }
      }
      prompt = buildFeedbackPrompt(report, attempt, config.SPEC_MAX_ATTEMPTS);
    }
    return fail(
      `Spec validation FAILED after ${config.SPEC_MAX_ATTEMPTS} attempts (${report?.summary.errors ?? 0} errors); nothing was pushed or synced`,
    );
  } finally {
    await session.close();
  }
}

async function runTurn(
  session: AgentSession,
  prompt: string,
  signal: AbortSignal,
  emit: <K extends WorkerEventType>(type: K, data: EventData<K>) => Promise<void>,
): Promise<AgentEvent & { type: 'result' }> {
  let result: (AgentEvent & { type: 'result' }) | null = null;
  for await (const event of session.send(prompt, signal)) {
    if (event.type === 'message') await emit('agent.message', { text: clip(event.text) });
    else if (event.type === 'tool_use')
      await emit('agent.tool_use', { name: event.name, input: event.input });
    else if (event.type === 'tool_result' && !event.ok)
      await emit('agent.tool_use', { name: event.name, ok: false, output: clip(event.output) });
    else if (event.type === 'result') result = event;
  }
  return result ?? { type: 'result', ok: false, error: 'the agent ended without a result', turns: 0 };
}

async function publish(
  config: WorkerConfig,
  workspace: string,
  commitMessage: string,
  paths: string[],
  emit: <K extends WorkerEventType>(type: K, data: EventData<K>) => Promise<void>,
  log: (line: string) => void,
): Promise<WorkerResult> {
  const branch = config.WORK_BRANCH;
  try {
    const { commit, committed } = await commitAll({ cwd: workspace, message: commitMessage, paths });
    if (commit === null) return { ok: false, error: 'nothing to commit on an empty branch' };
    await pushBranch({
      cwd: workspace,
      branch,
      authEnv: brokerAuthEnv(config.REPO_URL, config.OMOIOS_API_URL, config.OMOIOS_API_KEY),
    });
    log(`pushed ${branch} at ${commit}${committed ? '' : ' (no new changes)'}`);
    await emit('git.pushed', { branch, commit, committed });
    return { ok: true, branch, commit };
  } catch (error) {
    const reason = `git push failed: ${message(error)}`;
    log(reason);
    await emit('worker.failed', { error: reason });
    return { ok: false, error: reason };
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
