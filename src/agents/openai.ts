// The `openai` runtime: any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama,
// llama.cpp server) driven by our own tool loop, confined to the workspace.
import OpenAI from 'openai';
import type {
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { z } from 'zod';
import { AWAITING_INPUT, type SessionCheckpoint } from '../contracts/questions.js';
/** Used when OMOI_MODEL is not set and the endpoint is OpenAI's own. */
import { DEFAULT_OPENAI_MODEL } from '../contracts/runtime-badge.js';
import type { RuntimeEnv } from '../contracts/runtime-env.js';
import type { RunBudgetEnv } from '../contracts/worker-env.js';
import { checkpointWithin } from './checkpoint.js';
import { RunMeter } from './prices.js';
import type {
  AgentEvent,
  AgentQuestion,
  AgentRuntime,
  AgentSession,
  AgentSessionOptions,
  TurnFeedback,
} from './runtime.js';
import { EVENT_OUTPUT_CHARS, eventInput, eventText } from './tools/event-text.js';
import { systemEnv } from './tools/system-env.js';
import { createWorkspaceTools, type WorkspaceTools } from './tools/workspace-tools.js';

export { DEFAULT_OPENAI_MODEL };

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export interface OpenAiRuntimeOptions {
  /** Retries of one model call on 429, 5xx and connection errors (exponential backoff). Default 4. */
  maxRetries?: number;
  /** Per-request timeout. Default 10 minutes (local models can be slow). */
  requestTimeoutMs?: number;
  /** run_command limits. */
  commandTimeoutMs?: number;
  outputCap?: number;
  /**
   * Environment for commands the model runs. Defaults to this process's PATH, HOME, LANG and TMPDIR
   * only: the worker's token and model keys never reach a model-issued command.
   */
  commandEnv?: Record<string, string | undefined>;
}

const BASE_INSTRUCTIONS = `You are a software engineering agent working inside a git repository (the workspace).
Use the tools to inspect and change files; every path is relative to the workspace root, and nothing outside it
can be read or written. run_command runs a shell command in the workspace root with a timeout.
Work step by step, check your results, and call \`finish\` with a short summary when the work is complete.
If the user sends a validation report, fix exactly the problems it lists and finish again.`;

const MODE_INSTRUCTIONS: Record<AgentSessionOptions['mode'], string> = {
  exploration:
    'This is planning work: write the specification files under .omoi_os/ as instructed; do not change application code.',
  implementation: 'This is implementation work: change the code to complete the task, and run the tests.',
};

/**
 * Creates the `openai` runtime from its variables (OPENAI_BASE_URL, OPENAI_API_KEY, OMOI_MODEL).
 *
 * @example
 * const runtime = createOpenAiRuntime({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1', OMOI_MODEL: 'qwen2.5-coder' });
 * const session = runtime.start({ workspace, systemPrompt: skillText, maxTurns: 40, mode: 'exploration' });
 * for await (const event of session.send('Plan the feature …')) console.log(event);
 */
export function createOpenAiRuntime(
  env: RuntimeEnv & RunBudgetEnv,
  options: OpenAiRuntimeOptions = {},
): AgentRuntime {
  const baseURL = (env.OPENAI_BASE_URL ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const model = env.OMOI_MODEL ?? DEFAULT_OPENAI_MODEL;
  const client = new OpenAI({
    baseURL,
    // Local servers accept any key; the client insists on one.
    apiKey: env.OPENAI_API_KEY ?? 'not-needed',
    maxRetries: options.maxRetries ?? 4,
    timeout: options.requestTimeoutMs ?? 600_000,
  });
  const commandEnvironment = options.commandEnv ?? systemEnv();
  return {
    name: 'openai',
    label: `openai (${model})`,
    start: (sessionOptions) =>
      new OpenAiSession(
        client,
        baseURL,
        sessionOptions,
        sessionOptions.model ?? model,
        [env.OPENAI_API_KEY],
        RunMeter.fromEnv(env, sessionOptions.model ?? model),
        {
          commandTimeoutMs: options.commandTimeoutMs,
          outputCap: options.outputCap,
          env: commandEnvironment,
        },
      ),
  };
}

interface TurnResponse {
  text: string;
  toolCalls: ChatCompletionMessageFunctionToolCall[];
  finishReason: string | null;
  usage?: { prompt_tokens: number; completion_tokens: number };
}

/**
 * The conversation as a checkpoint stores it: every message (the system message first) and the id of
 * the `ask_user` call the conversation ended on, which the first send after a resume answers.
 */
const OpenAiCheckpointData = z.object({
  version: z.literal(1),
  messages: z
    .array(z.looseObject({ role: z.enum(['system', 'user', 'assistant', 'tool']) }))
    .min(1)
    .refine((messages) => messages[0]?.role === 'system', 'the first message is the system message'),
  pending_call_id: z.string().min(1).nullable(),
});
type OpenAiCheckpointData = z.infer<typeof OpenAiCheckpointData>;

/** The stored conversation, if the checkpoint is this runtime's and still makes sense; else null. */
function readCheckpoint(checkpoint: SessionCheckpoint | undefined): OpenAiCheckpointData | null {
  if (checkpoint?.runtime !== 'openai') return null;
  const parsed = OpenAiCheckpointData.safeParse(checkpoint.data);
  if (!parsed.success) return null;
  const { messages, pending_call_id: pending } = parsed.data;
  if (pending === null) return parsed.data;
  // The pending call must be one the last assistant message made, or the endpoint rejects the history.
  const last = messages.findLast((message) => message.role === 'assistant') as
    | { tool_calls?: { id?: unknown }[] }
    | undefined;
  return last?.tool_calls?.some((call) => call.id === pending) ? parsed.data : null;
}

class OpenAiSession implements AgentSession {
  private readonly messages: ChatCompletionMessageParam[];
  private readonly tools: WorkspaceTools;
  /** The `ask_user` call the last send ended on: the next send answers it. */
  private pendingCallId: string | null = null;
  readonly resumed: boolean = false;
  private closed = false;

  constructor(
    private readonly client: OpenAI,
    private readonly baseURL: string,
    private readonly options: AgentSessionOptions,
    private readonly model: string,
    private readonly secrets: (string | undefined)[],
    /** Spend of the whole session (every send): the run's budget stops it before the next call. */
    private readonly meter: RunMeter,
    toolOptions: Parameters<typeof createWorkspaceTools>[1],
  ) {
    const system = [BASE_INSTRUCTIONS, MODE_INSTRUCTIONS[options.mode], options.systemPrompt.trim()]
      .filter((part) => part !== '')
      .join('\n\n');
    this.messages = [{ role: 'system', content: system }];
    // A resumed conversation runs under this run's system message (the same worker builds the same
    // one); the rest is restored as it was. Anything unreadable starts over: the prompt has the answer.
    const restored = readCheckpoint(options.resume);
    if (restored) {
      this.messages.push(...(restored.messages.slice(1) as unknown as ChatCompletionMessageParam[]));
      this.pendingCallId = restored.pending_call_id;
      this.resumed = true;
    }
    this.tools = createWorkspaceTools(options.workspace, { ...toolOptions, canAsk: options.canAsk === true });
  }

  async *send(prompt: string, signal?: AbortSignal, feedback?: TurnFeedback): AsyncIterable<AgentEvent> {
    if (this.closed) {
      yield { type: 'result', ok: false, error: 'session closed', turns: 0 };
      return;
    }
    if (this.pendingCallId !== null) {
      // The person's answer is the result of the ask_user call the conversation ended on.
      const answer = feedback?.kind === 'answer' ? feedback.answer : prompt;
      this.messages.push({ role: 'tool', tool_call_id: this.pendingCallId, content: answer });
      this.pendingCallId = null;
    } else {
      this.messages.push({ role: 'user', content: prompt });
    }
    const usage = { inputTokens: 0, outputTokens: 0 };
    let turns = 0;
    const end = (ok: boolean, error?: string): AgentEvent => ({
      type: 'result',
      ok,
      ...(error === undefined ? {} : { error }),
      turns,
      usage,
      ...(this.meter.priced ? { costUsd: this.meter.usdOf(usage.inputTokens, usage.outputTokens) } : {}),
    });

    while (turns < this.options.maxTurns) {
      if (signal?.aborted) return yield end(false, 'cancelled');
      const reached = this.meter.reached();
      if (reached) return yield end(false, reached);
      turns++;
      let response: TurnResponse;
      try {
        response = await this.complete(signal);
      } catch (error) {
        return yield end(
          false,
          signal?.aborted ? 'cancelled' : describeFailure(error, this.baseURL, this.model),
        );
      }
      usage.inputTokens += response.usage?.prompt_tokens ?? 0;
      usage.outputTokens += response.usage?.completion_tokens ?? 0;
      this.meter.add(response.usage?.prompt_tokens ?? 0, response.usage?.completion_tokens ?? 0);

      this.messages.push({
        role: 'assistant',
        content: response.text === '' ? null : response.text,
        ...(response.toolCalls.length > 0 ? { tool_calls: response.toolCalls } : {}),
      });
      if (response.text.trim() !== '')
        yield { type: 'message', text: eventText(response.text, this.secrets) };
      if (response.toolCalls.length === 0) {
        // A reply cut by the output limit is not an answer.
        if (response.finishReason === 'length')
          return yield end(false, 'the model hit its output token limit');
        return yield end(true);
      }

      let finished: string | undefined;
      let asked: { callId: string; question: AgentQuestion } | undefined;
      for (const call of response.toolCalls) {
        // Every tool call gets an answer, also after a cancel, so the conversation stays valid.
        if (signal?.aborted || finished !== undefined) {
          this.messages.push({ role: 'tool', tool_call_id: call.id, content: 'Not run: the turn ended.' });
          continue;
        }
        const { name, arguments: rawArguments } = call.function;
        const use: AgentEvent = {
          type: 'tool_use',
          name,
          input: eventInput(parseOrRaw(rawArguments), this.secrets),
        };
        // A question shows as its own event; any other call shows before it runs (it may take long).
        const asking = name === 'ask_user' && this.options.canAsk === true;
        if (!asking) yield use;
        const outcome = await this.tools.execute(name, rawArguments, signal);
        if (outcome.asked && asked === undefined) {
          // Left unanswered on purpose: the person's reply becomes its result (see the next send).
          asked = { callId: call.id, question: outcome.asked };
          continue;
        }
        // A malformed question, or a second one, is answered like any failed call.
        if (asking) yield use;
        const output = outcome.asked
          ? 'Not asked: one question at a time. Ask it again after the answer if it still matters.'
          : outcome.output;
        this.messages.push({ role: 'tool', tool_call_id: call.id, content: output });
        yield {
          type: 'tool_result',
          name,
          ok: outcome.ok && !outcome.asked,
          output: eventText(output, this.secrets, EVENT_OUTPUT_CHARS),
        };
        if (outcome.finished) finished = outcome.finished.summary;
      }
      if (asked !== undefined && (signal?.aborted || finished !== undefined)) {
        // A cancel (or a finish in the same reply) wins over the question; the call still gets its answer.
        this.messages.push({ role: 'tool', tool_call_id: asked.callId, content: 'Not run: the turn ended.' });
        asked = undefined;
      }
      if (signal?.aborted) return yield end(false, 'cancelled');
      if (asked !== undefined) {
        this.pendingCallId = asked.callId;
        yield {
          type: 'question',
          question: eventInput(asked.question, this.secrets, Infinity) as AgentQuestion,
        };
        return yield end(false, AWAITING_INPUT);
      }
      if (finished !== undefined) {
        if (finished.trim() !== '') yield { type: 'message', text: eventText(finished, this.secrets) };
        return yield end(true);
      }
    }
    yield end(false, 'max_turns');
  }

  /**
   * One model call, streamed. A stream that breaks off (a proxy cutting it, a server bug) is tried
   * once more without streaming before giving up; 429/5xx/connection errors are retried with
   * backoff by the client itself.
   */
  private async complete(outer?: AbortSignal): Promise<TurnResponse> {
    // The client adds an abort listener per attempt and keeps it; a run-long signal would collect
    // dozens. Each call gets its own short-lived signal, linked to the caller's.
    const controller = new AbortController();
    const relay = () => controller.abort();
    outer?.addEventListener('abort', relay, { once: true });
    if (outer?.aborted) controller.abort();
    const signal = controller.signal;
    try {
      return await this.completeStreamed(signal);
    } catch (error) {
      if (!(error instanceof BrokenStreamError) || signal.aborted) throw error;
      return await this.completePlain(signal);
    } finally {
      outer?.removeEventListener('abort', relay);
    }
  }

  private async completeStreamed(signal?: AbortSignal): Promise<TurnResponse> {
    const stream = await this.client.chat.completions.create(
      {
        model: this.model,
        messages: this.messages,
        tools: this.tools.definitions,
        stream: true,
        stream_options: { include_usage: true },
      },
      { signal },
    );
    let text = '';
    let finishReason: string | null = null;
    let usage: TurnResponse['usage'];
    const calls: { id: string; name: string; arguments: string }[] = [];
    try {
      for await (const chunk of stream) {
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices?.[0];
        if (!choice) continue;
        if (choice.finish_reason) finishReason = choice.finish_reason;
        if (choice.delta?.content) text += choice.delta.content;
        for (const delta of choice.delta?.tool_calls ?? []) {
          // Some local servers (older Ollama) send each call whole, with no index: a new id is a new call.
          const index = (delta.index as number | undefined) ?? (delta.id ? calls.length : calls.length - 1);
          calls[index] ??= { id: '', name: '', arguments: '' };
          const call = calls[index]!;
          if (delta.id) call.id = delta.id;
          if (delta.function?.name) call.name += delta.function.name;
          if (delta.function?.arguments) call.arguments += delta.function.arguments;
        }
      }
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new BrokenStreamError(error);
    }
    if (finishReason === null)
      throw new BrokenStreamError(new Error('the stream ended without a finish reason'));
    return {
      text,
      toolCalls: calls
        .filter((call) => call !== undefined)
        .map((call, index) => ({
          id: call.id || `call_${index}`,
          type: 'function' as const,
          function: { name: call.name, arguments: call.arguments },
        })),
      finishReason,
      usage,
    };
  }

  private async completePlain(signal?: AbortSignal): Promise<TurnResponse> {
    const completion = await this.client.chat.completions.create(
      { model: this.model, messages: this.messages, tools: this.tools.definitions, stream: false },
      { signal },
    );
    const choice = completion.choices[0];
    if (!choice) throw new Error('the endpoint returned no choices');
    return {
      text: choice.message.content ?? '',
      toolCalls: (choice.message.tool_calls ?? []).filter(
        (call): call is ChatCompletionMessageFunctionToolCall => call.type === 'function',
      ),
      finishReason: choice.finish_reason,
      usage: completion.usage,
    };
  }

  /**
   * The whole transcript (system message included) and the pending `ask_user` call, with the
   * runtime's key redacted; null when it would exceed what the server stores (the next run then
   * starts over with the answer in its prompt).
   */
  async checkpoint(): Promise<SessionCheckpoint | null> {
    const data: OpenAiCheckpointData = {
      version: 1,
      messages: eventInput(this.messages, this.secrets, Infinity) as OpenAiCheckpointData['messages'],
      pending_call_id: this.pendingCallId,
    };
    return checkpointWithin({ runtime: 'openai', data });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

class BrokenStreamError extends Error {
  constructor(cause: unknown) {
    super(`the response stream broke off: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

function parseOrRaw(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return { raw };
  }
}

/** Turns a client error into a sentence a person can act on. */
export function describeFailure(error: unknown, baseURL: string, model: string): string {
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return `The model endpoint ${baseURL} did not answer in time`;
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return `Cannot reach the model endpoint ${baseURL} (${rootCause(error)}); is the server running?`;
  }
  if (error instanceof OpenAI.NotFoundError) {
    return `The model "${model}" was not found at ${baseURL} (HTTP 404: ${apiMessage(error)}); set OMOI_MODEL to a model it serves`;
  }
  if (error instanceof OpenAI.AuthenticationError || error instanceof OpenAI.PermissionDeniedError) {
    return `The model endpoint ${baseURL} refused the API key (HTTP ${error.status}); check OPENAI_API_KEY`;
  }
  if (error instanceof OpenAI.RateLimitError) {
    return `The model endpoint ${baseURL} is still rate limiting after retries (HTTP 429: ${apiMessage(error)})`;
  }
  if (error instanceof OpenAI.APIError && error.status !== undefined) {
    return `The model endpoint ${baseURL} failed (HTTP ${error.status}: ${apiMessage(error)})`;
  }
  if (error instanceof BrokenStreamError)
    return `The model endpoint ${baseURL} sent a broken response: ${error.message}`;
  return `Model call failed: ${error instanceof Error ? error.message : String(error)}`;
}

function apiMessage(error: InstanceType<typeof OpenAI.APIError>): string {
  const body = error.error as { message?: unknown } | undefined;
  return typeof body?.message === 'string' ? body.message : error.message;
}

function rootCause(error: Error): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  const code = (current as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (current instanceof Error ? current.message : String(current));
}
