// The `claude` runtime: the Claude Agent SDK's `query()`, which runs the bundled Claude Code CLI as
// a child process. One AgentSession is one Claude Code session; a second `send` resumes it.
import { type Query, query, type SDKMessage, type SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import { budgetReachedMessage } from '../contracts/prices.js';
import type { RuntimeEnv } from '../contracts/runtime-env.js';
import type { RunBudgetEnv } from '../contracts/worker-env.js';
import type { AgentEvent, AgentRuntime, AgentSession, AgentSessionOptions } from './runtime.js';
import { EVENT_OUTPUT_CHARS, eventInput, eventText } from './tools/event-text.js';
import { systemEnv } from './tools/system-env.js';

/** Claude Code tools the agent gets: files, search and a shell. Nothing that waits for a person. */
export const CLAUDE_TOOLS = ['Read', 'Write', 'Edit', 'Glob', 'Grep', 'Bash', 'TodoWrite'];
/** Refused even if a later CLI adds them to a preset: nobody is there to answer, and no web access. */
export const CLAUDE_DISALLOWED_TOOLS = ['AskUserQuestion', 'WebFetch', 'WebSearch', 'EnterPlanMode'];
const STDERR_LINES = 20;

export interface ClaudeRuntimeOptions {
  /**
   * The CLI's retries of one API call (CLAUDE_CODE_MAX_RETRIES). Default: the CLI's own (10, with
   * backoff); tests lower it so a dead endpoint fails fast.
   */
  maxRetries?: number;
  /**
   * PATH, HOME and friends for the CLI child. Defaults to this process's; the CLI gets these plus
   * the Anthropic variables, never the worker's token.
   */
  systemEnv?: Record<string, string | undefined>;
  /** Another Claude Code executable (default: the one bundled with the SDK). */
  pathToClaudeCodeExecutable?: string;
}

/**
 * Creates the `claude` runtime from its variables (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, OMOI_MODEL).
 *
 * @example
 * const runtime = createClaudeRuntime({ ANTHROPIC_API_KEY: key });
 * const session = runtime.start({ workspace, systemPrompt: skillText, maxTurns: 40, mode: 'exploration' });
 * for await (const event of session.send('Plan the feature …')) console.log(event);
 * for await (const event of session.send(validationReport)) console.log(event); // same conversation
 */
export function createClaudeRuntime(
  env: RuntimeEnv & RunBudgetEnv,
  options: ClaudeRuntimeOptions = {},
): AgentRuntime {
  const childEnv: Record<string, string | undefined> = {
    ...(options.systemEnv ?? systemEnv()),
    ANTHROPIC_API_KEY: env.ANTHROPIC_API_KEY,
    ANTHROPIC_BASE_URL: env.ANTHROPIC_BASE_URL,
    // As root the CLI refuses to skip permission prompts unless told it runs in a sandbox, which it does.
    IS_SANDBOX: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_AGENT_SDK_CLIENT_APP: 'omoi',
    CLAUDE_CODE_MAX_RETRIES: options.maxRetries === undefined ? undefined : String(options.maxRetries),
  };
  for (const key of Object.keys(childEnv)) if (childEnv[key] === undefined) delete childEnv[key];
  const model = env.OMOI_MODEL;
  return {
    name: 'claude',
    label: model ? `claude (${model})` : 'claude',
    start: (sessionOptions) =>
      new ClaudeSession(
        sessionOptions,
        childEnv,
        sessionOptions.model ?? model,
        options.pathToClaudeCodeExecutable,
        env.BUDGET_USD,
      ),
  };
}

class ClaudeSession implements AgentSession {
  private sessionId: string | undefined;
  /** The SDK's cost is cumulative over a resumed session; results report each send's share. */
  private costSoFar = 0;
  private current: Query | undefined;
  private closed = false;

  constructor(
    private readonly options: AgentSessionOptions,
    private readonly env: Record<string, string | undefined>,
    private readonly model: string | undefined,
    private readonly executable: string | undefined,
    /** The run's USD budget (BUDGET_USD); token caps are the model broker's to enforce. */
    private readonly budgetUsd: number | undefined,
  ) {}

  async *send(prompt: string, signal?: AbortSignal): AsyncIterable<AgentEvent> {
    if (this.closed) {
      yield { type: 'result', ok: false, error: 'session closed', turns: 0 };
      return;
    }
    // The SDK counts its budget per query() call; a resumed session gets what earlier sends left.
    const budgetLeft = this.budgetUsd === undefined ? undefined : this.budgetUsd - this.costSoFar;
    if (budgetLeft !== undefined && budgetLeft <= 0) {
      const error = budgetReachedMessage('run_usd', 'usd', this.costSoFar, this.budgetUsd!);
      yield { type: 'result', ok: false, error, turns: 0 };
      return;
    }
    const abortController = new AbortController();
    const onAbort = () => abortController.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) abortController.abort();

    const stderr: string[] = [];
    const append = this.options.systemPrompt.trim();
    const run = query({
      prompt,
      options: {
        cwd: this.options.workspace,
        systemPrompt:
          append === ''
            ? { type: 'preset', preset: 'claude_code' }
            : { type: 'preset', preset: 'claude_code', append },
        maxTurns: this.options.maxTurns,
        ...(budgetLeft === undefined ? {} : { maxBudgetUsd: budgetLeft }),
        ...(this.model ? { model: this.model } : {}),
        ...(this.sessionId ? { resume: this.sessionId } : {}),
        tools: CLAUDE_TOOLS,
        allowedTools: CLAUDE_TOOLS,
        disallowedTools: CLAUDE_DISALLOWED_TOOLS,
        // The sandbox is the boundary; inside it nobody could answer a permission prompt.
        permissionMode: 'bypassPermissions',
        allowDangerouslySkipPermissions: true,
        // Never load settings (hooks, MCP servers) from the repository under work or the user folder.
        settingSources: [],
        env: this.env,
        abortController,
        ...(this.executable ? { pathToClaudeCodeExecutable: this.executable } : {}),
        stderr: (data) => {
          stderr.push(...data.split('\n').filter((line) => line.trim() !== ''));
          if (stderr.length > STDERR_LINES) stderr.splice(0, stderr.length - STDERR_LINES);
        },
      },
    });
    this.current = run;

    const toolNames = new Map<string, string>();
    // Model calls of this send. The CLI's num_turns counts differently (tool rounds plus one).
    const modelCalls = new Set<string>();
    const secrets = [this.env.ANTHROPIC_API_KEY];
    let result: SDKResultMessage | undefined;
    let apiError: string | undefined;
    let failure: unknown;
    try {
      for await (const message of run) {
        if ('session_id' in message && typeof message.session_id === 'string')
          this.sessionId = message.session_id;
        if (message.type === 'result') result = message;
        if (message.type === 'assistant' && message.error) apiError = message.error;
        if (message.type === 'assistant' && !message.error && message.parent_tool_use_id === null) {
          modelCalls.add(message.message.id);
        }
        for (const event of toEvents(message, toolNames, secrets)) yield event;
      }
    } catch (error) {
      // The SDK throws after yielding an error result; the result already says what happened.
      failure = error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.current = undefined;
    }

    if (abortController.signal.aborted) {
      yield { type: 'result', ok: false, error: 'cancelled', turns: modelCalls.size };
      return;
    }
    if (!result) {
      const reason = failure instanceof Error ? failure.message : 'Claude Code ended without a result';
      const tail = stderr.length > 0 ? ` (stderr: ${stderr.slice(-5).join(' | ')})` : '';
      yield { type: 'result', ok: false, error: `${reason}${tail}`, turns: 0 };
      return;
    }
    const cost = Math.max(0, result.total_cost_usd - this.costSoFar);
    this.costSoFar = Math.max(this.costSoFar, result.total_cost_usd);
    const usage = {
      inputTokens:
        result.usage.input_tokens +
        (result.usage.cache_creation_input_tokens ?? 0) +
        (result.usage.cache_read_input_tokens ?? 0),
      outputTokens: result.usage.output_tokens,
    };
    const ok = result.subtype === 'success' && !result.is_error;
    const error = ok
      ? undefined
      : result.subtype === 'error_max_budget_usd' && this.budgetUsd !== undefined
        ? budgetReachedMessage('run_usd', 'usd', this.costSoFar, this.budgetUsd)
        : describeResultError(result, apiError);
    yield {
      type: 'result',
      ok,
      ...(error === undefined ? {} : { error }),
      turns: modelCalls.size,
      usage,
      costUsd: cost,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.current?.close();
    this.current = undefined;
  }
}

/** Maps one SDK message to port events: assistant text, tool calls and their results. */
function toEvents(
  message: SDKMessage,
  toolNames: Map<string, string>,
  secrets: (string | undefined)[],
): AgentEvent[] {
  const events: AgentEvent[] = [];
  // Sub-agent chatter (parent_tool_use_id set) is part of a tool call, not the main conversation.
  if (message.type === 'assistant' && message.parent_tool_use_id === null && !message.error) {
    for (const block of message.message.content) {
      if (block.type === 'text' && block.text.trim() !== '')
        events.push({ type: 'message', text: eventText(block.text, secrets) });
      if (block.type === 'tool_use') {
        toolNames.set(block.id, block.name);
        events.push({ type: 'tool_use', name: block.name, input: eventInput(block.input, secrets) });
      }
    }
  }
  if (
    message.type === 'user' &&
    message.parent_tool_use_id === null &&
    Array.isArray(message.message.content)
  ) {
    for (const block of message.message.content) {
      if (typeof block !== 'object' || block === null || block.type !== 'tool_result') continue;
      events.push({
        type: 'tool_result',
        name: toolNames.get(block.tool_use_id) ?? 'tool',
        ok: block.is_error !== true,
        output: eventText(contentText(block.content), secrets, EVENT_OUTPUT_CHARS),
      });
    }
  }
  return events;
}

function describeResultError(result: SDKResultMessage, apiError: string | undefined): string {
  if (result.subtype === 'error_max_turns') return 'max_turns';
  if (result.subtype === 'error_max_budget_usd') return 'the cost budget was reached';
  const detail =
    result.subtype === 'success'
      ? result.result
      : result.errors.length > 0
        ? result.errors.join('; ')
        : result.subtype;
  const kind = apiError && apiError !== 'unknown' ? ` [${apiError}]` : '';
  return `${detail || 'Claude Code reported an error'}${kind}`;
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (part && typeof part === 'object' && 'text' in part ? String(part.text) : ''))
      .join('\n');
  }
  return '';
}
