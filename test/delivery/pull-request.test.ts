// The ticket's pull request (issue 13) on both databases: when the integration task completes, the
// server opens exactly one pull/merge request on the forge (a fake GitHub and GitLab on 127.0.0.1
// spoken to by the real Octokit and gitbeaker clients) with the right head, base, token and body;
// a second integration run updates it; a failure blocks the ticket, and the token is nowhere.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { integrationBranch } from '../../src/contracts/branches.js';
import { taskId } from '../exec/support/dag-spec.js';
import { describeEachDatabase } from '../support/db.js';
import { type FakeForge, startFakeForge } from '../support/fake-forge.js';
import {
  byKey,
  type DeliveryWorld,
  passed,
  pushBranch,
  runNext,
  specTicket,
  startDeliveryWorld,
} from './support.js';

const TOKEN = 'ghp_fakeforgetoken0123456789abcdef';

describeEachDatabase('pull request from the integration branch', (getDb) => {
  let world: DeliveryWorld;
  let forge: FakeForge;

  beforeAll(async () => {
    world = await startDeliveryWorld(getDb());
    forge = await startFakeForge({ token: TOKEN });
  });
  afterAll(async () => {
    await forge?.close();
    await world?.close();
  });

  /** Approves a two-task ticket and runs every task through the queue, pushing real branches. */
  async function deliver(provider: 'github' | 'gitlab', repository: string) {
    const api_url = provider === 'github' ? forge.githubUrl : forge.gitlabUrl;
    const { project, ticket, feature } = await specTicket(
      world,
      { A: [], B: ['A'] },
      { pull_request: { provider, repository, api_url } },
    );
    await world.services.credentials.set(project.id, { kind: 'https_token', secret: TOKEN });
    const approval = await world.services.tickets.approve(ticket.id);
    const tasks = byKey(approval.tasks);
    const integration = tasks.get('integration')!;
    const run = async () =>
      runNext(world.services, (task) => {
        const pushed = pushBranch(world, task.branch!, 'origin/main', { [`${task.id}.txt`]: `${task.id}\n` });
        return {
          ok: true,
          branch: task.branch,
          commit: pushed.commit,
          base_commit: pushed.base,
          verification: passed(pushed.commit),
        };
      });
    const order: string[] = [];
    for (let i = 0; i < 3; i++) order.push((await run())!.id);
    return { project, ticket, feature, tasks, integration, order, run };
  }

  it('opens one GitHub pull request with head, base, token and body, then updates it on a second run', async () => {
    const before = forge.pulls.length;
    const { ticket, feature, integration, order, tasks } = await deliver('github', 'acme/shop');
    // The queue released the integration task last, after both spec tasks.
    expect(order).toEqual([
      tasks.get(taskId(feature, 'A'))!.id,
      tasks.get(taskId(feature, 'B'))!.id,
      integration.id,
    ]);

    const mine = forge.pulls.slice(before);
    expect(mine).toHaveLength(1);
    const pull = mine[0]!;
    expect(pull).toMatchObject({
      repository: 'acme/shop',
      head: integrationBranch(ticket.ref),
      base: 'main',
      title: `${ticket.ref}: ${ticket.title}`,
      state: 'open',
    });
    expect(pull.body).toContain(`REQ-${feature}-CORE-001`);
    expect(pull.body).toContain('verified');
    expect(pull.body).toContain(taskId(feature, 'A'));
    expect(pull.body).toContain('`npm test` exit 0');
    expect(pull.body).toContain(`.omoi_os/tasks/${taskId(feature, 'B')}.md`);
    const posts = forge.http.requests.filter(
      (r) => r.method === 'POST' && r.path === '/github/repos/acme/shop/pulls',
    );
    expect(posts.at(-1)?.headers.authorization).toMatch(new RegExp(`^(token|bearer) ${TOKEN}$`, 'i'));

    const detail = await world.services.tickets.detail(ticket.id);
    expect(detail.status).toBe('done');
    expect(detail.pull_request).toMatchObject({
      provider: 'github',
      number: pull.number,
      head: pull.head,
      base: 'main',
    });
    expect(detail.pull_request?.url).toContain(`/pull/${pull.number}`);
    const opened = detail.events.filter((e) => e.type === 'pr.opened');
    expect(opened).toHaveLength(1);
    expect(opened[0]!.data).toMatchObject({ updated: false, number: pull.number });

    // Settling the completed integration task again calls the forge no more.
    const calls = forge.http.requests.length;
    await world.services.flow.settle(integration.id);
    expect(forge.http.requests.length).toBe(calls);

    // A second integration run (the task queued again) updates the open pull request instead of
    // opening another.
    await world.services.db.query(
      `UPDATE tasks SET status = 'pending', result = NULL, finished_at = NULL WHERE id = $1`,
      [integration.id],
    );
    expect(await world.services.flow.settle(integration.id)).toBe('testing'); // only the integration is left
    await deliverAgain(integration.id);
    expect(forge.pulls.slice(before)).toHaveLength(1);
    expect(
      forge.http.requests.some(
        (r) => r.method === 'PATCH' && r.path === `/github/repos/acme/shop/pulls/${pull.number}`,
      ),
    ).toBe(true);
    const final = await world.services.tickets.detail(ticket.id);
    expect(final.status).toBe('done');
    expect(
      final.events
        .filter((e) => e.type === 'pr.opened')
        .map((e) => e.data.updated)
        .sort(),
    ).toEqual([false, true]);
    await expectNoToken(ticket.id);
  });

  async function deliverAgain(integrationId: string) {
    const task = await runNext(world.services, (t) => {
      const pushed = pushBranch(world, t.branch!, 'origin/main', { 'again.txt': 'again\n' });
      return {
        ok: true,
        branch: t.branch,
        commit: pushed.commit,
        base_commit: pushed.base,
        verification: passed(pushed.commit),
      };
    });
    expect(task?.id).toBe(integrationId);
  }

  /** The token is in no event, no ticket or task row of the ticket. */
  async function expectNoToken(ticketId: string) {
    const rows = await world.services.db.query<{ row: string }>(
      `SELECT row_to_json(e)::text AS row FROM events e WHERE ticket_id = $1
       UNION ALL SELECT row_to_json(t)::text FROM tickets t WHERE id = $1
       UNION ALL SELECT row_to_json(k)::text FROM tasks k WHERE ticket_id = $1`,
      [ticketId],
    );
    expect(rows.length).toBeGreaterThan(3);
    for (const { row } of rows) expect(row).not.toContain(TOKEN);
  }

  it('opens one GitLab merge request through gitbeaker, with PRIVATE-TOKEN, in a nested project path', async () => {
    const before = forge.pulls.length;
    const { ticket } = await deliver('gitlab', 'group/sub/shop');
    const mine = forge.pulls.slice(before);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      repository: 'group/sub/shop',
      head: integrationBranch(ticket.ref),
      base: 'main',
    });
    const post = forge.http.requests.find(
      (r) => r.method === 'POST' && r.path.startsWith('/gitlab/api/v4/projects/'),
    );
    expect(post?.headers['private-token']).toBe(TOKEN);
    const detail = await world.services.tickets.detail(ticket.id);
    expect(detail.status).toBe('done');
    expect(detail.pull_request).toMatchObject({ provider: 'gitlab', number: mine[0]!.number });
    expect(detail.pull_request?.url).toContain('/-/merge_requests/');
  });

  it('a forge failure blocks the ticket with pr.failed, and the token echoed by the forge is redacted', async () => {
    forge.http.failNext({
      method: 'GET',
      path: /\/github\/repos\/acme\/broken\/pulls/,
      status: 403,
      body: { message: `token ${TOKEN} lacks the pull_requests scope` },
    });
    const before = forge.pulls.length;
    const { ticket } = await deliver('github', 'acme/broken');
    expect(forge.pulls.length).toBe(before);
    const detail = await world.services.tickets.detail(ticket.id);
    expect(detail.status).toBe('blocked');
    expect(detail.pull_request ?? null).toBeNull();
    const failed = detail.events.find((e) => e.type === 'pr.failed');
    expect(failed?.data).toMatchObject({
      provider: 'github',
      error: expect.stringContaining('lacks the pull_requests scope'),
    });
    const moved = detail.events.find(
      (e): e is Extract<typeof e, { type: 'ticket.status_changed' }> =>
        e.type === 'ticket.status_changed' && e.data.to === 'blocked',
    );
    expect(moved?.data.reason).toContain('pull request');
    await expectNoToken(ticket.id);
  });

  it('without an https token the pull request fails with the reason and the ticket is not done', async () => {
    const { project, ticket } = await specTicket(
      world,
      { A: [] },
      { pull_request: { provider: 'github', repository: 'acme/none', api_url: forge.githubUrl } },
    );
    await world.services.tickets.approve(ticket.id);
    for (let i = 0; i < 2; i++)
      await runNext(world.services, (task) => {
        const pushed = pushBranch(world, task.branch!, 'origin/main', { 'x.txt': `${task.id}\n` });
        return { ok: true, branch: task.branch, commit: pushed.commit, verification: passed(pushed.commit) };
      });
    expect(project.id).toBeTruthy();
    const detail = await world.services.tickets.detail(ticket.id);
    expect(detail.status).toBe('blocked');
    expect(detail.events.find((e) => e.type === 'pr.failed')?.data.error).toContain('https token');
  });
});
