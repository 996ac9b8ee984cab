// `omoi ticket create … --wait`: follows a ticket's events over SSE and prints one line per step
// until its task completes or fails. Reconnects with Last-Event-ID when the stream drops.

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
    case 'sandbox.log':
      return d.stream === 'system' ? `sandbox: ${oneLine(d.text)}` : null;
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

/**
 * Prints the progress of `taskId` (a task of `ticketId`) until it ends; resolves true when it
 * completed.
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
}): Promise<boolean> {
  const root = options.baseUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
  const doFetch = options.fetch ?? fetch;
  let lastId = 0;
  let failures = 0;
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
        const { value, done } = await reader.read();
        if (done) break;
        const parsed = frames(buffer + value);
        buffer = parsed.rest;
        for (const event of parsed.events) {
          if (event.id <= lastId) continue;
          lastId = event.id;
          if (event.task_id !== options.taskId) continue;
          const line = describeEvent(event);
          const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
          if (line) options.write(`${seconds}s  ${line}`);
          if (event.type === 'task.completed') return true;
          if (event.type === 'task.failed' || event.type === 'task.cancelled') return false;
        }
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  }
}
