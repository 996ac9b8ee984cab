// Issue 17's spec review in the browser, as a person reviews a plan before approving it: each task
// opens (objective, criteria, requirements, dependencies), the graph shows whole titles, the
// Requirements tab keeps the document's own words, the spec ticket and the platform ticket link to
// each other, the timeline reads per task after approval, and a 390 px screen never scrolls
// sideways. Chromium against a real `omoi start` (offline runtime, a temporary bare repository).
// Needs `npm run build` first. Screenshots go to test-results/spec-review-*.png.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, screenshot, type WatchedPage } from './support/browser.js';
import { createBareRepo, type RunningOmoi, startOmoi } from './support/omoi-server.js';

const RUN_TIMEOUT = 150_000;

let omoi: RunningOmoi;
let browser: Browser;
let project: { id: string };
let ticket: { id: string; ref: string };

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(omoi.url + path, {
    method,
    headers: method === 'GET' ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

beforeAll(async () => {
  omoi = await startOmoi();
  browser = await launchChromium();
  project = await api('POST', '/api/v1/projects', { name: 'review', repo_url: createBareRepo(omoi.tmp) });
  ({ ticket } = await api<{ ticket: { id: string; ref: string } }>('POST', '/api/v1/tickets', {
    project_id: project.id,
    description:
      'Export reports as CSV files.\nUsers download any report as CSV; large reports stream; the export respects filters.',
    workflow_mode: 'spec_driven',
  }));
});

afterAll(async () => {
  await browser?.close();
  await omoi?.stop();
});

async function withPage(width: number, journey: (page: Page) => Promise<void>) {
  const watched: WatchedPage = await openPage(browser, omoi.url, width);
  try {
    await journey(watched.page);
  } catch (error) {
    await screenshot(watched.page, `spec-review-failed-${Date.now()}`).catch(() => undefined);
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\n--- omoi output ---\n${omoi.output().slice(-4000)}`,
    );
  } finally {
    await watched.context.close();
  }
  expect(watched.errors).toEqual([]);
}

async function noSideways(page: Page) {
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
  expect(overflow).toBeLessThanOrEqual(0);
}

/** Opens the ticket once its spec waits for approval. */
async function openAwaiting(page: Page) {
  await page.goto(`/tickets/${ticket.ref}`);
  await page
    .locator('.ticket-head .badge.status', { hasText: 'awaiting approval' })
    .waitFor({ timeout: RUN_TIMEOUT });
}

const tabs = (page: Page) => page.getByRole('tablist', { name: 'Spec views' });

describe('spec review in the browser', { timeout: 400_000 }, () => {
  it('reads the whole requirements document and a design without its title twice', async () => {
    await withPage(1280, async (page) => {
      await openAwaiting(page);
      await tabs(page).getByRole('tab', { name: 'Requirements' }).click();
      const panel = page.getByRole('tabpanel');
      await panel.locator('.requirement').first().waitFor();
      // the offline runtime's own line around the items is kept, before the first item
      const note = panel.getByText(/review before approving/);
      await note.waitFor();
      const noteTop = (await note.boundingBox())!.y;
      const firstItemTop = (await panel.locator('.requirement').first().boundingBox())!.y;
      expect(noteTop).toBeLessThan(firstItemTop);
      expect(await panel.locator('.requirement').count()).toBeGreaterThanOrEqual(2);
      await screenshot(page, 'spec-review-01-requirements');

      await tabs(page).getByRole('tab', { name: 'Design' }).click();
      const heading = (await page.getByRole('tabpanel').locator('h3').first().textContent()) ?? '';
      const title = heading.replace(/DESIGN-\S+$/, '').trim();
      expect(title).toMatch(/: design$/);
      expect(await page.getByRole('tabpanel').getByText(title, { exact: true }).count()).toBe(0);
      expect(await page.getByRole('tabpanel').locator('.markdown h1').count()).toBe(0);
    });
  });

  it('opens each task from the graph and the table, with full labels and both tickets linked', async () => {
    await withPage(1280, async (page) => {
      await openAwaiting(page);
      // the header names the spec ticket; it leads to the Tasks tab, which names the platform ticket
      const specLink = page.locator('.spec-links button.link').first();
      const specRef = ((await specLink.textContent()) ?? '').trim();
      expect(specRef).toMatch(/^TKT-[A-Z0-9]+-\d{3}$/);
      await specLink.click();
      expect(await tabs(page).getByRole('tab', { name: 'Tasks' }).getAttribute('aria-selected')).toBe('true');
      const specTicket = page.locator(`#spec-ticket-${specRef}`);
      await specTicket.waitFor();
      const back = specTicket.getByRole('link', { name: ticket.ref });
      expect(await back.getAttribute('href')).toBe(`/tickets/${ticket.ref}`);

      // every node shows its whole title (wrapped, not cut), and its tooltip says it again
      const rows = page.locator('table.tasks tbody tr');
      const titles: Record<string, string> = {};
      for (const row of await rows.all()) {
        const cell = ((await row.locator('td').first().textContent()) ?? '').trim();
        const [id, ...rest] = cell.split(' ');
        titles[id!] = rest.join(' ');
      }
      expect(Object.keys(titles).length).toBeGreaterThanOrEqual(3);
      const graph = page.getByRole('img', { name: /^Task dependency graph/ });
      for (const [id, title] of Object.entries(titles)) {
        const node = graph.locator(`.graph-node[data-id="${id}"]`);
        const shown = (await node.locator('.graph-title tspan').allTextContents()).join(' ');
        expect(shown).toBe(title);
        expect(await node.locator('title').textContent()).toContain(`${id}: ${title}`);
      }

      // a node opens its task: objective, criteria, the requirements it covers, its dependencies
      const [firstId, secondId] = Object.keys(titles);
      await graph.locator(`.graph-node[data-id="${secondId}"]`).click();
      const panel = page.getByRole('dialog', { name: `Task ${secondId} ${titles[secondId!]}` });
      await panel.waitFor();
      expect(await panel.getByRole('region', { name: 'Objective' }).textContent()).toMatch(/Implement REQ-/);
      expect(
        await panel.getByRole('region', { name: 'Acceptance criteria' }).locator('li').count(),
      ).toBeGreaterThan(0);
      expect(await panel.getByRole('region', { name: 'Requirements covered' }).textContent()).toMatch(
        /REQ-\S+ \S/,
      );
      const dependencies = panel.getByRole('region', { name: 'Dependencies' });
      expect(await dependencies.textContent()).toContain(`${firstId} ${titles[firstId!]}`);
      expect(await panel.getByRole('region', { name: 'Delivery' }).textContent()).toContain('Not started');
      await screenshot(page, 'spec-review-02-task-panel');
      // its dependency opens in the same panel; Escape closes it
      await dependencies.getByRole('button', { name: firstId }).click();
      await page.getByRole('dialog', { name: `Task ${firstId} ${titles[firstId!]}` }).waitFor();
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      // and from the table, by keyboard
      await rows.first().getByRole('button').focus();
      await page.keyboard.press('Enter');
      await page.getByRole('dialog', { name: `Task ${firstId} ${titles[firstId!]}` }).waitFor();
    });
  });

  it('fits 390 px: the ticket, its tabs and an open task never scroll sideways', async () => {
    await withPage(390, async (page) => {
      await openAwaiting(page);
      await noSideways(page);
      await tabs(page).getByRole('tab', { name: 'Requirements' }).click();
      await page.locator('.requirement').first().waitFor();
      await noSideways(page);
      await screenshot(page, 'spec-review-03-requirements-390');
      await tabs(page).getByRole('tab', { name: 'Tasks' }).click();
      await page.locator('table.tasks tbody tr').first().waitFor();
      await noSideways(page);
      await page.locator('table.tasks tbody tr').nth(1).getByRole('button').click();
      const panel = page.getByRole('dialog');
      await panel.waitFor();
      const box = (await panel.boundingBox())!;
      expect(box.width).toBeLessThanOrEqual(390);
      await noSideways(page);
      await screenshot(page, 'spec-review-04-task-panel-390');
    });
  });

  it('after approval groups the timeline per task and shows each task as it ends', async () => {
    await withPage(1280, async (page) => {
      await openAwaiting(page);
      await page.locator('.ticket-head').getByRole('button', { name: 'Approve', exact: true }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Approve and start' }).click();
      await page.getByRole('button', { name: 'Approved' }).waitFor({ timeout: 60_000 });
      const groups = page.locator('.timeline .task-group');
      await groups.nth(2).waitFor({ timeout: RUN_TIMEOUT });
      // the approval sits in the ticket's own group; the spec run folds once it has finished
      await page
        .locator('.task-group[data-task="ticket"] .event-title', { hasText: /^Spec approved/ })
        .waitFor();

      // every spec task ends: done with evidence, or "plan only (no model)" while the offline
      // runtime cannot write code (issue 13); never left running
      const runs = page.getByRole('region', { name: 'Tasks' }).locator('tbody tr[data-task^="TSK-"]');
      await runs.first().waitFor();
      const count = await runs.count();
      expect(count).toBeGreaterThanOrEqual(3);
      const ended = /^(done|plan only \(no model\)|failed|blocked|cancelled)$/;
      await expect
        .poll(
          async () =>
            (await runs.locator('td:nth-child(2) .badge.status').allTextContents()).every((s) =>
              ended.test(s.trim()),
            ),
          { timeout: RUN_TIMEOUT, interval: 1000 },
        )
        .toBe(true);
      const statuses = (await runs.locator('td:nth-child(2) .badge.status').allTextContents()).map((s) =>
        s.trim(),
      );
      // the offline runtime ends each runnable task plan-only, and its dependants wait blocked
      expect(statuses.every((s) => ['done', 'plan only (no model)', 'blocked'].includes(s))).toBe(true);
      expect(statuses).toContain('plan only (no model)');
      // one group per task that ran, each saying where it is
      await expect.poll(() => groups.count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(count + 2);
      for (const summary of await page
        .locator('.task-group[data-task]:not([data-task="ticket"]) .group-step')
        .allTextContents())
        expect(summary).toMatch(/ · \d+ events?$/);
      // a finished group folds; opening it shows its entries
      const finished = page
        .locator('.task-group')
        .filter({ has: page.locator('summary .badge.status', { hasText: /^(done|plan only)/ }) })
        .first();
      expect(await finished.locator(':scope > details').getAttribute('open')).toBeNull();
      await finished.locator(':scope > details > summary').click();
      await finished.locator('.event-title').first().waitFor();
      await screenshot(page, 'spec-review-05-approved-grouped');

      // the task panel now shows the run: its branch and its evidence (or plan only)
      await runs.first().getByRole('button').click();
      const delivery = page.getByRole('dialog').getByRole('region', { name: 'Delivery' });
      await delivery.locator('.facts').waitFor();
      expect(await delivery.textContent()).toMatch(/omoi\/TKT-\d+-TSK-/);
      await screenshot(page, 'spec-review-06-task-delivered');
    });
  });

  it('fits 390 px after approval too: the runs table and the grouped timeline', async () => {
    await withPage(390, async (page) => {
      await page.goto(`/tickets/${ticket.ref}`);
      await page.locator('.timeline .task-group').nth(2).waitFor();
      await page.getByRole('region', { name: 'Tasks' }).locator('tbody tr').first().waitFor();
      await noSideways(page);
      await screenshot(page, 'spec-review-08-approved-390');
    });
  });

  it('a Quick ticket uses the whole width', async () => {
    const { ticket: quick } = await api<{ ticket: { id: string } }>('POST', '/api/v1/tickets', {
      project_id: project.id,
      description: 'Add a health check endpoint',
      workflow_mode: 'quick',
    });
    await withPage(1280, async (page) => {
      await page.goto(`/tickets/${quick.id}`);
      const timeline = page.getByRole('region', { name: 'Timeline' });
      // the run's outcome does not matter here (the offline runtime may end it as plan only)
      await timeline.locator('.event-title', { hasText: 'Task claimed' }).waitFor({ timeout: RUN_TIMEOUT });
      const main = (await page.locator('main').boundingBox())!;
      const box = (await timeline.boundingBox())!;
      expect(box.width).toBeGreaterThan(main.width * 0.8);
      await screenshot(page, 'spec-review-07-quick-1280');
    });
  });
});
