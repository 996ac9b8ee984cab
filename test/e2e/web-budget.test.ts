// The budget in the browser: Chromium against a real `omoi start` (offline runtime) whose default
// caps a ticket at $0.01. The spend shows on the board card and the ticket header; approving a spec
// whose forecast exceeds the budget asks once more, with the server's reason, and approves on yes.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from '../support/wait.js';
import { launchChromium, openPage, screenshot } from './support/browser.js';
import { callApi, createBareRepo, type RunningOmoi, startOmoi } from './support/omoi-server.js';

let omoi: RunningOmoi;
let browser: Browser;

beforeAll(async () => {
  omoi = await startOmoi({ OMOI_BUDGET_TICKET_USD: '0.01' });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await omoi?.stop();
});

const api = <T>(method: string, path: string, body?: unknown) =>
  callApi<T>(`${omoi.url}/api/v1`, method, path, body);

it('shows the spend, and approving over budget needs a second yes', async () => {
  const project = await api<{ id: string }>('POST', '/projects', {
    name: 'budgeted',
    repo_url: createBareRepo(omoi.tmp),
  });
  const { ticket } = await api<{ ticket: { id: string } }>('POST', '/tickets', {
    project_id: project.id,
    description: 'Export reports as CSV. Large reports stream.',
    workflow_mode: 'spec_driven',
  });
  await eventually(
    async () =>
      (await api<{ status: string }>('GET', `/tickets/${ticket.id}`)).status === 'awaiting_approval',
    'the spec run to finish',
    150_000,
  );

  const watched = await openPage(browser, omoi.url, 1280);
  const { page } = watched;
  try {
    await page.goto(`/board?project=${project.id}`);
    await page.locator('.board-card [data-testid="spend"]').first().waitFor();
    expect(await page.locator('.board-card [data-testid="spend"]').first().textContent()).toBe(
      '$0.000 · 0 tokens',
    );

    await page.goto(`/tickets/${ticket.id}`);
    const spend = page.locator('.ticket-head [data-testid="spend"]');
    await spend.waitFor();
    expect(await spend.getAttribute('title')).toBe('Budget: $0.010 left');

    let asked = '';
    page.once('dialog', (dialog) => {
      asked = dialog.message();
      void dialog.accept();
    });
    await page.locator('.ticket-head').getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Approve and start' }).click();
    await page.getByRole('button', { name: 'Approved' }).waitFor({ timeout: 30_000 });
    expect(asked).toMatch(/exceeds the remaining budget \(\$0\.01\)\.\n\nApprove anyway\?$/);
    await screenshot(page, 'web-budget-approved');
  } finally {
    await watched.context.close();
  }
  expect(watched.errors.filter((e) => !/409/.test(e))).toEqual([]);
  const approved = await api<{ approved_at: string | null }>('GET', `/tickets/${ticket.id}`);
  expect(approved.approved_at).not.toBeNull();
}, 300_000);
