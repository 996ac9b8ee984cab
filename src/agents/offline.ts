// The `offline` runtime: no model, no network. It drafts a complete spec set from the request by
// rule so the whole pipeline (sandbox, validation, git push, sync) runs on any machine, and it is
// labelled as such wherever it shows. In implementation mode it cannot write code; it writes a
// short plan file and says so.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import type {
  AgentBrief,
  AgentEvent,
  AgentRuntime,
  AgentSession,
  AgentSessionOptions,
  TurnFeedback,
} from './runtime.js';

export const OFFLINE_LABEL = 'offline (no model)';

/** The request: from the worker's structured brief, or read from a prompt by `parseRequest`. */
export interface OfflineRequest {
  ticketRef: string | null;
  title: string;
  description: string;
  /** Task id of an implementation run, used to name the plan file. */
  taskId?: string | null;
}

const STOP_WORDS = new Set(
  'a an and the to of for in on with from into add adds added make let lets allow allows support supports implement create build new use using should would when then that this these those user users able via by is are be it its at as or not our your their'.split(
    ' ',
  ),
);

/**
 * Reads `Ticket: TKT-007 — Title` and the `## Request` section out of a prompt: for callers that
 * give no structured brief (the worker always gives one).
 */
export function parseRequest(prompt: string): OfflineRequest {
  const ticket = /^Ticket:\s*(TKT-[A-Z0-9-]+)\s*(?:[—-]\s*(.*))?$/m.exec(prompt);
  const task = /^Task:\s*(\S+)/m.exec(prompt);
  const request = /^## Request\s*\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(prompt);
  const description = (request?.[1] ?? prompt).trim();
  const title = ticket?.[2]?.trim() || firstSentence(description) || 'Requested feature';
  return { ticketRef: ticket?.[1] ?? null, title, description, taskId: task?.[1] ?? null };
}

function firstSentence(text: string): string {
  const line = text.split(/\n/).find((l) => l.trim() !== '') ?? '';
  return line
    .replace(/^[-*#\s]+/, '')
    .split(/(?<=[.!?])\s/)[0]!
    .trim()
    .slice(0, 80);
}

/**
 * The `<FEATURE>` word: the first meaningful word of the title plus the ticket's number, so that
 * two tickets of one project never produce the same ids (TKT-007 "Rate limit logins" → `RATE007`).
 */
export function featureName(request: OfflineRequest): string {
  const words = `${request.title} ${request.description}`
    .toLowerCase()
    .replace(/[^a-z0-9\s]/g, ' ')
    .split(/\s+/)
    .filter((w) => w.length >= 3 && !STOP_WORDS.has(w) && /^[a-z]/.test(w));
  const word = (words[0] ?? 'feature').toUpperCase().slice(0, 12);
  const number = request.ticketRef ? /(\d+)$/.exec(request.ticketRef)?.[1] : undefined;
  const suffix =
    number ??
    createHash('sha256')
      .update(`${request.title}\n${request.description}`)
      .digest('hex')
      .replace(/[^0-9]/g, '')
      .slice(0, 4)
      .padEnd(3, '0');
  return `${word}${suffix}`;
}

/** Splits the request into statements, one requirement item each (at most five). */
function statements(request: OfflineRequest): string[] {
  const text = request.description || request.title;
  const parts = text
    .split(/\n+|(?<=[.!?;])\s+/)
    .map((s) =>
      s
        .replace(/^\s*(?:[-*+]|\d+[.)])\s+/, '')
        .replace(/[.!?;:,]+$/, '')
        .trim(),
    )
    .filter((s) => s.length >= 3 && !s.startsWith('#'));
  const unique = [...new Set(parts)];
  return (unique.length > 0 ? unique : [request.title]).slice(0, 5);
}

const VERBS =
  /^(add|allow|support|let|make|show|display|store|save|send|validate|reject|accept|return|list|create|delete|remove|update|edit|provide|expose|log|record|notify|limit|export|import|track|enable|disable|handle|compute|generate)\b/i;

/** Phrases a request sentence as an EARS statement (the validator needs `… SHALL …`). */
export function ears(statement: string): string {
  const clean = statement.replace(/\s+/g, ' ').trim();
  const lower = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);
  // "When a report is empty, show an error" → event-driven
  const when = /^(when|if|while|where)\s+([^,]+),\s*(?:then\s+)?(.+)$/i.exec(clean);
  if (when) {
    const [, keyword, condition, response] = when as unknown as [string, string, string, string];
    const body = /\bshall\b/i.test(response) ? response : `THE SYSTEM SHALL ${lower(response)}`;
    return `${keyword.toUpperCase()} ${condition}, ${keyword.toLowerCase() === 'if' ? 'THEN ' : ''}${body}.`;
  }
  // "Users can export reports" → ubiquitous, with the actor kept
  const actor =
    /^((?:the\s+)?(?:users?|admins?|administrators?|customers?|people|visitors?|members?))\s+(?:can|should be able to|must be able to|are able to|may)\s+(.+)$/i.exec(
      clean,
    );
  if (actor) return `THE SYSTEM SHALL let ${lower(actor[1]!)} ${actor[2]}.`;
  if (/\bshall\b/i.test(clean))
    return /^the\s/i.test(clean) ? `${clean}.` : `THE SYSTEM SHALL ${lower(clean)}.`;
  if (VERBS.test(clean)) return `THE SYSTEM SHALL ${lower(clean)}.`;
  return `WHEN the feature is used, THE SYSTEM SHALL satisfy this need: ${clean}.`;
}

function shortTitle(statement: string): string {
  const t = statement.replace(/\s+/g, ' ').replace(/:/g, ' -');
  return t.length > 70 ? `${t.slice(0, 67).trimEnd()}...` : t;
}

/** A frontmatter block rendered by the YAML library (quoting is its business, not ours). */
function frontmatter(fields: Record<string, unknown>): string[] {
  return ['---', stringify(fields, { lineWidth: 0 }).trimEnd(), '---'];
}

export interface SpecFileDraft {
  path: string;
  content: string;
}

/**
 * Drafts a valid spec set for one request: a requirements document, a design, a ticket and three
 * to six tasks with mirrored dependencies. Deterministic for a given request and date, so a rerun
 * of the same ticket rewrites the same files.
 */
export function draftSpecSet(request: OfflineRequest, today: string): SpecFileDraft[] {
  const feature = featureName(request);
  const stem = feature.toLowerCase();
  const items = statements(request);
  const title = request.title.replace(/\s+/g, ' ').trim();
  const reqDocId = `REQ-${feature}-001`;
  const designId = `DESIGN-${feature}-001`;
  const ticketId = `TKT-${feature}-001`;
  const itemIds = items.map((_, i) => `REQ-${feature}-FUNC-${String(i + 1).padStart(3, '0')}`);
  const errorItemId = `REQ-${feature}-ERR-001`;
  const allItemIds = [...itemIds, errorItemId];

  const requirements = [
    ...frontmatter({
      id: reqDocId,
      title: `${title}: requirements`,
      feature,
      status: 'draft',
      created: today,
      updated: today,
      category: 'functional',
      priority: 'MEDIUM',
      design_ref: `designs/${stem}.md`,
    }),
    '',
    `# ${title}: requirements`,
    '',
    `Drafted by the ${OFFLINE_LABEL} runtime from the request; review before approving.`,
    '',
    ...items.flatMap((s, i) => [
      `### ${itemIds[i]}: ${shortTitle(s)}`,
      '',
      ears(s),
      '',
      `- [ ] ${s.replace(/\s+/g, ' ')}`,
      '- [ ] Covered by an automated test',
      '',
    ]),
    `### ${errorItemId}: Clear errors for bad input`,
    '',
    'IF the input of this feature is invalid, THEN THE SYSTEM SHALL reject it with a clear error message and change nothing.',
    '',
    '- [ ] Invalid input is refused with a message that names the problem',
    '- [ ] Nothing is stored for refused input',
    '',
  ].join('\n');

  const design = [
    ...frontmatter({
      id: designId,
      title: `${title}: design`,
      feature,
      status: 'draft',
      created: today,
      updated: today,
      requirements: [reqDocId],
      components: [`${stem}-core`, `${stem}-interface`],
    }),
    '',
    `# ${title}: design`,
    '',
    '## Architecture Overview',
    '',
    `The feature lives in one core module (\`${stem}-core\`) holding the rules, with a thin`,
    `interface layer (\`${stem}-interface\`) that validates input and maps errors. The core takes`,
    'its dependencies as arguments so it is tested without the interface.',
    '',
    '## Requirements covered',
    '',
    ...allItemIds.map((id) => `- ${id}`),
    '',
  ].join('\n');

  // Tasks: a foundation, one implementation task per requirement item (at most three), tests, docs.
  interface TaskDraft {
    title: string;
    type: string;
    objective: string;
    requirements: string[];
    dependsOn: number[];
    criteria: string[];
  }
  const impl = items.slice(0, 3);
  const drafts: TaskDraft[] = [
    {
      title: `Lay out the ${stem} core module and its interfaces`,
      type: 'implementation',
      objective: `Create the \`${stem}-core\` module with the types and function signatures the design names.`,
      requirements: [reqDocId],
      dependsOn: [],
      criteria: ['The module compiles and exports the planned interfaces'],
    },
    ...impl.map<TaskDraft>((s, i) => ({
      title: `Implement: ${shortTitle(s)}`,
      type: 'implementation',
      objective: `Implement ${itemIds[i]}: ${s.replace(/\s+/g, ' ')}.`,
      requirements: [itemIds[i]!, ...(i === 0 ? [errorItemId] : [])],
      dependsOn: [0],
      criteria: [`${itemIds[i]} is met`, 'Bad input gets a clear error'],
    })),
    {
      title: `Test the ${stem} feature end to end`,
      type: 'test',
      objective: 'Write automated tests for every acceptance criterion of the requirements document.',
      requirements: allItemIds,
      dependsOn: impl.map((_, i) => i + 1),
      criteria: ['Every acceptance criterion has a test', 'The tests pass'],
    },
  ];
  if (drafts.length < 6) {
    drafts.push({
      title: `Document the ${stem} feature`,
      type: 'documentation',
      objective: 'Describe the feature for users in the README or the docs folder.',
      requirements: [reqDocId],
      dependsOn: [drafts.length - 1],
      criteria: ['The docs explain how to use the feature'],
    });
  }
  const taskIds = drafts.map((_, i) => `TSK-${feature}-${String(i + 1).padStart(3, '0')}`);
  const blocks = drafts.map((_, i) =>
    drafts.flatMap((d, j) => (d.dependsOn.includes(i) ? [taskIds[j]!] : [])),
  );

  const ticket = [
    ...frontmatter({
      id: ticketId,
      title,
      status: 'backlog',
      priority: 'MEDIUM',
      estimate: 'M',
      created: today,
      updated: today,
      feature,
      design_ref: `designs/${stem}.md`,
      requirements: allItemIds,
      tasks: taskIds,
    }),
    '',
    `# ${title}`,
    '',
    '## Description',
    '',
    (request.description || title).trim(),
    '',
    ...(request.ticketRef ? [`Planned for ${request.ticketRef} by the ${OFFLINE_LABEL} runtime.`, ''] : []),
    '## Acceptance Criteria',
    '',
    ...allItemIds.map((id) => `- [ ] ${id} is met`),
    '',
  ].join('\n');

  const tasks = drafts.map<SpecFileDraft>((d, i) => ({
    path: `.omoi_os/tasks/${taskIds[i]}.md`,
    content: [
      ...frontmatter({
        id: taskIds[i],
        title: d.title,
        status: 'pending',
        parent_ticket: ticketId,
        estimate: 'S',
        created: today,
        updated: today,
        type: d.type,
        requirements: d.requirements,
        dependencies: { depends_on: d.dependsOn.map((j) => taskIds[j]!), blocks: blocks[i]! },
      }),
      '',
      `# ${d.title}`,
      '',
      '## Objective',
      '',
      d.objective,
      '',
      '## Acceptance Criteria',
      '',
      ...d.criteria.map((c) => `- [ ] ${c}`),
      '',
    ].join('\n'),
  }));

  return [
    { path: `.omoi_os/requirements/${stem}.md`, content: requirements },
    { path: `.omoi_os/designs/${stem}.md`, content: design },
    { path: `.omoi_os/tickets/${ticketId}.md`, content: ticket },
    ...tasks,
  ];
}

/** Paths named in a validation report given back as feedback (`path:line: error CODE …`). */
export function pathsInFeedback(feedback: string): string[] {
  const paths = new Set<string>();
  for (const match of feedback.matchAll(/(\.omoi_os\/[^\s:]+\.md)(?::\d+|:null)?:\s*error\b/g))
    paths.add(match[1]!);
  return [...paths];
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** The request of a structured brief (the worker's), in the drafting functions' terms. */
function fromBrief(brief: AgentBrief): OfflineRequest {
  const description = brief.request.trim();
  return {
    ticketRef: brief.ticketRef,
    title: brief.title.trim() || firstSentence(description) || 'Requested feature',
    description,
    taskId: brief.specTaskId ?? brief.taskId,
  };
}

/** The files a feedback turn names: the validation issues' paths (errors), else the prompt's. */
function namedPaths(prompt: string, feedback: TurnFeedback | undefined): string[] {
  if (feedback?.kind !== 'validation') return pathsInFeedback(prompt);
  return [...new Set(feedback.issues.filter((i) => i.level === 'error').map((i) => i.path))];
}

class OfflineSession implements AgentSession {
  private request: OfflineRequest | null = null;
  private turns = 0;

  constructor(private readonly options: AgentSessionOptions) {}

  /** The brief the worker gave, else (callers without one) the request read from the prompt. */
  private requestOf(prompt: string): OfflineRequest {
    return this.options.brief ? fromBrief(this.options.brief) : parseRequest(prompt);
  }

  async *send(prompt: string, signal?: AbortSignal, feedback?: TurnFeedback): AsyncIterable<AgentEvent> {
    this.turns += 1;
    if (signal?.aborted) {
      yield { type: 'result', ok: false, error: 'cancelled', turns: this.turns };
      return;
    }
    try {
      if (this.options.mode === 'implementation') {
        yield* this.plan(this.requestOf(prompt));
      } else if (this.request === null) {
        this.request = this.requestOf(prompt);
        yield { type: 'message', text: `${OFFLINE_LABEL}: drafting a spec set by rule from the request.` };
        yield* this.write(draftSpecSet(this.request, today()));
      } else {
        // Feedback: rewrite every file of ours that the report names. Files we did not write are
        // left alone and said so, since rewriting someone else's spec would lose their content.
        const named = namedPaths(prompt, feedback);
        const drafts = draftSpecSet(this.request, today());
        const ours = drafts.filter((d) => named.includes(d.path));
        const foreign = named.filter((p) => !drafts.some((d) => d.path === p));
        yield {
          type: 'message',
          text: `${OFFLINE_LABEL}: repairing ${ours.length} file(s) the report names${
            foreign.length ? `; cannot repair files it did not write: ${foreign.join(', ')}` : ''
          }.`,
        };
        yield* this.write(ours.length > 0 ? ours : drafts);
      }
      yield { type: 'result', ok: true, turns: this.turns };
    } catch (error) {
      yield {
        type: 'result',
        ok: false,
        error: error instanceof Error ? error.message : String(error),
        turns: this.turns,
      };
    }
  }

  private async *write(files: SpecFileDraft[]): AsyncIterable<AgentEvent> {
    for (const file of files) {
      const target = join(this.options.workspace, file.path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, file.content);
      yield { type: 'tool_use', name: 'write_file', input: { path: file.path } };
    }
  }

  /** Implementation without a model: the plan, in the workspace and as a message; never code. */
  private async *plan(request: OfflineRequest): AsyncIterable<AgentEvent> {
    const path = 'OMOI_PLAN.md';
    const content = [
      `# Plan${request.taskId ? ` for ${request.taskId}` : ''}: ${request.title}`,
      '',
      `Written by the ${OFFLINE_LABEL} runtime, which cannot write code. Configure a model`,
      '(ANTHROPIC_API_KEY, or OPENAI_BASE_URL / OPENAI_API_KEY) for agents that implement.',
      '',
      '## Request',
      '',
      request.description,
      '',
      '## Steps',
      '',
      ...statements(request).map((s, i) => `${i + 1}. ${s}`),
      '',
    ].join('\n');
    await writeFile(join(this.options.workspace, path), content);
    yield { type: 'tool_use', name: 'write_file', input: { path } };
    yield {
      type: 'message',
      text: `${OFFLINE_LABEL}: cannot write code without a model; wrote a plan to ${path} instead.`,
    };
  }

  async close(): Promise<void> {}
}

/**
 * Creates the offline runtime.
 *
 * @example
 * const session = createOfflineRuntime().start({ workspace, systemPrompt, maxTurns: 1, mode: 'exploration' });
 * for await (const event of session.send('Ticket: TKT-001 — Login\n\n## Request\nAdd login.')) console.log(event);
 */
export function createOfflineRuntime(): AgentRuntime {
  return {
    name: 'offline',
    label: OFFLINE_LABEL,
    writesCode: false,
    start: (options) => new OfflineSession(options),
  };
}
