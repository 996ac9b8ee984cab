// Issue 7's browser journey: approving a generated spec in the ticket page starts its tasks and
// the board moves the ticket by itself. Under the offline runtime, which cannot write code, the
// tasks end "plan only" (issue 13): the card lands in blocked, no task branch is pushed, and the
// Tasks tab's dependency picture shows no task done. Chromium against a real `omoi start` (offline
// runtime, a temporary bare repository as the remote). Needs `npm run build` first.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  approveInDialog,
  launchChromium,
  openAwaitingApproval,
  openPage,
  screenshot,
} from './support/browser.js';
import { branchesOf, createBareRepo, type RunningOmoi, startOmoi } from './support/omoi-server.js';

const RUN_TIMEOUT = 240_000;

let omoi: RunningOmoi;
let browser: Browser;
let bare: string;

beforeAll(async () => {
  omoi = await startOmoi();
  bare = createBareRepo(omoi.tmp, 'exec.git');
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await omoi?.stop();
});

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(omoi.url + path, {
    method,
    headers: method === 'GET' ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

describe('approve and execute in the browser', () => {
  it('approving a generated spec runs its tasks; offline they end plan-only and the card is blocked, not done', async () => {
    const project = await api<{ id: string }>('POST', '/api/v1/projects', { name: 'exec', repo_url: bare });
    const { ticket } = await api<{ ticket: { id: string; ref: string } }>('POST', '/api/v1/tickets', {
      project_id: project.id,
      description: 'Export reports as CSV files. Large reports stream; the export respects filters.',
      workflow_mode: 'spec_driven',
    });
    const watched = await openPage(browser, omoi.url, 1280);
    const { page } = watched;
    try {
      // the page's URL may carry the ref people read, not only the id
      await openAwaitingApproval(page, ticket.ref, RUN_TIMEOUT);
      await page.locator('.ticket-head .badge.runtime', { hasText: 'offline (no model)' }).waitFor();
      await approveInDialog(page);

      // The offline runtime cannot write code (issue 13): its tasks end "plan only", nothing is
      // pushed as if done, and the card lands in blocked, never in done.
      await page.getByRole('link', { name: 'Board' }).click();
      const blocked = page
        .locator('.column[aria-label^="blocked"]')
        .locator('.board-card', { hasText: ticket.ref });
      await blocked.waitFor({ timeout: RUN_TIMEOUT });
      await screenshot(page, 'exec-01-board-blocked');
      expect(
        await page.locator('.column[data-status="done"] .board-card', { hasText: ticket.ref }).count(),
      ).toBe(0);

      const detail = await api<{
        status: string;
        tasks: {
          spec_task_id: string | null;
          status: string;
          error: string | null;
          result: { plan_only?: boolean } | null;
        }[];
      }>('GET', `/api/v1/tickets/${ticket.id}`);
      expect(detail.status).toBe('blocked');
      const specTasks = detail.tasks.filter((t) => t.spec_task_id);
      expect(specTasks.length).toBeGreaterThanOrEqual(3);
      expect(specTasks.some((t) => t.status === 'completed')).toBe(false);
      expect(specTasks.map((t) => t.error)).toContain(
        'plan only (no model): the offline runtime cannot write code',
      );
      const planOnly = specTasks.filter((t) => t.result?.plan_only === true);
      expect(planOnly.length).toBeGreaterThan(0);
      const branches = branchesOf(bare);
      for (const t of specTasks) expect(branches).not.toContain(`omoi/${ticket.ref}-${t.spec_task_id}`);

      // Each plan-only run says so in the runs table, in the plan-only colour, not the failure red.
      await page.goto(`/tickets/${ticket.id}`);
      const runs = page.getByRole('region', { name: 'Tasks' }).locator('tbody tr[data-task^="TSK-"]');
      await runs.first().waitFor();
      const words = await runs.locator('td:nth-child(2) .badge.status').allTextContents();
      expect(words.filter((w) => w === 'plan only (no model)').length).toBe(planOnly.length);
      expect(await runs.locator('.badge.status.st-bad', { hasText: 'plan only' }).count()).toBe(0);

      // The dependency picture shows the live state: no node done, plan-only ones marked so.
      const tabs = page.getByRole('tablist', { name: 'Spec views' });
      await tabs.getByRole('tab', { name: 'Tasks' }).click();
      const graph = page.getByRole('img', { name: /^Task dependency graph/ });
      await graph.waitFor();
      await expect
        .poll(() => graph.locator('.graph-node.status-plan_only').count(), { timeout: 30_000 })
        .toBe(planOnly.length);
      expect(await graph.locator('.graph-node.status-done').count()).toBe(0);
      await screenshot(page, 'exec-02-tasks-plan-only');
    } catch (error) {
      await screenshot(page, `exec-failed-${Date.now()}`).catch(() => undefined);
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}\n--- omoi output ---\n${omoi.output().slice(-4000)}`,
      );
    } finally {
      await watched.context.close();
    }
    expect(watched.errors).toEqual([]);
  }, 600_000);
});
