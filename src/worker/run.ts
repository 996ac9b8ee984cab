// What runs inside a sandbox, in named steps: open the runtime, fetch the task, prepare the
// workspace, then either the spec loop (write specs, validate, feed failures back, push, sync) or
// the delivery loop (merge dependencies, implement, verify, push: ./delivery.ts). Every step
// becomes an event, so a person sees why a run failed even before the agent started.
import { join } from 'node:path';
import { createRuntime } from '../agents/registry.js';
import type { AgentEvent, AgentRuntime } from '../agents/runtime.js';
import { deliveryTrailers } from '../contracts/delivery.js';
import type { WorkerConfig } from '../contracts/worker-env.js';
import type { WorkerOutcome as WorkerResult, WorkerSpend } from '../contracts/worker-outcome.js';
import { cloneAndCheckout, isCheckout, setOrigin } from '../git/git.js';
import { loadSpecFiles, validateSpecDir } from '../spec-format/index.js';
import type { ValidationReport } from '../spec-format/types.js';
import type { WorkerApiClient, WorkerTask } from './api-client.js';
import { authEnv, type Emit, message, type RunContext, runTurn } from './context.js';
import { deliver } from './delivery.js';
import { agentBrief, buildFeedbackPrompt, buildUserPrompt } from './prompt.js';
import { publish } from './publish.js';
import { answerTurn, asked, checkpointBase, park, QuestionAsked, recordClarifications } from './questions.js';
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

type Step<T> = { ok: true; value: T } | { ok: false; error: string };

async function runJob(
  config: WorkerConfig,
  deps: WorkerDeps,
  meter: ReturnType<typeof spendMeter>,
): Promise<WorkerResult> {
  const { api, log } = deps;
  const taskId = config.TASK_ID;
  const emit: Emit = async (type, data) => {
    try {
      await api.postEvent(taskId, type, data);
    } catch (error) {
      // The run goes on: the events are a view of it, the exit code is the outcome.
      log(`could not post ${type}: ${message(error)}`);
    }
  };
  const fail: RunContext['fail'] = async (error, evidence) => {
    log(`worker failed: ${error}`);
    await emit('worker.failed', { error });
    return { ...evidence, ok: false, error };
  };

  if (config.REQUIRE_SPEC_SKILL) log('REQUIRE_SPEC_SKILL=true');
  log(`worker started: task ${taskId}, mode ${config.EXECUTION_MODE}, runtime ${config.AGENT_RUNTIME}`);

  const runtime = await openRuntime(config, deps);
  if (!runtime.ok) return fail(runtime.error);
  await emit('worker.started', {
    sandbox_id: config.SANDBOX_ID,
    execution_mode: config.EXECUTION_MODE,
    require_spec_skill: config.REQUIRE_SPEC_SKILL,
    runtime: runtime.value.name,
    runtime_label: runtime.value.label,
  });

  let task: WorkerTask;
  try {
    task = await api.getTask(taskId);
  } catch (error) {
    return fail(`cannot fetch task ${taskId}: ${message(error)}`);
  }

  const workspace = await prepareWorkspace(config, deps);
  if (!workspace.ok) return fail(workspace.error);
  const systemPrompt = await buildSystemPrompt(config, workspace.value, emit, log);
  if (!systemPrompt.ok) return fail(systemPrompt.error);

  // Resuming after a person answered: the clone holds the work from before the question (its
  // checkpoint commit); the runtime restores the conversation when it can read the checkpoint.
  const resume = task.resume ?? null;
  const resumeBase = resume ? await checkpointBase(workspace.value) : undefined;
  const session = runtime.value.start({
    workspace: workspace.value,
    systemPrompt: systemPrompt.value,
    maxTurns: config.MAX_TURNS,
    mode: config.EXECUTION_MODE,
    brief: agentBrief(task, config.EXECUTION_MODE),
    canAsk: true,
    ...(resume?.checkpoint ? { resume: resume.checkpoint } : {}),
    ...(config.OMOI_MODEL ? { model: config.OMOI_MODEL } : {}),
  });
  // The answer goes into the first turn, whichever loop sends it.
  let pendingAnswer = resume;
  const restored = session.resumed === true;
  const ctx: RunContext = {
    config,
    api,
    task,
    workspace: workspace.value,
    runtime: runtime.value,
    log,
    signal: deps.signal,
    emit,
    fail,
    ...(resumeBase !== undefined ? { resumeBase } : {}),
    async turn(prompt, feedback) {
      if (pendingAnswer) {
        ({ prompt, feedback } = answerTurn(pendingAnswer, restored, prompt));
        pendingAnswer = null;
      }
      const result = await runTurn(session, prompt, deps.signal, emit, feedback);
      meter.add(result);
      if (asked(result) && result.question) throw new QuestionAsked(result.question);
      return result;
    },
  };
  try {
    const specRun = config.REQUIRE_SPEC_SKILL || config.EXECUTION_MODE === 'exploration';
    return specRun ? await specLoop(ctx) : await deliver(ctx);
  } catch (error) {
    if (!(error instanceof QuestionAsked)) throw error;
    return park(ctx, error.question, (await session.checkpoint?.()) ?? null);
  } finally {
    await session.close();
  }
}

/** The runtime AGENT_RUNTIME names (tests inject theirs). */
async function openRuntime(config: WorkerConfig, deps: WorkerDeps): Promise<Step<AgentRuntime>> {
  try {
    const create = deps.createRuntime ?? ((name, c) => createRuntime(name, c));
    return { ok: true, value: await create(config.AGENT_RUNTIME, config) };
  } catch (error) {
    return { ok: false, error: `agent runtime ${config.AGENT_RUNTIME} is unavailable: ${message(error)}` };
  }
}

/** The checkout the agent works in: handed over by the local provider, else cloned here. */
async function prepareWorkspace(config: WorkerConfig, deps: WorkerDeps): Promise<Step<string>> {
  try {
    if (await isCheckout(deps.cwd)) {
      // A handed-over checkout's origin names the broker as the server sees it; inside the sandbox
      // the broker may sit at another address (the local sandbox's forwarder): origin is REPO_URL.
      if (config.REPO_URL) await setOrigin(deps.cwd, config.REPO_URL);
      return { ok: true, value: deps.cwd };
    }
    const workspace = join(deps.cwd, 'repo');
    deps.log(`cloning ${config.REPO_URL} into ${workspace}`);
    await cloneAndCheckout({
      repoUrl: config.REPO_URL,
      dir: workspace,
      baseBranch: config.BASE_BRANCH,
      workBranch: config.WORK_BRANCH,
      authEnv: authEnv(config),
    });
    return { ok: true, value: workspace };
  } catch (error) {
    return { ok: false, error: message(error) };
  }
}

/** The system prompt: the workspace, and the skill when spec work is enforced (`skill.injected`). */
async function buildSystemPrompt(
  config: WorkerConfig,
  workspace: string,
  emit: Emit,
  log: (line: string) => void,
): Promise<Step<string>> {
  const base = `You work in the git repository at ${workspace} for the Omoi platform.`;
  if (!config.REQUIRE_SPEC_SKILL) return { ok: true, value: base };
  try {
    const skill = await loadSkill(config.SELECTED_SKILL);
    log(`Skill ${config.SELECTED_SKILL} injected into the system prompt`);
    await emit('skill.injected', { skill: config.SELECTED_SKILL, chars: skill.length });
    return { ok: true, value: `${base}\n\n${skill}` };
  } catch (error) {
    return { ok: false, error: message(error) };
  }
}

/** Writes specs, validates them with the one validator and feeds failures back; then push and sync. */
async function specLoop(ctx: RunContext): Promise<WorkerResult> {
  const { config, task, workspace, log, emit, fail } = ctx;
  let prompt = buildUserPrompt(task, config.EXECUTION_MODE);
  let feedback: Parameters<RunContext['turn']>[1];
  const ref = task.ticket?.ref ?? task.title;
  let report: ValidationReport | null = null;
  for (let attempt = 1; attempt <= config.SPEC_MAX_ATTEMPTS; attempt += 1) {
    const result = await ctx.turn(prompt, feedback);
    if (ctx.signal.aborted || result.error === 'cancelled') return fail('cancelled');
    // The agent itself failed (endpoint down, key refused): validating what it left behind would
    // only hide the reason behind "Spec validation FAILED". Running out of turns is different:
    // what it wrote so far is validated and fed back.
    if (!result.ok && result.error !== 'max_turns')
      return fail(`agent stopped: ${result.error ?? 'unknown reason'}`);
    if (!result.ok) log(`agent ended attempt ${attempt} with: ${result.error}`);
    // Answers the agent got are part of the spec: recorded before the validator reads the tree.
    const recorded = await recordClarifications(workspace, task.clarifications ?? [], {
      ref: task.ticket?.ref ?? null,
      requirements: [],
    });
    if (recorded) log(`clarifications recorded in ${recorded}`);
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
    if (passed) return publishSpecs(ctx, ref, attempt);
    prompt = buildFeedbackPrompt(report, attempt, config.SPEC_MAX_ATTEMPTS);
    feedback = {
      kind: 'validation',
      issues: report.issues
        .filter((i) => i.level === 'error')
        .map(({ path, line, code, message, level }) => ({ path, line, code, message, level })),
    };
  }
  return fail(
    `Spec validation FAILED after ${config.SPEC_MAX_ATTEMPTS} attempts (${report?.summary.errors ?? 0} errors); nothing was pushed or synced`,
  );
}

/** Pushes the valid spec set and syncs it to the API. */
async function publishSpecs(ctx: RunContext, ref: string, attempt: number): Promise<WorkerResult> {
  const { config, task, workspace, api, log, emit, fail } = ctx;
  const published = await publish(ctx, `docs(spec): ${ref} ${task.ticket?.title ?? task.title}`.trim(), {
    paths: ['.omoi_os'],
    trailers: deliveryTrailers(null, task.id, []),
  });
  if (!published.ok) return fail(published.error);
  try {
    const files = await loadSpecFiles(workspace);
    const synced = await api.syncSpecs(config.OMOIOS_PROJECT_ID, files);
    const counts = { created: synced.created, updated: synced.updated, unchanged: synced.unchanged };
    log(`specs synced: ${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged`);
    await emit('spec.synced', counts);
    return { ...published, attempts: attempt, synced: counts };
  } catch (error) {
    return fail(`spec sync failed: ${message(error)}`);
  }
}
