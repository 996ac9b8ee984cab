// Issue 7's browser journey: approving a generated spec in the ticket page starts its tasks and
// every task's branch holds its commit. With the offline runtime completing tasks, the board moves
// the ticket to done by itself and the dependency picture shows every task done; once the offline
// runtime ends them as "plan only (no model)" (issue 13), the ticket stays out of done and each task
// says plan only, not failed. Chromium against a real `omoi start` (offline runtime,
// a temporary bare repository as the remote). Needs `npm run build` first.
import { execFileSync } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, screenshot } from './support/browser.js';
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
  it('approving a generated spec runs its tasks, pushes a branch per task, and shows done or plan only', async () => {
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
      await page.goto(`/tickets/${ticket.ref}`);
      const approve = page.getByRole('button', { name: 'Approve', exact: true });
      await approve.waitFor({ timeout: RUN_TIMEOUT });
      await expect.poll(() => approve.isEnabled(), { timeout: RUN_TIMEOUT }).toBe(true);
      await page.locator('.ticket-head .badge.status', { hasText: 'awaiting approval' }).waitFor();
      await page.locator('.ticket-head .badge.runtime', { hasText: 'offline (no model)' }).waitFor();
      await approve.click();
      await page.getByRole('dialog').getByRole('button', { name: 'Approve and start' }).click();
      await page.getByRole('button', { name: 'Approved' }).waitFor({ timeout: 60_000 });

      // Every spec task ends. Until issue 13's worker lands, the offline runtime completes them; after
      // it, it ends them as "plan only (no model)" (it cannot write code) and the ticket is not done.
      type Detail = {
        status: string;
        tasks: { spec_task_id: string | null; status: string; result: { plan_only?: boolean } | null }[];
      };
      const ENDED = new Set(['completed', 'failed', 'cancelled', 'blocked']);
      let detail = await api<Detail>('GET', `/api/v1/tickets/${ticket.id}`);
      await expect
        .poll(
          async () => {
            detail = await api<Detail>('GET', `/api/v1/tickets/${ticket.id}`);
            const specTasks = detail.tasks.filter((t) => t.spec_task_id);
            return specTasks.length >= 3 && specTasks.every((t) => ENDED.has(t.status));
          },
          { timeout: RUN_TIMEOUT, interval: 1000 },
        )
        .toBe(true);
      const specTasks = detail.tasks.filter((t) => t.spec_task_id);
      const planOnly = specTasks.some((t) => t.result?.plan_only === true);
      const branches = branchesOf(bare);
      // a plan-only run may or may not push its plan: only delivered tasks must have their branch
      for (const t of specTasks.filter((task) => task.result?.plan_only !== true)) {
        const branch = `omoi/${ticket.ref}-${t.spec_task_id}`;
        expect(branches).toContain(branch);
        const author = execFileSync('git', ['log', '-1', '--format=%an', branch], {
          cwd: bare,
          encoding: 'utf8',
        });
        expect(author.trim()).toBe('Omoi Worker');
      }

      await page.getByRole('link', { name: 'Board' }).click();
      if (planOnly) {
        // plan only is not done: the card stays out of the done column, each task says so, not red
        await page.locator('.board-card', { hasText: ticket.ref }).waitFor();
        expect(
          await page.locator('.column[data-status="done"] .board-card', { hasText: ticket.ref }).count(),
        ).toBe(0);
        await screenshot(page, 'exec-01-board-plan-only');
        expect(detail.status).not.toBe('done');
        await page.goto(`/tickets/${ticket.id}`);
        const runs = page.getByRole('region', { name: 'Tasks' }).locator('tbody tr[data-task^="TSK-"]');
        await runs.first().waitFor();
        const words = await runs.locator('td:nth-child(2) .badge.status').allTextContents();
        expect(words.filter((w) => w === 'plan only (no model)').length).toBe(
          specTasks.filter((t) => t.result?.plan_only === true).length,
        );
        expect(await runs.locator('.badge.status.st-bad', { hasText: 'plan only' }).count()).toBe(0);
        const tabs = page.getByRole('tablist', { name: 'Spec views' });
        await tabs.getByRole('tab', { name: 'Tasks' }).click();
        const graph = page.getByRole('img', { name: /^Task dependency graph/ });
        await graph.waitFor();
        expect(await graph.locator('.graph-node.status-plan_only').count()).toBeGreaterThan(0);
        await screenshot(page, 'exec-02-tasks-plan-only');
      } else {
        const done = page
          .locator('.column[aria-label^="done"]')
          .locator('.board-card', { hasText: ticket.ref });
        await done.waitFor({ timeout: RUN_TIMEOUT });
        await screenshot(page, 'exec-01-board-done');
        expect((await api<Detail>('GET', `/api/v1/tickets/${ticket.id}`)).status).toBe('done');
        expect(specTasks.map((t) => t.status)).toEqual(specTasks.map(() => 'completed'));

        // The dependency picture shows the live state: every node done.
        await page.goto(`/tickets/${ticket.id}`);
        const tabs = page.getByRole('tablist', { name: 'Spec views' });
        await tabs.getByRole('tab', { name: 'Tasks' }).click();
        const graph = page.getByRole('img', { name: /^Task dependency graph/ });
        await graph.waitFor();
        await expect
          .poll(() => graph.locator('.graph-node.status-done').count(), { timeout: 30_000 })
          .toBe(specTasks.length);
        await screenshot(page, 'exec-02-tasks-done');
      }
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
