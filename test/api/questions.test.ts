// The question inbox through the API on a real database: a worker parks its own running task, the
// task leaves the queue's hands (no claim, no lease, not claimable), a person answers, the task is
// claimable again and its worker gets the conversation to resume; every step refused where it must.
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createQueue } from '../../src/queue/queue.js';
import { describeEachDatabase } from '../support/db.js';
import { makeApi, TEST_REPO, type TestApi, uniqueName } from './support.js';

describeEachDatabase('question inbox', (getDb) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await makeApi(getDb());
  });
  afterAll(() => api?.close());
  // One claimable task at a time.
  beforeEach(async () => {
    await getDb().query(`UPDATE tasks SET status = 'cancelled' WHERE status = 'pending'`);
  });

  /** A spec-driven ticket whose run is claimed by `claimer`, with the worker token the orchestrator mints. */
  async function running(claimer = 'orch-1') {
    const project = await api.services.projects.create({ name: uniqueName('ask'), repo_url: TEST_REPO });
    const { ticket, task } = await api.services.tickets.create({
      project_id: project.id,
      description: 'Add sessions',
      workflow_mode: 'spec_driven',
    });
    const queue = createQueue(getDb(), { leaseMs: 60_000, backoffBaseMs: 60_000 });
    const claim = await queue.claim(claimer);
    expect(claim?.id).toBe(task.id);
    await queue.markRunning(task.id, claimer);
    const token = await api.services.keys.mintWorkerToken({
      taskId: task.id,
      projectId: project.id,
      ticketId: ticket.id,
      ttlMs: 60_000,
    });
    const asWorker = { authorization: `Bearer ${token}` };
    return { project, ticket, task, queue, token, asWorker, claimer };
  }

  it('a worker parks its task on a question; a person answers; the task resumes with its checkpoint', async () => {
    const run = await running();
    const before = await api.services.tasks.get(run.task.id);
    const checkpoint = {
      runtime: 'openai',
      // A tool printed the worker's own token: it must not be stored.
      data: { version: 1, messages: [{ role: 'tool', content: `env: ${run.token}` }], pending_call_id: 'c1' },
    };
    const asked = await api.request(
      'POST',
      `/api/v1/tasks/${run.task.id}/question`,
      {
        question: 'Which database should sessions use?',
        options: ['PostgreSQL', 'Redis'],
        why: 'the request names none',
        checkpoint,
      },
      run.asWorker,
    );
    expect(asked.status).toBe(201);
    expect(asked.body).toMatchObject({
      task_id: run.task.id,
      ticket_ref: run.ticket.ref,
      kind: 'agent',
      status: 'open',
      options: ['PostgreSQL', 'Redis'],
      answer: null,
    });

    // Parked: no claim, no lease, the attempt not used up, not claimable, the claim's heartbeat fails.
    const parked = await api.services.tasks.get(run.task.id);
    expect(parked).toMatchObject({ status: 'awaiting_input', claimed_by: null, lease_until: null });
    expect(parked.attempts).toBe(before.attempts - 1);
    expect(await run.queue.heartbeat(run.task.id, run.claimer)).toBe(false);
    expect(await run.queue.claim('orch-2')).toBeNull();
    const events = await api.services.events.list({ task_id: run.task.id }, 0, 100);
    expect(events.find((e) => e.type === 'agent.question')?.data).toEqual({
      question_id: asked.body.id,
      kind: 'agent',
      question: 'Which database should sessions use?',
      options: ['PostgreSQL', 'Redis'],
      why: 'the request names none',
    });

    // The run's token died with its claim: asking again is refused before any route runs.
    const again = await api.request(
      'POST',
      `/api/v1/tasks/${run.task.id}/question`,
      { question: 'And the TTL?' },
      run.asWorker,
    );
    expect(again.status).toBe(401);

    // The inbox, the ticket's list and its detail all show the open question.
    const inbox = await api.request('GET', `/api/v1/questions?status=open&project_id=${run.project.id}`);
    expect(inbox.status).toBe(200);
    expect(inbox.body.questions.map((q: { id: string }) => q.id)).toEqual([asked.body.id]);
    expect(inbox.body.questions[0].task_title).toBe(run.task.title);
    const list = await api.request(
      'GET',
      `/api/v1/tickets/${run.ticket.ref}/questions?project_id=${run.project.id}`,
    );
    expect(list.body.questions).toHaveLength(1);
    const detail = await api.request('GET', `/api/v1/tickets/${run.ticket.id}`);
    expect(detail.body.questions[0]).toMatchObject({ id: asked.body.id, status: 'open' });
    expect(detail.body.status).toBe('analyzing');

    // Bad answers lose nothing.
    const empty = await api.request('POST', `/api/v1/tasks/${run.task.id}/answer`, { answer: '   ' });
    expect(empty.status).toBe(400);
    const unknownField = await api.request('POST', `/api/v1/tasks/${run.task.id}/answer`, {
      answer: 'x',
      extra: 1,
    });
    expect(unknownField.status).toBe(400);
    const nobody = await api.request('POST', '/api/v1/tasks/00000000-0000-4000-8000-000000000000/answer', {
      answer: 'x',
    });
    expect(nobody.status).toBe(404);
    expect((await api.services.tasks.get(run.task.id)).status).toBe('awaiting_input');

    const answered = await api.request('POST', `/api/v1/tasks/${run.task.id}/answer`, {
      answer: 'PostgreSQL',
    });
    expect(answered.status).toBe(200);
    expect(answered.body.question).toMatchObject({
      status: 'answered',
      answer: 'PostgreSQL',
      answered_by: 'local user',
    });
    expect(answered.body.task.status).toBe('pending');
    const twice = await api.request('POST', `/api/v1/tasks/${run.task.id}/answer`, { answer: 'Redis' });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('NOT_AWAITING_INPUT');

    // Claimable again; its worker reads the answer and the conversation, with the token masked.
    const reclaimed = await run.queue.claim('orch-2');
    expect(reclaimed?.id).toBe(run.task.id);
    expect(reclaimed?.attempts).toBe(before.attempts);
    const token = await api.services.keys.mintWorkerToken({
      taskId: run.task.id,
      projectId: run.project.id,
      ticketId: run.ticket.id,
      ttlMs: 60_000,
    });
    const view = await api.request('GET', `/api/v1/tasks/${run.task.id}`, undefined, {
      authorization: `Bearer ${token}`,
    });
    expect(view.status).toBe(200);
    expect(view.body.resume.question).toMatchObject({ id: asked.body.id, answer: 'PostgreSQL' });
    expect(view.body.resume.checkpoint.runtime).toBe('openai');
    expect(view.body.resume.checkpoint.data.pending_call_id).toBe('c1');
    expect(JSON.stringify(view.body.resume.checkpoint)).not.toContain(run.token);
    expect(JSON.stringify(view.body.resume.checkpoint)).toContain('[REDACTED]');
    expect(view.body.clarifications.map((q: { id: string }) => q.id)).toEqual([asked.body.id]);
    const stored = await getDb().query<{ checkpoint: unknown }>(
      'SELECT checkpoint FROM task_questions WHERE id = $1',
      [asked.body.id],
    );
    expect(JSON.stringify(stored[0]?.checkpoint)).not.toContain(run.token);
    const answeredEvent = (await api.services.events.list({ task_id: run.task.id }, 0, 100)).find(
      (e) => e.type === 'question.answered',
    );
    expect(answeredEvent?.data).toEqual({
      question_id: asked.body.id,
      answer: 'PostgreSQL',
      by: 'local user',
    });
  });

  it('only the task’s own worker asks, within the limits', async () => {
    const run = await running();
    const person = await api.request('POST', `/api/v1/tasks/${run.task.id}/question`, { question: 'Why?' });
    expect(person.status).toBe(403);
    // Another running task's token reaches nothing of this task.
    const other = await running('orch-3');
    const cross = await api.request(
      'POST',
      `/api/v1/tasks/${other.task.id}/question`,
      { question: 'Which one?' },
      run.asWorker,
    );
    expect(cross.status).toBe(403);
    // A question that breaks the limits is a 400, and the task keeps running.
    const tooMany = await api.request(
      'POST',
      `/api/v1/tasks/${other.task.id}/question`,
      { question: 'Pick', options: Array.from({ length: 11 }, (_, i) => `o${i}`) },
      other.asWorker,
    );
    expect(tooMany.status).toBe(400);
    expect((await api.services.tasks.get(other.task.id)).status).toBe('running');
  });

  it('cancelling a parked task takes its question out of the inbox', async () => {
    const run = await running();
    const asked = await api.request(
      'POST',
      `/api/v1/tasks/${run.task.id}/question`,
      { question: 'Keep the old API?' },
      run.asWorker,
    );
    expect(asked.status).toBe(201);
    const cancelled = await api.request('POST', `/api/v1/tasks/${run.task.id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const open = await api.request('GET', `/api/v1/questions?status=open&project_id=${run.project.id}`);
    expect(open.body.questions).toEqual([]);
    const all = await api.request('GET', `/api/v1/questions?project_id=${run.project.id}`);
    expect(all.body.questions[0]).toMatchObject({ id: asked.body.id, status: 'cancelled' });
    const late = await api.request('POST', `/api/v1/tasks/${run.task.id}/answer`, { answer: 'yes' });
    expect(late.status).toBe(409);
  });

  it('a budget question answered "stop" cancels its task and blocks nothing else', async () => {
    const run = await running();
    await api.services.questions.ask(
      run.task.id,
      { question: 'The ticket budget is 85% spent. Start this task anyway?', options: ['Continue', 'Stop'] },
      'budget',
      `ticket:${run.ticket.id}:usd`,
    );
    const stopped = await api.request('POST', `/api/v1/tasks/${run.task.id}/answer`, { answer: 'Stop' });
    expect(stopped.status).toBe(200);
    expect(stopped.body.task).toMatchObject({
      status: 'cancelled',
      error: 'stopped at the budget threshold by local user',
    });
    // A budget answer is no clarification of the spec.
    expect(await api.services.questions.clarifications(run.ticket.id)).toEqual([]);
  });

  it('"continue" to a budget question lets every task waiting on the same threshold start', async () => {
    const first = await running('orch-b1');
    const second = await running('orch-b2');
    const key = `project:${first.project.id}:usd`;
    for (const run of [first, second])
      await api.services.questions.ask(
        run.task.id,
        {
          question: 'The project budget is 90% spent. Start this task anyway?',
          options: ['Continue', 'Stop'],
        },
        'budget',
        key,
      );
    // Another threshold's question stays open.
    const third = await running('orch-b3');
    await api.services.questions.ask(third.task.id, { question: 'Daily budget?' }, 'budget', 'daily:x:usd');
    const answered = await api.request('POST', `/api/v1/tasks/${first.task.id}/answer`, {
      answer: 'Continue',
    });
    expect(answered.status).toBe(200);
    expect((await api.services.tasks.get(first.task.id)).status).toBe('pending');
    expect((await api.services.tasks.get(second.task.id)).status).toBe('pending');
    expect((await api.services.tasks.get(third.task.id)).status).toBe('awaiting_input');
    // A budget question resumes no conversation.
    expect(await api.services.questions.resumeOf(second.task.id)).toBeNull();
  });
});
