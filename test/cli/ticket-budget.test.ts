// `omoi ticket show` prints the spend, `omoi ticket approve` says when the forecast is over the
// budget and sends the confirmation with its yes: the built binary against a real `omoi start`
// (offline runtime) whose server-wide default caps a ticket at $0.01.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  runOmoiCli as cli,
  createBareRepo,
  type RunningOmoi,
  startOmoi,
} from '../e2e/support/omoi-server.js';

describe('omoi ticket show/approve with a budget', () => {
  let omoi: RunningOmoi;
  beforeAll(async () => {
    omoi = await startOmoi({ OMOI_BUDGET_TICKET_USD: '0.01' });
    const added = await cli(omoi, ['project', 'add', createBareRepo(omoi.tmp), '--name', 'demo']);
    expect(added.code, added.stderr).toBe(0);
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
  }, 240_000);
  afterAll(async () => {
    await omoi?.stop();
  });

  it('shows the spend, warns that the forecast is over budget, and approves with --yes', async () => {
    const shown = await cli(omoi, ['ticket', 'show', 'TKT-001']);
    expect(shown.code, shown.stderr).toBe(0);
    // The offline runtime spends nothing; the ticket cap leaves $0.01.
    expect(shown.stdout).toMatch(/^ {2}spend {4}\$0, 0 tokens \(left \$0\.01\)$/m);
    const json = await cli(omoi, ['ticket', 'show', 'TKT-001', '--json']);
    expect(JSON.parse(json.stdout).spend).toMatchObject({
      usd: 0,
      tokens: 0,
      remaining: { usd: 0.01, tokens: null },
    });

    const forecast = await cli(omoi, ['ticket', 'forecast', 'TKT-001']);
    expect(forecast.stdout).toMatch(
      /^budget: \$0\.01 left; over budget: approving needs a confirmation \(--yes\)$/m,
    );
    const asked = await cli(omoi, ['ticket', 'approve', 'TKT-001']);
    expect(asked.code).toBe(2);
    expect(asked.stdout).toMatch(
      /^Over budget: the forecast is \$[\d.]+, \d+ tokens; the caps leave \$0\.01\.$/m,
    );

    const approved = await cli(omoi, ['ticket', 'approve', 'TKT-001', '--yes']);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(/^Over budget: /m);
    expect(approved.stdout).toMatch(/^approved TKT-001: \d+ task\(s\) and the integration run queued/m);
  }, 120_000);
});
