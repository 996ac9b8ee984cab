// The `claude` runtime: the Claude Agent SDK's `query()`, which runs the bundled Claude Code CLI as
// a child process. One AgentSession is one Claude Code session; a second `send` resumes it.
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import {
  type CanUseTool,
  type Options,
  type Query,
  query,
  type SDKMessage,
  type SDKResultMessage,
} from '@anthropic-ai/claude-agent-sdk';
import { z } from 'zod';
import { budgetReachedMessage } from '../contracts/prices.js';
import { AWAITING_INPUT, QUESTION_LIMITS, type SessionCheckpoint } from '../contracts/questions.js';
import type { RuntimeEnv } from '../contracts/runtime-env.js';
import type { RunBudgetEnv } from '../contracts/worker-env.js';
import { checkpointWithin } from './checkpoint.js';
import type {
  AgentEvent,
  AgentQuestion,
  AgentRuntime,
  AgentSession,
  AgentSessionOptions,
} from './runtime.js';
import { EVENT_OUTPUT_CHARS, eventInput, eventText } from './tools/event-text.js';
import { systemEnv } from './tools/system-env.js';

/** Claude Code tools the agent gets: files, search and a shell. Nothing that waits for a person. */
export const CLAUDE_TOOLS = ['Read', 'Write', 'Edit', 'Glob', 'Grep', 'Bash', 'TodoWrite'];
/** Claude Code's question tool, offered only when a person answers (AgentSessionOptions.canAsk). */
export const CLAUDE_QUESTION_TOOL = 'AskUserQuestion';
/** Refused even if a later CLI adds them to a preset: nobody is there to answer, and no web access. */
export const CLAUDE_DISALLOWED_TOOLS = [CLAUDE_QUESTION_TOOL, 'WebFetch', 'WebSearch', 'EnterPlanMode'];
const STDERR_LINES = 20;
/** What the model is told when its question is taken to a person (the CLI may show its own wording). */
const QUESTION_DENIED =
  'Your question was sent to the person who asked for this work; this turn ends here. ' +
  'Their answer comes in the next message.';

/**
 * A Claude Code session as a checkpoint stores it: the session id and the CLI's transcript file
 * (`<config dir>/projects/<project>/<session id>.jsonl`), which another process writes back under
 * its own config dir and workspace path before resuming the session by id.
 */
const ClaudeCheckpointData = z.object({
  version: z.literal(1),
  // It names a file: nothing but the CLI's own id characters.
  session_id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/),
  transcript: z.string().min(1),
});
type ClaudeCheckpointData = z.infer<typeof ClaudeCheckpointData>;

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
  /** The cost a resumed session brought along (an earlier run's, already counted there). */
  private costBefore = 0;
  private current: Query | undefined;
  private closed = false;
  readonly resumed: boolean = false;

  constructor(
    private readonly options: AgentSessionOptions,
    private readonly env: Record<string, string | undefined>,
    private readonly model: string | undefined,
    private readonly executable: string | undefined,
    /** The run's USD budget (BUDGET_USD); token caps are the model broker's to enforce. */
    private readonly budgetUsd: number | undefined,
  ) {
    if (options.resume?.runtime === 'claude') {
      const parsed = ClaudeCheckpointData.safeParse(options.resume.data);
      // Unreadable: a new conversation, whose prompt carries the task and the answer.
      if (parsed.success) this.resumed = this.restore(parsed.data);
    }
  }

  /** Where the CLI child keeps its state: CLAUDE_CONFIG_DIR, else ~/.claude of the HOME it gets. */
  private configDir(): string {
    return this.env.CLAUDE_CONFIG_DIR ?? path.join(this.env.HOME ?? homedir(), '.claude');
  }

  /** The file the CLI resumes the session from, for this workspace. */
  private transcriptPath(sessionId: string): string {
    return path.join(
      this.configDir(),
      'projects',
      claudeProjectDirName(this.options.workspace),
      `${sessionId}.jsonl`,
    );
  }

  /**
   * Puts a checkpoint's transcript where the CLI looks for it. Synchronous, so `resumed` is known
   * when `start` returns (the worker words the first prompt by it); a failure means a new conversation.
   */
  private restore(data: ClaudeCheckpointData): boolean {
    try {
      const file = this.transcriptPath(data.session_id);
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(file, data.transcript, { mode: 0o600 });
    } catch {
      return false;
    }
    this.sessionId = data.session_id;
    // The CLI restores the session's total cost from the transcript and reports on top of it.
    this.costBefore = this.costSoFar = restoredCost(data.transcript);
    return true;
  }

  async *send(prompt: string, signal?: AbortSignal): AsyncIterable<AgentEvent> {
    if (this.closed) {
      yield { type: 'result', ok: false, error: 'session closed', turns: 0 };
      return;
    }
    // The SDK counts its budget per query() call; a resumed session gets what earlier sends left.
    const budgetLeft = this.budgetUsd === undefined ? undefined : this.budgetUsd - this.runCost();
    if (budgetLeft !== undefined && budgetLeft <= 0) {
      const error = budgetReachedMessage('run_usd', 'usd', this.runCost(), this.budgetUsd!);
      yield { type: 'result', ok: false, error, turns: 0 };
      return;
    }
    const abortController = new AbortController();
    const onAbort = () => abortController.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) abortController.abort();

    const stderr: string[] = [];
    const append = this.options.systemPrompt.trim();
    let asked: AgentQuestion | undefined;
    const canUseTool: CanUseTool = async (toolName, input) => {
      if (toolName !== CLAUDE_QUESTION_TOOL) return { behavior: 'allow', updatedInput: input };
      const question = questionFromAskUserQuestion(input);
      if (!question) return { behavior: 'deny', message: 'Ask at least one question, with its text.' };
      asked ??= question;
      // Interrupting ends the query at once: no further model call is made (and paid) while the
      // person thinks; the transcript keeps the call and its refusal for the resumed session.
      return { behavior: 'deny', message: QUESTION_DENIED, interrupt: true };
    };
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
        ...(this.options.canAsk ? askingPermissions(canUseTool) : silentPermissions()),
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
    if (asked) {
      yield { type: 'question', question: eventInput(asked, secrets, Infinity) as AgentQuestion };
      const spent = result ? this.spent(result) : undefined;
      yield { type: 'result', ok: false, error: AWAITING_INPUT, turns: modelCalls.size, ...spent };
      return;
    }
    if (!result) {
      const reason = failure instanceof Error ? failure.message : 'Claude Code ended without a result';
      const tail = stderr.length > 0 ? ` (stderr: ${stderr.slice(-5).join(' | ')})` : '';
      yield { type: 'result', ok: false, error: `${reason}${tail}`, turns: 0 };
      return;
    }
    const { usage, costUsd: cost } = this.spent(result);
    const ok = result.subtype === 'success' && !result.is_error;
    const error = ok
      ? undefined
      : result.subtype === 'error_max_budget_usd' && this.budgetUsd !== undefined
        ? budgetReachedMessage('run_usd', 'usd', this.runCost(), this.budgetUsd)
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

  /** What this run spent: the session's total less what a resumed session brought along. */
  private runCost(): number {
    return this.costSoFar - this.costBefore;
  }

  /** This send's usage and its share of the session's cost (the SDK reports the cost cumulatively). */
  private spent(result: SDKResultMessage): {
    usage: { inputTokens: number; outputTokens: number };
    costUsd: number;
  } {
    const costUsd = Math.max(0, result.total_cost_usd - this.costSoFar);
    this.costSoFar = Math.max(this.costSoFar, result.total_cost_usd);
    const usage = {
      inputTokens:
        result.usage.input_tokens +
        (result.usage.cache_creation_input_tokens ?? 0) +
        (result.usage.cache_read_input_tokens ?? 0),
      outputTokens: result.usage.output_tokens,
    };
    return { usage, costUsd };
  }

  /**
   * The session id and the CLI's transcript file, with the key redacted; null before any session
   * exists, when the file is gone, or when it is longer than the server stores.
   */
  async checkpoint(): Promise<SessionCheckpoint | null> {
    if (!this.sessionId) return null;
    const transcript = await this.readTranscript(this.sessionId);
    if (transcript === null) return null;
    const data: ClaudeCheckpointData = {
      version: 1,
      session_id: this.sessionId,
      transcript: eventText(transcript, [this.env.ANTHROPIC_API_KEY]),
    };
    return checkpointWithin({ runtime: 'claude', data });
  }

  /**
   * The session's transcript: where this workspace's sessions live, else in any project folder of
   * the config dir (the CLI names folders after the path it resolved, which may differ from ours).
   */
  private async readTranscript(sessionId: string): Promise<string | null> {
    const file = `${sessionId}.jsonl`;
    const projects = path.join(this.configDir(), 'projects');
    const candidates = [path.dirname(this.transcriptPath(sessionId))];
    try {
      for (const entry of await readdir(projects, { withFileTypes: true }))
        if (entry.isDirectory()) candidates.push(path.join(projects, entry.name));
    } catch {
      return null;
    }
    for (const folder of candidates) {
      try {
        return await readFile(path.join(folder, file), 'utf8');
      } catch {
        // Not in this folder.
      }
    }
    return null;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.current?.close();
    this.current = undefined;
  }
}

/** The session's total cost as its transcript last recorded it (the CLI's `cost-state` line); 0 if none. */
export function restoredCost(transcript: string): number {
  const lines = transcript.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!line.includes('"cost-state"')) continue;
    try {
      const entry = JSON.parse(line) as { type?: unknown; totalCostUSD?: unknown };
      if (entry.type === 'cost-state' && typeof entry.totalCostUSD === 'number' && entry.totalCostUSD >= 0)
        return entry.totalCostUSD;
    } catch {
      // A line cut short: look further up.
    }
  }
  return 0;
}

/** No question tool, and no permission checks: the sandbox is the boundary and nobody could answer. */
function silentPermissions(): Partial<Options> {
  return {
    tools: CLAUDE_TOOLS,
    allowedTools: CLAUDE_TOOLS,
    disallowedTools: CLAUDE_DISALLOWED_TOOLS,
    permissionMode: 'bypassPermissions',
    allowDangerouslySkipPermissions: true,
  };
}

/**
 * The question tool, caught by the permission callback. Under bypassPermissions (and for bare
 * allowedTools entries) the SDK warns that `canUseTool` is not consulted; CLI 2.1.332 still sends
 * AskUserQuestion to it, but nothing promises that. Mode `default` does consult it, and the
 * callback allows every other call at once: still nothing waits for a person.
 */
function askingPermissions(canUseTool: CanUseTool): Partial<Options> {
  return {
    tools: [...CLAUDE_TOOLS, CLAUDE_QUESTION_TOOL],
    disallowedTools: CLAUDE_DISALLOWED_TOOLS.filter((name) => name !== CLAUDE_QUESTION_TOOL),
    permissionMode: 'default',
    canUseTool,
  };
}

/**
 * The folder of `<config dir>/projects/` in which Claude Code keeps a workspace's sessions: the
 * resolved path with every character but letters and digits turned into `-`, and past 200
 * characters cut and suffixed with a hash of the path (as the CLI names it, so a resumed session is
 * found under another process's workspace path).
 *
 * @example
 * claudeProjectDirName('/tmp/ws-1'); // '-tmp-ws-1'
 */
export function claudeProjectDirName(workspace: string): string {
  let resolved = path.resolve(workspace);
  try {
    resolved = realpathSync(resolved);
  } catch {
    // Not there yet: the CLI would see the same path.
  }
  if (process.platform === 'darwin') resolved = resolved.normalize('NFC');
  const name = resolved.replace(/[^a-zA-Z0-9]/g, '-');
  if (name.length <= 200) return name;
  let hash = 0;
  for (let i = 0; i < resolved.length; i++) hash = ((hash << 5) - hash + resolved.charCodeAt(i)) | 0;
  return `${name.slice(0, 200)}-${Math.abs(hash).toString(36)}`;
}

const AskUserQuestionInput = z.object({
  questions: z
    .array(
      z.object({
        question: z.string(),
        header: z.string().optional(),
        options: z.array(z.object({ label: z.string() })).optional(),
        multiSelect: z.boolean().optional(),
      }),
    )
    .min(1),
});

/**
 * Claude Code's AskUserQuestion input (1–4 questions, each with 2–4 labelled options) as one
 * AgentQuestion within QUESTION_LIMITS. One question keeps its option labels as choices; several
 * become one numbered text with their choices inline (one answer cannot pick for each). Null when
 * there is no question text at all.
 *
 * @example
 * questionFromAskUserQuestion({ questions: [{ question: 'Which DB?', header: 'DB', options: [{ label: 'Postgres', description: '…' }], multiSelect: false }] });
 * // { question: 'Which DB?', options: ['Postgres'] }
 */
export function questionFromAskUserQuestion(input: unknown): AgentQuestion | null {
  const parsed = AskUserQuestionInput.safeParse(input);
  if (!parsed.success) return null;
  const questions = parsed.data.questions
    .filter((q) => q.question.trim() !== '')
    .map((q) => ({
      text: q.question.trim() + (q.multiSelect ? ' (one or more)' : ''),
      labels: (q.options ?? [])
        .map((option) => option.label.trim().slice(0, QUESTION_LIMITS.option))
        .filter((label) => label !== ''),
    }));
  const [only] = questions;
  if (!only) return null;
  if (questions.length === 1) {
    const options = only.labels.slice(0, QUESTION_LIMITS.options);
    return {
      question: only.text.slice(0, QUESTION_LIMITS.question),
      ...(options.length > 0 ? { options } : {}),
    };
  }
  const text = questions
    .map((q, i) => `${i + 1}. ${q.text}${q.labels.length > 0 ? ` (${q.labels.join(' / ')})` : ''}`)
    .join('\n');
  return { question: text.slice(0, QUESTION_LIMITS.question) };
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
        // The question shows as a `question` event once the turn ends, not as a call.
        if (block.name === CLAUDE_QUESTION_TOOL) continue;
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
      if (toolNames.get(block.tool_use_id) === CLAUDE_QUESTION_TOOL) continue;
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
