// TEST ONLY: a runtime that follows a JSON script, so end-to-end tests can drive the worker's
// feedback loop (invalid specs first, valid ones later) without a model. It refuses to run
// unless OMOI_TEST_RUNTIME_SCRIPT names a script file.
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { z } from 'zod';
import { AppError } from '../base/errors.js';
import { AWAITING_INPUT, type SessionCheckpoint } from '../contracts/questions.js';
import type { RuntimeEnv } from '../contracts/runtime-env.js';
import { createOfflineRuntime } from './offline.js';
import type { AgentEvent, AgentRuntime, AgentSession, AgentSessionOptions, TurnFeedback } from './runtime.js';

const turnSchema = z.object({
  /** Delegate this turn to the offline runtime (its first send drafts, later ones repair). */
  offline: z.boolean().optional(),
  /** Files to write, path (relative to the workspace) → content. */
  write: z.record(z.string(), z.string()).optional(),
  /** Files to remove. */
  remove: z.array(z.string()).optional(),
  message: z.string().optional(),
  /** Wait this long first (abortable), so tests can act on a worker mid-run. */
  sleepMs: z.number().int().min(0).optional(),
  /** End the turn with `result.ok = false` and this error. */
  fail: z.string().optional(),
  /** Only for sessions in this execution mode (spec runs explore, approved tasks implement). */
  mode: z.enum(['exploration', 'implementation']).optional(),
  /** Only for sessions whose first prompt contains this text (for example a spec task id). */
  match: z.string().optional(),
  /** The turn fails unless its prompt contains this text (proves what reached the agent). */
  expect: z.string().optional(),
  /** The turn fails unless it carries the person's answer as feedback (`kind: 'answer'`) with this text. */
  expectAnswer: z.string().optional(),
  /**
   * After its writes, the turn asks a person: a `question` event and a result AWAITING_INPUT (a
   * failure if the session may not ask). A session resumed from its checkpoint plays the next turn.
   */
  ask: z
    .object({ question: z.string(), options: z.array(z.string()).optional(), why: z.string().optional() })
    .optional(),
});
const scriptSchema = z.object({ turns: z.array(turnSchema).min(1) });
export type RuntimeScript = z.infer<typeof scriptSchema>;

/** Where a scripted session stood: the script turns it plays (indices) and how many it played. */
const checkpointSchema = z.object({
  version: z.literal(1),
  picked: z.array(z.number().int().min(0)),
  turn: z.number().int().min(0),
});

function inside(workspace: string, path: string): string {
  const target = resolve(workspace, path);
  if (relative(workspace, target).startsWith('..')) throw new Error(`path outside the workspace: ${path}`);
  return target;
}

class ScriptedSession implements AgentSession {
  private turn = 0;
  private readonly offline: AgentSession;
  /** The turns this session plays, chosen by mode and by its first prompt. */
  private turns: RuntimeScript['turns'] | null = null;
  /** Indices into the script of `turns`, for the checkpoint. */
  private picked: number[] = [];
  readonly resumed: boolean = false;

  constructor(
    private readonly script: RuntimeScript,
    private readonly options: AgentSessionOptions,
  ) {
    this.offline = createOfflineRuntime().start(options);
    // Resumed: play on after the turn that asked (anything unreadable starts at the first turn).
    const resumed =
      options.resume?.runtime === 'scripted' ? checkpointSchema.safeParse(options.resume.data) : undefined;
    if (resumed?.success && resumed.data.picked.every((i) => i < script.turns.length)) {
      this.picked = resumed.data.picked;
      this.turns = this.picked.map((i) => script.turns[i]!);
      this.turn = resumed.data.turn;
      this.resumed = true;
    }
  }

  /** `{{spec_task_id}}` and `{{task_id}}` in paths and contents become the brief's ids, so one script writes per task. */
  private fill(text: string): string {
    const brief = this.options.brief;
    return text
      .replaceAll('{{spec_task_id}}', brief?.specTaskId ?? brief?.taskId ?? 'task')
      .replaceAll('{{task_id}}', brief?.taskId ?? 'task');
  }

  async *send(prompt: string, signal?: AbortSignal, feedback?: TurnFeedback): AsyncIterable<AgentEvent> {
    // After the last scripted turn, the last turn repeats.
    if (this.turns === null) {
      this.picked = this.script.turns.flatMap((t, i) =>
        (!t.mode || t.mode === this.options.mode) && (!t.match || prompt.includes(t.match)) ? [i] : [],
      );
      this.turns = this.picked.map((i) => this.script.turns[i]!);
    }
    const step = this.turns[Math.min(this.turn, this.turns.length - 1)] ?? {
      fail: 'no scripted turn matches',
    };
    this.turn += 1;
    if (step.expect && !prompt.includes(step.expect)) {
      yield {
        type: 'result',
        ok: false,
        error: `the prompt lacks ${JSON.stringify(step.expect)}`,
        turns: this.turn,
      };
      return;
    }
    if (
      step.expectAnswer !== undefined &&
      !(feedback?.kind === 'answer' && feedback.answer.includes(step.expectAnswer))
    ) {
      yield {
        type: 'result',
        ok: false,
        error: `the turn lacks the answer ${JSON.stringify(step.expectAnswer)}`,
        turns: this.turn,
      };
      return;
    }
    if (step.message) yield { type: 'message', text: step.message };
    if (step.sleepMs) {
      yield { type: 'message', text: `scripted: sleeping ${step.sleepMs} ms` };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, step.sleepMs);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (signal?.aborted) {
        yield { type: 'result', ok: false, error: 'cancelled', turns: this.turn };
        return;
      }
    }
    for (const raw of step.remove ?? []) {
      const path = this.fill(raw);
      await rm(inside(this.options.workspace, path), { force: true });
      yield { type: 'tool_use', name: 'remove_file', input: { path } };
    }
    for (const [raw, content] of Object.entries(step.write ?? {})) {
      const path = this.fill(raw);
      const target = inside(this.options.workspace, path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, this.fill(content));
      yield { type: 'tool_use', name: 'write_file', input: { path } };
    }
    if (step.offline) {
      for await (const event of this.offline.send(prompt, signal, feedback)) {
        if (event.type !== 'result') yield event;
      }
    }
    if (step.ask) {
      if (!this.options.canAsk) {
        yield {
          type: 'result',
          ok: false,
          error: 'the turn asks, but the session may not',
          turns: this.turn,
        };
        return;
      }
      yield { type: 'question', question: step.ask };
      yield { type: 'result', ok: false, error: AWAITING_INPUT, turns: this.turn };
      return;
    }
    yield step.fail
      ? { type: 'result', ok: false, error: step.fail, turns: this.turn }
      : { type: 'result', ok: true, turns: this.turn };
  }

  async checkpoint(): Promise<SessionCheckpoint | null> {
    if (this.turns === null) return null;
    return { runtime: 'scripted', data: { version: 1, picked: this.picked, turn: this.turn } };
  }

  async close(): Promise<void> {
    await this.offline.close();
  }
}

/** Creates the scripted test runtime from OMOI_TEST_RUNTIME_SCRIPT (a JSON file path). */
export function createScriptedRuntime(env: RuntimeEnv): AgentRuntime {
  const file = env.OMOI_TEST_RUNTIME_SCRIPT;
  if (!file) {
    throw new AppError(
      'RUNTIME_UNAVAILABLE',
      'The scripted runtime is for tests and needs OMOI_TEST_RUNTIME_SCRIPT',
    );
  }
  const script = scriptSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  return {
    name: 'scripted',
    label: 'scripted (test only)',
    start: (options) => new ScriptedSession(script, options),
  };
}
