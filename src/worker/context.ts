// What every step of a run shares: the configuration, the API, the workspace, the agent's session,
// and the ways to report (events, log) and to end (fail).
import type {
  AgentEvent,
  AgentQuestion,
  AgentRuntime,
  AgentSession,
  TurnFeedback,
} from '../agents/runtime.js';
import type { EventData, WorkerEventType } from '../contracts/events.js';
import type { WorkerConfig } from '../contracts/worker-env.js';
import type { DeliveryEvidence, WorkerOutcome } from '../contracts/worker-outcome.js';
import { brokerAuthEnv } from '../git/git.js';
import type { WorkerApiClient, WorkerTask } from './api-client.js';

export type Emit = <K extends WorkerEventType>(type: K, data: EventData<K>) => Promise<void>;
export type TurnResult = AgentEvent & { type: 'result' };
/** A turn's result, with the question the agent asked when it ended by asking. */
export type AskedTurn = TurnResult & { question?: AgentQuestion };

export interface RunContext {
  config: WorkerConfig;
  api: WorkerApiClient;
  task: WorkerTask;
  workspace: string;
  runtime: AgentRuntime;
  log: (line: string) => void;
  signal: AbortSignal;
  emit: Emit;
  /**
   * A resumed run whose branch ends in checkpoint commits (work done before a question): the commit
   * below them, where the run's change starts (null: they are all the branch has).
   */
  resumeBase?: string | null;
  /** Logs and reports the failure, and returns it as the outcome (with any evidence gathered). */
  fail: (
    error: string,
    evidence?: Partial<DeliveryEvidence> & { branch?: string; commit?: string | null },
  ) => Promise<WorkerOutcome>;
  /**
   * One agent turn, its events posted and its spend counted. A turn whose agent asked a person
   * throws QuestionAsked (src/worker/questions.ts): the run parks instead of going on.
   */
  turn: (prompt: string, feedback?: TurnFeedback) => Promise<TurnResult>;
}

/** The git broker's auth header for this run's clone, fetches and pushes. */
export function authEnv(config: WorkerConfig): Record<string, string> {
  return brokerAuthEnv(config.REPO_URL, config.OMOIOS_API_URL, config.OMOIOS_API_KEY);
}

const MAX_EVENT_TEXT = 4000;

export function clip(text: string): string {
  return text.length > MAX_EVENT_TEXT ? `${text.slice(0, MAX_EVENT_TEXT)}… (${text.length} chars)` : text;
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Sends one turn and posts what the agent does as events; returns the turn's `result`, with the
 * agent's question when it asked one (the server posts that as `agent.question` when it parks).
 */
export async function runTurn(
  session: AgentSession,
  prompt: string,
  signal: AbortSignal,
  emit: Emit,
  feedback?: TurnFeedback,
): Promise<AskedTurn> {
  let result: TurnResult | null = null;
  let question: AgentQuestion | undefined;
  for await (const event of session.send(prompt, signal, feedback)) {
    if (event.type === 'question') question = event.question;
    if (event.type === 'message') await emit('agent.message', { text: clip(event.text) });
    else if (event.type === 'tool_use')
      await emit('agent.tool_use', { name: event.name, input: event.input });
    else if (event.type === 'tool_result' && !event.ok)
      await emit('agent.tool_use', { name: event.name, ok: false, output: clip(event.output) });
    else if (event.type === 'result') result = event;
  }
  const ended = result ?? { type: 'result', ok: false, error: 'the agent ended without a result', turns: 0 };
  return question ? { ...ended, question } : ended;
}
