// An agent's question as its worker asks it, without a model or a sandbox: the task is claimed and
// marked running the way an orchestrator does, and its own worker token posts the question to the
// real server (POST /tasks/:id/question), which parks the task. For suites about answering
// (CLI, MCP, web) that need an open question and no run.
import type { Question } from '../../src/contracts/questions.js';
import type { Services } from '../../src/core/services.js';
import { createQueue } from '../../src/queue/queue.js';

export async function askAsWorker(
  server: { url: string; services: Services },
  taskId: string,
  body: { question: string; options?: string[]; why?: string },
): Promise<Question> {
  const { services } = server;
  const queue = createQueue(services.db, { leaseMs: 60_000, backoffBaseMs: 60_000 });
  const claimed = await queue.claim('test-orchestrator');
  if (claimed?.id !== taskId)
    throw new Error(`claimed ${claimed?.id ?? 'nothing'} instead of ${taskId}: one pending task at a time`);
  await queue.markRunning(taskId, 'test-orchestrator');
  const task = await services.tasks.get(taskId);
  const token = await services.keys.mintWorkerToken({
    taskId,
    projectId: task.project_id,
    ticketId: task.ticket_id ?? '',
    ttlMs: 60_000,
  });
  const response = await fetch(`${server.url}/api/v1/tasks/${taskId}/question`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 201)
    throw new Error(`asking answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Question;
}
