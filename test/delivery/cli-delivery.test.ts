// `omoi spec trace <ticket>` and `omoi ticket show` (the built binary) against the real server with a
// delivered ticket: per requirement its tasks and evidence, per task its branch, changes and
// verification, and the pull request's link.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ROOT } from '../e2e/support/omoi-server.js';
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

const bin = join(ROOT, 'bin', 'omoi.js');
const TOKEN = 'glpat-clitesttoken0123456789';

describeEachDatabase('omoi spec trace and ticket show, delivered', (getDb, kind) => {
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

  const cli = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        cwd: world.tmp,
        env: { PATH: process.env.PATH, HOME: world.tmp, OMOIOS_API_URL: world.server.url },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });

  it('prints the trace, the delivery of each task and the pull request link', async () => {
    const { project, ticket, feature } = await specTicket(
      world,
      { A: [] },
      {
        pull_request: {
          provider: 'gitlab',
          repository: `group/${kind}`,
          api_url: `${forge.gitlabUrl}/api/v4`,
        },
      },
    );
    await world.services.credentials.set(project.id, { kind: 'https_token', secret: TOKEN });
    const tasks = byKey((await world.services.tickets.approve(ticket.id)).tasks);
    for (let i = 0; i < 2; i++)
      await runNext(world.services, (t) => {
        const pushed = pushBranch(world, t.branch!, 'origin/main', { [`${t.id}.txt`]: 'one\ntwo\n' });
        return {
          ok: true,
          branch: t.branch,
          commit: pushed.commit,
          base_commit: pushed.base,
          changes: { files: 1, insertions: 2, deletions: 0 },
          verification: passed(pushed.commit),
        };
      });
    const detail = await world.services.tickets.detail(ticket.id);
    expect(detail.status).toBe('done');
    const url = detail.pull_request!.url;

    const trace = await cli(['spec', 'trace', ticket.id]);
    expect(trace.code, trace.stderr).toBe(0);
    expect(trace.stdout).toMatch(new RegExp(`^ {2}verified {5}REQ-${feature}-CORE-001 `, 'm'));
    expect(trace.stdout).toMatch(
      new RegExp(`^ {6}${taskId(feature, 'A')} +completed +verified +omoi/${ticket.ref}-`, 'm'),
    );
    expect(trace.stdout).toContain(`pull request open: ${url}`);
    const json = await cli(['spec', 'trace', ticket.ref, '--project', project.name, '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ref: ticket.ref,
      requirements: [{ status: 'verified' }],
    });
    const usage = await cli(['spec', 'trace', '.', '--project', project.name]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^usage: omoi spec trace/m);

    const shown = await cli(['ticket', 'show', ticket.ref, '--project', project.name]);
    expect(shown.code, shown.stderr).toBe(0);
    const a = tasks.get(taskId(feature, 'A'))!;
    expect(shown.stdout).toMatch(
      new RegExp(
        `^ {15}branch ${a.branch}@[0-9a-f]{12} · 1 file \\+2 −0 · verified: npm test \\(3 passed, 0 failed\\)$`,
        'm',
      ),
    );
    expect(shown.stdout).toMatch(
      new RegExp(
        `^ {2}pr {7}${url.replace(/[/.]/g, '\\$&')} \\(open, omoi/${ticket.ref}-feature → main\\)$`,
        'm',
      ),
    );
    expect(shown.stdout).toContain(`review and merge the pull request ${url}`);
  });
});
