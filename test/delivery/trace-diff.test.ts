// GET /tickets/:id/trace and GET /tasks/:id/diff on the real server (a real socket), both databases,
// with task branches pushed to the project's real git remote and the tasks completed through the
// queue: per requirement the covering tasks, their commits and evidence and a status; per task the
// files changed (+/−) and the patch from the server's mirror, capped.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { integrationBranch } from '../../src/contracts/branches.js';
import { taskId } from '../exec/support/dag-spec.js';
import { describeEachDatabase } from '../support/db.js';
import { git } from '../support/git-remote.js';
import {
  byKey,
  type DeliveryWorld,
  passed,
  pushBranch,
  runNext,
  specTicket,
  startDeliveryWorld,
} from './support.js';

describeEachDatabase('trace and diff', (getDb) => {
  let world: DeliveryWorld;

  beforeAll(async () => {
    world = await startDeliveryWorld(getDb());
  });
  afterAll(async () => {
    await world?.close();
  });

  it('traces each requirement to its tasks, commits and evidence, with a status that follows the runs', async () => {
    const { project, ticket, feature } = await specTicket(world, { A: [], B: ['A'] });
    const tasks = byKey((await world.services.tickets.approve(ticket.id)).tasks);
    const req = `REQ-${feature}-CORE-001`;
    const trace = async () => {
      const res = await world.get(`/api/v1/tickets/${ticket.ref}/trace?project_id=${project.id}`);
      expect(res.status).toBe(200);
      return res.body;
    };

    const fresh = await trace();
    expect(fresh).toMatchObject({ ticket_id: ticket.id, ref: ticket.ref, pull_request: null });
    expect(fresh.requirements).toEqual([
      expect.objectContaining({
        id: req,
        title: `Run the ${feature.toLowerCase()} work`,
        status: 'not_started',
      }),
    ]);
    expect(fresh.requirements[0].tasks.map((t: { spec_task_id: string }) => t.spec_task_id)).toEqual([
      taskId(feature, 'A'),
      taskId(feature, 'B'),
    ]);
    expect(fresh.integration).toMatchObject({
      task_id: tasks.get('integration')!.id,
      status: 'pending',
      branch: integrationBranch(ticket.ref),
      commit: null,
    });

    // A completes with passing evidence: B has not run, so the requirement is not verified yet.
    const a = pushBranch(world, tasks.get(taskId(feature, 'A'))!.branch!, 'origin/main', { 'a.txt': 'a\n' });
    await runNext(world.services, (t) => ({
      ok: true,
      branch: t.branch,
      commit: a.commit,
      base_commit: a.base,
      verification: passed(a.commit),
    }));
    const partial = await trace();
    expect(partial.requirements[0].status).toBe('unverified');
    const rowA = partial.requirements[0].tasks[0];
    expect(rowA).toMatchObject({ status: 'completed', commits: [a.commit], verification: { passed: true } });

    // B completes with nothing to run its tests with: every task done, one without evidence.
    const b = pushBranch(world, tasks.get(taskId(feature, 'B'))!.branch!, a.commit, { 'b.txt': 'b\n' });
    await runNext(world.services, (t) => ({
      ok: true,
      branch: t.branch,
      commit: b.commit,
      base_commit: a.commit,
      verification: {
        command: null,
        source: 'none',
        exit_code: null,
        passed: false,
        unverified: 'no verify command configured or detected',
        duration_ms: 0,
        commit: b.commit,
        attempts: 0,
        output_tail: '',
      },
    }));
    const done = await trace();
    expect(done.requirements[0].status).toBe('unverified');
    expect(done.requirements[0].tasks[1]).toMatchObject({ status: 'completed', commits: [b.commit] });

    // By id as well as by ref; an unknown ticket is a 404 with a code.
    expect((await world.get(`/api/v1/tickets/${ticket.id}/trace`)).body.requirements[0].status).toBe(
      'unverified',
    );
    const missing = await world.get('/api/v1/tickets/TKT-999999/trace');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    // Leave the queue empty for the next test: the integration run too.
    const integrated = await runNext(world.services, (t) => ({
      ok: true,
      branch: t.branch,
      commit: b.commit,
    }));
    expect(integrated?.id).toBe(tasks.get('integration')!.id);
  });

  it('a failed covering task makes its requirement failing; all verified makes it verified', async () => {
    const failing = await specTicket(world, { A: [] });
    const [only] = (await world.services.tickets.approve(failing.ticket.id)).tasks;
    const queue = (await import('../../src/queue/queue.js')).createQueue(world.services.db);
    const claimed = (await queue.claim('t'))!;
    expect(claimed.id).toBe(only!.id);
    await queue.fail(claimed.id, 't', 'tests failed', {
      ok: false,
      branch: claimed.branch,
      commit: null,
      verification: { ...passed('x'), passed: false, exit_code: 1 },
    });
    await world.services.flow.settle(claimed.id);
    const trace = (await world.get(`/api/v1/tickets/${failing.ticket.id}/trace`)).body;
    expect(trace.requirements[0].status).toBe('failing');

    const good = await specTicket(world, { A: [] });
    const tasks = byKey((await world.services.tickets.approve(good.ticket.id)).tasks);
    const a = pushBranch(world, tasks.get(taskId(good.feature, 'A'))!.branch!, 'origin/main', {
      'g.txt': 'g\n',
    });
    await runNext(world.services, (t) => ({
      ok: true,
      branch: t.branch,
      commit: a.commit,
      verification: passed(a.commit),
    }));
    expect((await world.get(`/api/v1/tickets/${good.ticket.id}/trace`)).body.requirements[0].status).toBe(
      'verified',
    );
    // Leave the queue empty for the next test: the integration run too.
    await runNext(world.services, (t) => ({
      ok: true,
      branch: t.branch,
      commit: a.commit,
      verification: passed(a.commit),
    }));
  });

  it("diffs a task's branch against where it started: files with +/−, the patch capped, 404 before it exists", async () => {
    const { ticket, feature } = await specTicket(world, { A: [], B: ['A'] });
    const tasks = byKey((await world.services.tickets.approve(ticket.id)).tasks);
    const taskA = tasks.get(taskId(feature, 'A'))!;
    const taskB = tasks.get(taskId(feature, 'B'))!;

    const before = await world.get(`/api/v1/tasks/${taskA.id}/diff`);
    expect(before.status).toBe(404);
    expect(before.body.error.code).toBe('BRANCH_NOT_FOUND');

    const big = `${'x'.repeat(99)}\n`.repeat(3000); // 300 KB, past the 200 KB cap
    const a = pushBranch(world, taskA.branch!, 'origin/main', {
      'README.md': '# app\n\nWith a change.\n',
      'new.txt': 'one\ntwo\n',
      'big.txt': big,
    });
    await runNext(world.services, (t) => ({
      ok: true,
      branch: t.branch,
      commit: a.commit,
      base_commit: a.base,
      verification: passed(a.commit),
    }));
    const res = await world.get(`/api/v1/tasks/${taskA.id}/diff`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      task_id: taskA.id,
      branch: taskA.branch,
      base: a.base,
      head: a.commit,
      truncated: true,
    });
    const files = Object.fromEntries(res.body.files.map((f: { path: string }) => [f.path, f]));
    expect(files['README.md']).toMatchObject({
      status: 'modified',
      insertions: 2,
      deletions: 0,
      binary: false,
    });
    expect(files['new.txt']).toMatchObject({ status: 'added', insertions: 2, deletions: 0 });
    expect(files['big.txt']).toMatchObject({ status: 'added', insertions: 3000 });
    expect(res.body.patch.length).toBeLessThanOrEqual(200_000);
    expect(res.body.patch).toContain('+With a change.');

    // B starts from A's commit (its dependency merged in): its diff holds only its own change,
    // a rename and a deletion.
    git(world.work, 'fetch', '--quiet', 'origin');
    git(world.work, 'checkout', '--quiet', '--detach', a.commit);
    git(world.work, 'mv', 'new.txt', 'renamed.txt');
    git(world.work, 'rm', '--quiet', 'README.md');
    git(world.work, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'b');
    git(world.work, 'push', '--quiet', 'origin', `HEAD:refs/heads/${taskB.branch}`);
    const bCommit = git(world.work, 'rev-parse', 'HEAD');
    await runNext(world.services, (t) => ({
      ok: true,
      branch: t.branch,
      commit: bCommit,
      base_commit: a.commit,
    }));
    const diffB = await world.get(`/api/v1/tasks/${taskB.id}/diff`);
    expect(diffB.status).toBe(200);
    expect(diffB.body.truncated).toBe(false);
    expect(
      diffB.body.files.map((f: { path: string; status: string; deletions: number }) => [
        f.path,
        f.status,
        f.deletions,
      ]),
    ).toEqual(
      expect.arrayContaining([
        ['renamed.txt', 'renamed', 0],
        ['README.md', 'deleted', 3],
      ]),
    );
    expect(diffB.body.files).toHaveLength(2);

    const unknown = await world.get('/api/v1/tasks/00000000-0000-4000-8000-000000000000/diff');
    expect(unknown.status).toBe(404);
    await runNext(world.services, (t) => ({ ok: true, branch: t.branch, commit: bCommit }));
  });
});
