// A run that asks a person (issue 15; the flow is drawn in src/contracts/questions.ts). The worker:
//   - parks: commits what the agent wrote so far as a checkpoint commit and pushes it (the sandbox is
//     about to go), takes the runtime's conversation checkpoint, posts the question — the server
//     parks the task in the same transaction — and ends with an `awaiting_input` outcome;
//   - resumes (a later run of the same task): its clone has the checkpoint commit, so the files
//     stand as they stood when the agent asked; the run's change counts from below it; the answer
//     is the first turn of the restored conversation;
//   - records every answered question of the ticket as a clarification in the requirements
//     document (spec runs with their spec, the integration run for the tasks' questions).
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AgentQuestion, TurnFeedback } from '../agents/runtime.js';
import { deliveryTrailers } from '../contracts/delivery.js';
import {
  AWAITING_INPUT,
  clarificationMarker,
  QUESTION_LIMITS,
  type Question,
  type ResumeBrief,
  type SessionCheckpoint,
} from '../contracts/questions.js';
import type { WorkerOutcome } from '../contracts/worker-outcome.js';
import { commitAll, git, headCommit } from '../git/git.js';
import { message, type RunContext } from './context.js';
import { publish } from './publish.js';

/** The trailer of a checkpoint commit: a resumed run counts its change from below it (`checkpointBase`). */
export const CHECKPOINT_TRAILER = 'Omoi-Checkpoint';

/**
 * Thrown by a turn whose agent asked: the loops (spec, delivery) stop where they are and the run
 * parks. A signal, not a failure; runJob catches it.
 */
export class QuestionAsked extends Error {
  constructor(readonly question: AgentQuestion) {
    super(`the agent asked: ${question.question}`);
    this.name = 'QuestionAsked';
  }
}

/** Whether a turn's result is the agent asking (the runtime sent its `question` event first). */
export function asked(result: { ok: boolean; error?: string }): boolean {
  return !result.ok && result.error === AWAITING_INPUT;
}

/**
 * Parks the run on `question`: checkpoint commit and push (when the agent changed anything), the
 * conversation checkpoint, the question posted. The outcome says `awaiting_input`, not failed.
 */
export async function park(
  ctx: RunContext,
  question: AgentQuestion,
  checkpoint: SessionCheckpoint | null,
): Promise<WorkerOutcome> {
  const { config, task, workspace, log } = ctx;
  const trailers = `${deliveryTrailers(task.delivery?.spec_task_id ?? task.spec_task_id ?? null, task.id, task.delivery?.requirements ?? [])}\n${CHECKPOINT_TRAILER}: awaiting an answer`;
  let branch: string | undefined;
  let commit: string | null = null;
  const before = await headCommit(workspace);
  const { commit: head, committed } = await commitAll({
    cwd: workspace,
    message: `wip: ${task.title} (waiting for an answer)`,
    trailers,
  }).catch((error) => {
    log(`could not commit the work so far: ${message(error)}`);
    return { commit: before, committed: false };
  });
  if (committed && head) {
    // Pushed before the question: once the task is parked its token is gone.
    const pushed = await publish(ctx, 'wip: nothing left to commit', { trailers });
    if (!pushed.ok) return ctx.fail(`could not keep the work done before the question: ${pushed.error}`);
    ({ branch, commit } = pushed);
  }

  const saved = fitting(checkpoint, log);
  try {
    await ctx.api.askQuestion(task.id, {
      question: clip(question.question, QUESTION_LIMITS.question),
      ...(question.options?.length
        ? {
            options: question.options
              .slice(0, QUESTION_LIMITS.options)
              .map((option) => clip(option, QUESTION_LIMITS.option)),
          }
        : {}),
      ...(question.why ? { why: clip(question.why, QUESTION_LIMITS.why) } : {}),
      checkpoint: saved,
    });
  } catch (error) {
    return ctx.fail(
      `the agent asked "${clip(question.question, 200)}" but the question could not be posted: ${message(error)}`,
    );
  }
  log(`waiting for an answer: ${question.question}`);
  return {
    ok: false,
    error: `awaiting input: ${clip(question.question, 500)}`,
    awaiting_input: true,
    ...(branch ? { branch, commit } : {}),
    ...(config.WORK_BRANCH && !branch ? { branch: config.WORK_BRANCH } : {}),
  };
}

/** The checkpoint when it fits the server's limit; else none (the next run starts over, with the answer). */
function fitting(
  checkpoint: SessionCheckpoint | null,
  log: (line: string) => void,
): SessionCheckpoint | null {
  if (!checkpoint) return null;
  const size = JSON.stringify(checkpoint).length;
  if (size <= QUESTION_LIMITS.checkpoint) return checkpoint;
  log(`the conversation (${size} characters) is too large to keep; the answer starts it again`);
  return null;
}

function clip(text: string, max: number): string {
  const trimmed = text.trim();
  return trimmed.length > max ? `${trimmed.slice(0, max - 1)}…` : trimmed;
}

/**
 * Where a resumed run's change starts: below the checkpoint commits at the branch's tip (the work
 * done before each question), so the task's change count and its "no changes" check see that work
 * as part of the run. The commits stay (the remote has them: the run's push goes on top of them,
 * a fast-forward). Undefined when the tip is no checkpoint commit; null when the checkpoints are
 * all the branch has.
 */
export async function checkpointBase(workspace: string): Promise<string | null | undefined> {
  let commit = await headCommit(workspace);
  let found = false;
  while (commit) {
    const body = await git(['log', '-1', '--format=%B', commit], { cwd: workspace }).catch(() => '');
    if (!new RegExp(`^${CHECKPOINT_TRAILER}:`, 'm').test(body)) break;
    found = true;
    commit =
      (await git(['rev-parse', '--verify', '--quiet', `${commit}^`], { cwd: workspace }).catch(() => '')) ||
      null;
  }
  return found ? commit : undefined;
}

/**
 * The first turn of a resumed run. A conversation this runtime restored hears only the answer;
 * one it could not restore (another runtime's, or none kept) starts over with the task and the
 * question and answer in its prompt.
 */
export function answerTurn(
  resume: ResumeBrief,
  restored: boolean,
  prompt: string,
): { prompt: string; feedback: TurnFeedback } {
  const { question, answer } = resume.question;
  const feedback: TurnFeedback = { kind: 'answer', question, answer: answer ?? '' };
  if (restored)
    return {
      prompt: `The person answered your question.\n\nQuestion: ${question}\nAnswer: ${answer ?? ''}\n\nContinue the task with this answer.`,
      feedback,
    };
  return {
    prompt: `${prompt.trimEnd()}\n\n## Clarification\n\nEarlier in this task you asked: ${question}\nThe person answered: ${answer ?? ''}\n`,
    feedback,
  };
}

/** The clarifications section of a requirements document, and where each question goes in it. */
const SECTION = '## Clarifications';

/** One recorded clarification, quoted so nothing in it reads as a heading, an item or a checkbox. */
export function renderClarification(question: Question): string {
  const quote = (text: string) =>
    text
      .trim()
      .split(/\r?\n/)
      .map((line) => (line.trim() === '' ? '>' : `> ${line}`))
      .join('\n');
  const day = (question.answered_at ?? question.asked_at).slice(0, 10);
  const who = question.answered_by ? ` by ${question.answered_by}` : '';
  return [
    clarificationMarker(question.id),
    `**Q** (${question.ticket_ref ?? 'ticket'}, task "${question.task_title}", answered ${day}${who}):`,
    '',
    quote(question.question),
    '',
    '**A**:',
    '',
    quote(question.answer ?? ''),
    '',
  ].join('\n');
}

/**
 * Writes the ticket's answered questions that are not in the spec yet into the `## Clarifications`
 * section of its requirements document (see `requirementsDocument`); a tree without one gets
 * `.omoi_os/docs/clarifications-<ref>.md`, a free-form document. Returns the file written, or null.
 */
export async function recordClarifications(
  workspace: string,
  questions: Question[],
  ticket: { ref: string | null; requirements: string[] },
): Promise<string | null> {
  if (questions.length === 0) return null;
  const target = await requirementsDocument(workspace, ticket.requirements);
  const path =
    target ?? join('.omoi_os', 'docs', `clarifications-${(ticket.ref ?? 'ticket').toLowerCase()}.md`);
  const full = join(workspace, path);
  let text = await readFile(full, 'utf8').catch(() => null);
  if (text === null) {
    await mkdir(dirname(full), { recursive: true });
    text = `# Clarifications${ticket.ref ? ` of ${ticket.ref}` : ''}\n\nQuestions the agents asked while working, and the answers they got.\n`;
  }
  const known = text;
  const missing = questions.filter((q) => q.answer !== null && !known.includes(clarificationMarker(q.id)));
  if (missing.length === 0) return null;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.replace(/\s*$/, '').split(/\r?\n/);
  const entries = missing.flatMap((q) => ['', ...renderClarification(q).trimEnd().split('\n')]);
  const start = lines.findIndex((line) => /^## Clarifications\s*$/.test(line));
  if (start < 0) lines.push('', SECTION, ...entries);
  else {
    // New entries go at the end of the section: before the next heading of level 1 or 2.
    const next = lines.findIndex((line, i) => i > start && /^#{1,2} /.test(line));
    const end = next < 0 ? lines.length : next;
    lines.splice(end, 0, ...entries, ...(next < 0 ? [] : ['']));
  }
  await writeFile(full, `${lines.join(eol)}${eol}`);
  return path;
}

/**
 * The requirements document clarifications go into: the one holding one of the ticket's
 * requirement items, else the one this run changed, else the first by path (null: none).
 */
async function requirementsDocument(workspace: string, requirements: string[]): Promise<string | null> {
  const folder = join('.omoi_os', 'requirements');
  const names = (await readdir(join(workspace, folder)).catch(() => [] as string[]))
    .filter((name) => name.toLowerCase().endsWith('.md') && !/template/i.test(name))
    .sort();
  if (names.length === 0) return null;
  for (const name of names) {
    const text = await readFile(join(workspace, folder, name), 'utf8').catch(() => '');
    if (requirements.some((id) => new RegExp(`^#{3,4} ${id}:`, 'm').test(text))) return join(folder, name);
  }
  const changed = await git(['status', '--porcelain', '--', folder], { cwd: workspace }).catch(() => '');
  for (const name of names) if (changed.includes(`${folder}/${name}`)) return join(folder, name);
  return join(folder, names[0]!);
}
