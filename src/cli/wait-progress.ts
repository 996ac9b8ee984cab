// `omoi ticket create … --wait`: follows a ticket's events over SSE and prints one line per step
// until its task completes or fails. Reconnects with Last-Event-ID when the stream drops. With
// `through` (spec-driven tickets), a completed spec run that the project approves by itself
// (`auto_approve`) is followed on: every task of the ticket, the integration run, then the pull
// request's URL (or the ticket done when the project wants none). A task that asks a question
// ends the wait like an approval does: a person is needed, and the next step says how to answer.

export interface ProgressEvent {
  id: number;
  type: string;
  task_id: string | null;
  data: Record<string, unknown>;
}

function oneLine(text: unknown, max = 140): string {
  const line = String(text ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The line printed for an event, or null for events not worth a line (worker output). */
export function describeEvent(event: ProgressEvent): string | null {
  const d = event.data;
  switch (event.type) {
    case 'task.claimed':
      return `claimed (attempt ${d.attempt ?? 1} of ${d.max_attempts ?? '?'})`;
    case 'sandbox.spawned':
      return `sandbox ${d.provider} started on branch ${d.branch}${d.message ? ` · ${d.message}` : ''}`;
    case 'worker.started':
      return `worker started · runtime ${d.runtime_label ?? d.runtime}`;
    case 'skill.injected':
      return `skill ${d.skill} injected into the agent's system prompt`;
    case 'agent.message':
      return `agent: ${oneLine(d.text)}`;
    case 'agent.tool_use': {
      const input = d.input as { path?: string; command?: string } | undefined;
      return `agent ${d.name}${input?.path ? ` ${input.path}` : input?.command ? ` ${oneLine(input.command, 80)}` : ''}`;
    }
    case 'spec.validation': {
      const issues = Array.isArray(d.issues)
        ? (d.issues as { level?: string; code?: string; path?: string; line?: number }[])
        : [];
      const errors = issues
        .filter((i) => i.level === 'error')
        .slice(0, 5)
        .map((i) => `\n    ${i.path}:${i.line ?? '-'} ${i.code}`)
        .join('');
      return `${oneLine(d.message ?? `Spec validation ${d.passed ? 'PASSED' : 'FAILED'}`)}${errors}`;
    }
    case 'git.pushed':
      return `pushed ${d.branch} at ${String(d.commit ?? '').slice(0, 12)}`;
    case 'spec.synced':
      return `specs synced: ${d.created} created, ${d.updated} updated, ${d.unchanged} unchanged`;
    case 'task.retrying':
      return `retrying: ${oneLine(d.error)}`;
    case 'task.completed':
      return 'completed';
    case 'task.failed':
      return `failed: ${oneLine(d.error, 400)}`;
    case 'task.cancelled':
      return 'cancelled';
    case 'git.merged':
      return `merged ${d.branch}${Array.isArray(d.conflicts) && d.conflicts.length ? ` (conflicts: ${d.conflicts.join(', ')})` : ''}`;
    case 'verify.result':
      return d.unverified
        ? `unverified: ${oneLine(d.unverified)}`
        : `verify \`${d.command}\` ${d.passed ? 'passed' : `failed (exit ${d.exit_code})`} · attempt ${d.attempt} of ${d.max_attempts}`;
    case 'ticket.approved':
      return `approved (${d.by === 'auto' ? 'auto_approve' : 'by a person'}): ${Array.isArray(d.tasks) ? d.tasks.length : '?'} tasks queued`;
    case 'ticket.status_changed':
      return `ticket ${String(d.to).replace(/_/g, ' ')}${d.reason ? `: ${oneLine(d.reason)}` : ''}`;
    case 'pr.opened':
      return `pull request ${d.updated ? 'updated' : 'opened'}: ${d.url}`;
    case 'pr.failed':
      return `pull request failed: ${oneLine(d.error, 400)}`;
    case 'sandbox.log':
      return d.stream === 'system' ? `sandbox: ${oneLine(d.text)}` : null;
    case 'agent.question': {
      const options =
        Array.isArray(d.options) && d.options.length ? `\n    options: ${d.options.join(' | ')}` : '';
      const why = d.why ? `\n    why: ${oneLine(d.why, 400)}` : '';
      const who = d.kind === 'budget' ? 'budget question' : 'the agent asks';
      return `${who}: ${String(d.question ?? '').trim()}${why}${options}\n    (the task waits for your answer)`;
    }
    case 'question.answered':
      return `answered by ${d.by}: ${oneLine(d.answer)}`;
    default:
      return null;
  }
}

/** Parses SSE text into frames; returns the unfinished rest. */
function frames(buffer: string): { events: ProgressEvent[]; rest: string } {
  const events: ProgressEvent[] = [];
  const parts = buffer.split(/\r?\n\r?\n/);
  const rest = parts.pop() ?? '';
  for (const part of parts) {
    const data = part
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trimStart())
      .join('\n');
    if (!data) continue;
    try {
      const parsed = JSON.parse(data) as ProgressEvent;
      if (parsed && typeof parsed.type === 'string') events.push(parsed);
    } catch {
      // not an event frame
    }
  }
  return { events, rest };
}

/** How long a completed spec run waits for its ticket to be approved by `auto_approve`. */
const DECIDE_MS = 15_000;

/** What a followed event means for the wait: go on, or end with success or failure. */
type Step = 'continue' | 'skip' | 'ok' | 'failed';

/**
 * The follower's state machine: the first task; then (with `through`) whether the ticket was
 * approved; then every task of the ticket until its pull request (or its end without one).
 */
function createFollower(taskId: string, through: boolean) {
  let phase: 'task' | 'deciding' | 'delivery' = 'task';
  const labels = new Map<string, string>();
  return {
    get deciding() {
      return phase === 'deciding';
    },
    /** A short name for a task's lines once several run: its spec task id, or "integration". */
    label(event: ProgressEvent): string {
      if (phase !== 'delivery' || !event.task_id || event.task_id === taskId) return '';
      const known = labels.get(event.task_id);
      return known ? `${known}  ` : '';
    },
    step(event: ProgressEvent): Step {
      if (event.type === 'task.created' && event.task_id) {
        const title = String(event.data.title ?? '');
        labels.set(
          event.task_id,
          event.data.task_type === 'integration' ? 'integration' : (title.split(':')[0] ?? title),
        );
      }
      if (phase === 'task') {
        if (event.task_id !== taskId) return 'skip';
        if (event.type === 'task.completed') {
          if (!through) return 'ok';
          phase = 'deciding';
        }
        if (event.type === 'task.failed' || event.type === 'task.cancelled') return 'failed';
        // the task is parked until a person answers: the wait ends, the next step is the answer
        if (event.type === 'agent.question') return 'ok';
        return 'continue';
      }
      if (phase === 'deciding') {
        if (event.type === 'ticket.approved') {
          phase = 'delivery';
          return 'continue';
        }
        // Not approved by the project: a person decides next (the next step says how).
        if (event.type === 'ticket.status_changed') return 'ok';
        return 'skip';
      }
      if (event.type === 'pr.opened') return 'ok';
      if (event.type === 'pr.failed') return 'failed';
      if (event.type === 'agent.question') return 'ok';
      if (event.type === 'ticket.status_changed') {
        if (event.data.to === 'done') return 'ok';
        if (event.data.to === 'blocked') return 'failed';
      }
      return 'continue';
    },
  };
}

/** Reads the next chunk, or reports that `deadline` passed first (the reader is cancelled then). */
async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  deadline: number | null,
): Promise<{ value?: string; done: boolean; late?: boolean }> {
  if (deadline === null) return reader.read();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ done: boolean; late: boolean }>((resolve) => {
    timer = setTimeout(() => resolve({ done: true, late: true }), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([reader.read(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Prints the progress of `taskId` (a task of `ticketId`) until it ends; resolves true when it
 * completed. With `through`, goes on through approval to the pull request (true when it opened, or
 * when the ticket waits for a person's approval). A task that asks a question ends it too (true):
 * the task waits for a person's answer.
 *
 * @example
 * const ok = await followTicket({ baseUrl: 'http://127.0.0.1:7878', ticketId, taskId, write: (l) => console.log(l) });
 */
export async function followTicket(options: {
  baseUrl: string;
  key?: string | undefined;
  ticketId: string;
  taskId: string;
  write: (line: string) => void;
  fetch?: typeof fetch;
  through?: boolean;
}): Promise<boolean> {
  const root = options.baseUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
  const doFetch = options.fetch ?? fetch;
  const follower = createFollower(options.taskId, options.through ?? false);
  let lastId = 0;
  let failures = 0;
  let decideBy: number | null = null;
  const started = Date.now();
  for (;;) {
    let response: Response;
    try {
      response = await doFetch(`${root}/api/v1/events?ticket_id=${encodeURIComponent(options.ticketId)}`, {
        headers: {
          accept: 'text/event-stream',
          'last-event-id': String(lastId),
          ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
        },
      });
      if (!response.ok || !response.body) throw new Error(`the event stream answered ${response.status}`);
    } catch (error) {
      failures += 1;
      if (failures > 10) throw error;
      await new Promise((r) => setTimeout(r, 500 * failures));
      continue;
    }
    failures = 0;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done, late } = await readUntil(reader, decideBy);
        // The spec run completed and nothing approved the ticket: a person decides next.
        if (late) return true;
        if (done) break;
        const parsed = frames(buffer + (value ?? ''));
        buffer = parsed.rest;
        for (const event of parsed.events) {
          if (event.id <= lastId) continue;
          lastId = event.id;
          const step = follower.step(event);
          if (step === 'skip') continue;
          const line = describeEvent(event);
          const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
          if (line) options.write(`${seconds}s  ${follower.label(event)}${line}`);
          if (step === 'ok') return true;
          if (step === 'failed') return false;
          decideBy = follower.deciding ? (decideBy ?? Date.now() + DECIDE_MS) : null;
        }
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  }
}
