import type { SessionCheckpoint } from '../contracts/questions.js';

/**
 * The port every agent runtime implements: `claude` (Claude Agent SDK), `openai` (an
 * OpenAI-compatible chat endpoint with our own tool loop) and `offline` (no model at all).
 * A runtime is chosen by an entry point (`src/agents/registry.ts`) and handed to the worker.
 *
 * @example
 * const session = runtime.start({ workspace, systemPrompt, maxTurns: 40, mode: 'exploration' });
 * for await (const event of session.send('Plan the feature: …', signal)) log(event);
 * // later, feedback goes into the same conversation:
 * for await (const event of session.send(validationReportText, signal)) log(event);
 * await session.close();
 */
export interface AgentRuntime {
  /** Registry name: `claude`, `openai`, `offline`, or a test runtime's name. */
  readonly name: string;
  /** What people see in events and the UI, for example `offline (no model)`. */
  readonly label: string;
  /** False for a runtime that cannot change code (offline): its implementation runs end plan-only. */
  readonly writesCode?: boolean;
  /** Opens a conversation. Nothing runs until the first `send`. */
  start(options: AgentSessionOptions): AgentSession;
}

export interface AgentSessionOptions {
  /** Absolute path of the checked-out repository; every file the agent touches stays inside. */
  workspace: string;
  /** The full system prompt addition: the skill text when spec work is enforced, else task context. */
  systemPrompt: string;
  /** Turn limit for one `send` (from MAX_TURNS). */
  maxTurns: number;
  /** `exploration` writes specs under .omoi_os/; `implementation` changes code. */
  mode: 'exploration' | 'implementation';
  /** Model name where the runtime has one (OMOI_MODEL). */
  model?: string;
  /** The request as data, for runtimes that read it rather than the prompt (the offline runtime). */
  brief?: AgentBrief;
  /**
   * Whether the agent gets a question tool (`ask_user`, Claude's AskUserQuestion). Asking ends the
   * `send` with a `question` event and a `result` whose error is AWAITING_INPUT; the worker then
   * takes `checkpoint()` and parks the task. Default false. The offline runtime never asks.
   */
  canAsk?: boolean;
  /**
   * The conversation to continue (from `checkpoint()` of an earlier process). The first `send`
   * then carries the person's answer to the question the conversation ended on. A runtime given
   * another runtime's checkpoint (or one it cannot read) starts a new conversation instead.
   */
  resume?: SessionCheckpoint;
}

/** What an agent asks a person (its question tool's input). */
export interface AgentQuestion {
  question: string;
  /** Choices it offers; the person may answer in their own words. */
  options?: string[];
  /** What it would otherwise have to guess. */
  why?: string;
}

/** The task a session works on, as the worker knows it: the prompt's content without its wording. */
export interface AgentBrief {
  taskId: string;
  ticketRef: string | null;
  title: string;
  /** The ticket's request (spec runs) or the spec task's context (implementation runs). */
  request: string;
  specTaskId?: string | null;
}

/**
 * Why a later turn is sent, as data beside its prompt: the validation issues to repair, the files of
 * a merge conflict to resolve, or the verify command's failing output.
 */
export type TurnFeedback =
  | {
      kind: 'validation';
      issues: { path: string; line: number | null; code: string; message: string; level: string }[];
    }
  | { kind: 'conflict'; branch: string; files: string[] }
  | { kind: 'verify'; command: string; exit_code: number | null; output_tail: string }
  /** The person's answer to the question the resumed conversation ended on. */
  | { kind: 'answer'; question: string; answer: string };

export interface AgentSession {
  /**
   * Sends one user turn and streams what the agent does until it stops, ending with exactly one
   * `result` event. Never throws for model or tool failures: they end as `result` with `ok: false`.
   * `feedback` says, as data, what the prompt asks (runtimes with a model read the prompt).
   * Aborting `signal` stops the agent and ends the stream with `result` `{ ok: false, error: 'cancelled' }`.
   */
  send(prompt: string, signal?: AbortSignal, feedback?: TurnFeedback): AsyncIterable<AgentEvent>;
  /**
   * The conversation as data after a `send` ended with a question, to resume it in another
   * process (`AgentSessionOptions.resume`); null when this runtime cannot resume (the next run
   * starts over with the answer in its prompt).
   */
  checkpoint?(): Promise<SessionCheckpoint | null>;
  /**
   * True when `start` restored `AgentSessionOptions.resume`: the first `send` then needs only the
   * answer. False or absent: a new conversation, whose first prompt must carry the whole task.
   */
  readonly resumed?: boolean;
  /** Frees whatever the session holds (child processes, sockets). Safe to call twice. */
  close(): Promise<void>;
}

export type AgentEvent =
  | { type: 'message'; text: string }
  | { type: 'tool_use'; name: string; input: unknown }
  | { type: 'tool_result'; name: string; ok: boolean; output: string }
  /** The agent asked a person; the `result` that follows has `ok: false, error: AWAITING_INPUT`. */
  | { type: 'question'; question: AgentQuestion }
  | {
      type: 'result';
      ok: boolean;
      /** Why it stopped when not ok: `cancelled`, `max_turns`, or a readable reason. */
      error?: string;
      turns: number;
      usage?: { inputTokens: number; outputTokens: number };
      costUsd?: number;
    };
