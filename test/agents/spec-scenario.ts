// A spec-driven scenario shared by the runtime tests: a valid spec set (drafted by the offline
// runtime's drafter), a broken copy of one file, and the worker's own skill text and feedback prompt.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { draftSpecSet, parseRequest } from '../../src/agents/offline.js';
import type { AgentEvent, AgentSession } from '../../src/agents/runtime.js';
import { validateSpecDir } from '../../src/spec-format/index.js';
import { buildFeedbackPrompt } from '../../src/worker/prompt.js';
import { loadSkill } from '../../src/worker/skill.js';
import { type FakeModelServer, type ScriptTurn, startFakeModelServer } from '../support/fake-model-server.js';

export const REQUEST_PROMPT = [
  'Ticket: TKT-042 — Rate limit logins',
  'Task: task-1',
  '',
  '## Request',
  '',
  'Limit failed logins to five per minute per account. Show a clear message when the limit is hit.',
  '',
].join('\n');

/** The skill's first heading: how a test finds the skill text in a recorded system prompt. */
export const SKILL_MARKER = /^# .+$/m.exec(await loadSkill('spec-driven-dev'))![0];

/** The phrase every failed validation report starts with (docs/design.md). */
export const FEEDBACK_MARKER = 'Spec validation FAILED';

/** A spec file's `status:` line, for scripting an exact repair. */
export function statusLine(content: string): string {
  return /^status: .*$/m.exec(content)![0];
}

/** The same file with a status no kind allows: a realistic first-attempt mistake. */
export function breakStatus(content: string): string {
  return content.replace(/^status: .*$/m, 'status: todo');
}

export interface SpecScenario {
  workspace: string;
  skill: string;
  files: { path: string; content: string }[];
  /** The file the first attempt gets wrong, and its broken content. */
  broken: { path: string; content: string };
}

export async function specScenario(): Promise<SpecScenario> {
  const workspace = await mkdtemp(path.join(tmpdir(), 'omoi-agent-ws-'));
  await promisify(execFile)('git', ['init', '-q', workspace]);
  const files = draftSpecSet(parseRequest(REQUEST_PROMPT), '2026-01-15');
  const ticket = files.find((f) => f.path.includes('/tickets/'))!;
  // An enum value the validator rejects: a realistic first-attempt mistake.
  const broken = { path: ticket.path, content: breakStatus(ticket.content) };
  return { workspace, skill: await loadSkill('spec-driven-dev'), files, broken };
}

/** Validates the workspace the way the worker does and returns the feedback text it would send. */
export async function feedbackFor(workspace: string): Promise<{ passed: boolean; feedback: string }> {
  const report = await validateSpecDir(workspace);
  return { passed: report.valid, feedback: buildFeedbackPrompt(report, 1, 3) };
}

export async function collect(
  session: AgentSession,
  prompt: string,
  signal?: AbortSignal,
): Promise<AgentEvent[]> {
  const events: AgentEvent[] = [];
  for await (const event of session.send(prompt, signal)) events.push(event);
  return events;
}

export function resultOf(events: AgentEvent[]): Extract<AgentEvent, { type: 'result' }> {
  const results = events.filter((e) => e.type === 'result');
  if (results.length !== 1 || events.at(-1)?.type !== 'result') {
    throw new Error(`expected exactly one result, last: ${JSON.stringify(events)}`);
  }
  return results[0] as Extract<AgentEvent, { type: 'result' }>;
}

export interface FakeModelFixture {
  /** Set in beforeAll. */
  scenario: SpecScenario;
  /** The current test's fake server, closed after each test. */
  server: FakeModelServer | undefined;
  serve(turns: ScriptTurn[], knownModels?: string[]): Promise<FakeModelServer>;
}

/** Registers the hooks a runtime test file needs: one scenario workspace, one fake server per test. */
export function fakeModelFixture(): FakeModelFixture {
  const fixture: FakeModelFixture = {
    scenario: undefined as unknown as SpecScenario,
    server: undefined,
    async serve(turns, knownModels) {
      fixture.server = await startFakeModelServer({ turns, ...(knownModels ? { knownModels } : {}) });
      return fixture.server;
    },
  };
  beforeAll(async () => {
    fixture.scenario = await specScenario();
  });
  afterAll(async () => {
    await rm(fixture.scenario.workspace, { recursive: true, force: true });
  });
  afterEach(async () => {
    await fixture.server?.close();
    fixture.server = undefined;
  });
  return fixture;
}
