// `omoi ticket list|show|approve|cancel|retry` and `create --wait`, the built binary against a real
// `omoi start` (offline runtime, a temporary bare repository as the project's remote): refs and ids,
// JSON and text, exit codes 0 (done), 1 (refused by the server) and 2 (usage). The offline runtime's
// implementation runs end "plan only", so an approved ticket ends blocked, never done.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareRepo, ROOT, type RunningOmoi, startOmoi } from '../e2e/support/omoi-server.js';
import { eventually } from '../support/wait.js';

const bin = join(ROOT, 'bin', 'omoi.js');

function cli(omoi: RunningOmoi, args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      // stdin is not a terminal here: approve must ask for --yes instead of waiting for an answer
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: omoi.tmp,
      env: { PATH: process.env.PATH, HOME: omoi.tmp, OMOIOS_API_URL: omoi.url },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the CLI on a pseudo-terminal (util-linux `script`), typing `input`; output is the terminal's. */
function onTerminal(omoi: RunningOmoi, args: string[], input: string) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const command = [process.execPath, bin, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: omoi.tmp,
      env: { PATH: process.env.PATH, HOME: omoi.tmp, OMOIOS_API_URL: omoi.url, TERM: 'dumb' },
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
      // answer once the question is on the screen
      if (/\[y\/N\] $/.test(output)) child.stdin.end(input);
    });
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('omoi ticket, with runs (offline runtime)', () => {
  let omoi: RunningOmoi;
  let ticketId = '';
  beforeAll(async () => {
    omoi = await startOmoi();
    const added = await cli(omoi, ['project', 'add', createBareRepo(omoi.tmp), '--name', 'demo']);
    expect(added.code, added.stderr).toBe(0);
  }, 180_000);
  afterAll(async () => {
    await omoi?.stop();
  });

  it('lists nothing yet, and refuses an unknown status with a usage line (exit 2)', async () => {
    const empty = await cli(omoi, ['ticket', 'list']);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toMatch(/^no tickets yet: omoi ticket create/);
    const bad = await cli(omoi, ['ticket', 'list', '--status', 'finished']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--status must be one of backlog, analyzing, awaiting_approval/);
    expect(bad.stderr).toMatch(/^usage: omoi ticket list/m);
  });

  it('create --wait ends with the ticket URL and the next command', async () => {
    const run = await cli(omoi, [
      'ticket',
      'create',
      'Export reports as CSV. Large reports stream.',
      '--project',
      'demo',
      '--mode',
      'spec_driven',
      '--wait',
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const url = new RegExp(`^  url  ${omoi.url}/tickets/([0-9a-f-]{36})$`, 'm').exec(run.stdout);
    expect(url, run.stdout).not.toBeNull();
    ticketId = url![1]!;
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('  next omoi ticket approve TKT-001');
  }, 200_000);

  it('shows the ticket by ref (text) and by id (JSON): awaiting approval, runtime, spec, next step', async () => {
    const text = await cli(omoi, ['ticket', 'show', 'TKT-001']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^TKT-001 Export reports as CSV/);
    expect(text.stdout).toMatch(/^ {2}status {3}awaiting approval$/m);
    expect(text.stdout).toMatch(/^ {2}runtime {2}offline \(no model\)$/m);
    expect(text.stdout).toMatch(/^ {2}branch {3}omoi\/TKT-001$/m);
    expect(text.stdout).toMatch(/^ {2}spec {5}\d+ requirements, \d+ design, \d+ tasks/m);
    expect(text.stdout).toMatch(/^ {4}completed +create_spec +Write the spec for TKT-001/m);
    expect(text.stdout).toContain(`  url      ${omoi.url}/tickets/${ticketId}`);
    expect(text.stdout).toMatch(/^ {2}next {5}omoi ticket approve TKT-001 /m);

    const json = await cli(omoi, ['ticket', 'show', ticketId, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const shown = JSON.parse(json.stdout);
    expect(shown).toMatchObject({
      id: ticketId,
      ref: 'TKT-001',
      status: 'awaiting_approval',
      runtime: 'offline (no model)',
      url: `${omoi.url}/tickets/${ticketId}`,
      next: { command: 'omoi ticket approve TKT-001' },
    });
    expect(shown.events).toBeUndefined();
    expect(shown.spec_tasks.length).toBeGreaterThan(0);
    expect(shown.spec_tasks[0].spec_id).toMatch(/^TSK-/);

    const listed = await cli(omoi, ['ticket', 'list', '--status', 'awaiting_approval', '--json']);
    expect(JSON.parse(listed.stdout).map((t: { ref: string }) => t.ref)).toEqual(['TKT-001']);
    const row = await cli(omoi, ['ticket', 'list', '--project', 'demo']);
    expect(row.stdout).toMatch(/^TKT-001\tawaiting approval\tspec_driven\tdemo\tExport reports as CSV/m);
  });

  it('answers exit 1 with the server message for an unknown ticket, exit 2 for an unknown project', async () => {
    const missing = await cli(omoi, ['ticket', 'show', 'TKT-999']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^omoi: NOT_FOUND: no ticket TKT-999/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const project = await cli(omoi, ['ticket', 'show', 'TKT-001', '--project', 'nope']);
    expect(project.code).toBe(2);
    expect(project.stderr).toMatch(/no project with id or name "nope"/);
  });

  it('approve shows what will run; without a terminal it needs --yes (exit 2); with it, it approves', async () => {
    const asked = await cli(omoi, ['ticket', 'approve', 'TKT-001']);
    expect(asked.code).toBe(2);
    expect(asked.stdout).toMatch(/^Approving TKT-001 starts \d+ tasks on the offline \(no model\) runtime/);
    expect(asked.stdout).toMatch(/^ {2}1\. TSK-/m);
    expect(asked.stderr).toMatch(/confirm on a terminal, or pass --yes/);
    expect(asked.stderr).toMatch(/^usage: omoi ticket approve/m);
    const still = JSON.parse((await cli(omoi, ['ticket', 'show', 'TKT-001', '--json'])).stdout);
    expect(still.approved_at).toBeNull();

    // on a terminal it asks; anything but y/yes keeps the ticket unapproved (exit 1)
    const declined = await onTerminal(omoi, ['ticket', 'approve', 'TKT-001'], 'n\n');
    expect(declined.output).toMatch(/Approve TKT-001 and start \d+ task\(s\)\? \[y\/N\]/);
    expect(declined.output).toMatch(/not approved/);
    expect(declined.code).toBe(1);
    expect(
      JSON.parse((await cli(omoi, ['ticket', 'show', 'TKT-001', '--json'])).stdout).approved_at,
    ).toBeNull();

    const planned = (asked.stdout.match(/^ {2}\d+\. TSK-/gm) ?? []).length;
    const approved = await cli(omoi, ['ticket', 'approve', 'tkt-1', '--yes']);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(
      new RegExp(
        `^approved TKT-001: ${planned} task\\(s\\) and the integration run queued, status building$`,
        'm',
      ),
    );
    const again = await cli(omoi, ['ticket', 'approve', ticketId, '--yes', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ created: 0, ticket: { id: ticketId } });

    // The offline runtime cannot write code: its runs end "plan only" and the ticket is not done
    // (issue 13). Once they have settled there is nothing to cancel (exit 1, saying why).
    const settled = await eventually(
      async () => {
        const r = JSON.parse((await cli(omoi, ['ticket', 'show', 'TKT-001', '--json'])).stdout);
        const live = r.tasks.some((t: { status: string }) =>
          ['pending', 'claimed', 'running'].includes(t.status),
        );
        return r.status === 'blocked' && !live ? r : undefined;
      },
      'TKT-001 to settle as blocked',
      240_000,
    );
    expect(settled.tasks.map((t: { error: string | null }) => t.error)).toContain(
      'plan only (no model): the offline runtime cannot write code',
    );
    const nothing = await cli(omoi, ['ticket', 'cancel', 'TKT-001']);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/TKT-001 has no queued or running task/);
  }, 300_000);
});

describe('omoi ticket, without an orchestrator (tasks stay queued)', () => {
  let omoi: RunningOmoi;
  beforeAll(async () => {
    omoi = await startOmoi({ OMOI_ORCHESTRATOR: 'false' });
    for (const name of ['alpha', 'beta']) {
      const added = await cli(omoi, [
        'project',
        'add',
        createBareRepo(omoi.tmp, `${name}.git`),
        '--name',
        name,
      ]);
      expect(added.code, added.stderr).toBe(0);
      const created = await cli(omoi, [
        'ticket',
        'create',
        `Quick fix in ${name}`,
        '--project',
        name,
        '--mode',
        'quick',
      ]);
      expect(created.code, created.stderr).toBe(0);
    }
  }, 180_000);
  afterAll(async () => {
    await omoi?.stop();
  });

  it('a ref in two projects: exit 1 naming both; --project picks one', async () => {
    const ambiguous = await cli(omoi, ['ticket', 'show', 'TKT-001']);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toMatch(/^omoi: CONFLICT: TKT-001 exists in 2 projects \(alpha .*beta /);
    const beta = await cli(omoi, ['ticket', 'show', 'TKT-001', '--project', 'beta', '--json']);
    expect(beta.code, beta.stderr).toBe(0);
    // before any run, the runtime is the server's (GET /health)
    expect(JSON.parse(beta.stdout)).toMatchObject({
      title: 'Quick fix in beta',
      status: 'backlog',
      runtime: 'offline (no model)',
    });
  });

  it('cancels the queued task and retries it, by ref and by id', async () => {
    const cancelled = await cli(omoi, ['ticket', 'cancel', 'TKT-001', '--project', 'alpha']);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toMatch(/^cancelled: implementation Quick fix in alpha \(cancelled\)/);
    const shown = JSON.parse(
      (await cli(omoi, ['ticket', 'show', 'TKT-001', '--project', 'alpha', '--json'])).stdout,
    );
    expect(shown.tasks[0].status).toBe('cancelled');
    expect(shown.next.command).toBe('omoi ticket retry TKT-001');

    const again = await cli(omoi, ['ticket', 'cancel', shown.id]);
    expect(again.code).toBe(1);
    const retried = await cli(omoi, ['ticket', 'retry', shown.id, '--json']);
    expect(retried.code, retried.stderr).toBe(0);
    expect(JSON.parse(retried.stdout)).toMatchObject({ status: 'pending' });
    const noFailure = await cli(omoi, ['ticket', 'retry', shown.id]);
    expect(noFailure.code).toBe(1);
    expect(noFailure.stderr).toMatch(/has no failed or cancelled task/);
  });

  it('a quick ticket has no spec to approve: exit 1 with the reason', async () => {
    const refused = await cli(omoi, ['ticket', 'approve', 'TKT-001', '--project', 'beta', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^omoi: CONFLICT: .*quick/im);
    // nothing to list, so nothing to confirm: the server's reason, even without --yes
    const unasked = await cli(omoi, ['ticket', 'approve', 'TKT-001', '--project', 'beta']);
    expect(unasked.code).toBe(1);
    expect(unasked.stdout).toBe('');
    expect(unasked.stderr).toMatch(/^omoi: CONFLICT: .*quick/im);
  });
});
