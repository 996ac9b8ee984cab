// Browser journeys: Debian's Chromium against a real `omoi start` (temporary data folder, offline
// runtime, a temporary bare repository as the project's remote). Each journey saves a screenshot
// under test-results/. Needs `npm run build` first. The journeys share one server (starting one costs
// seconds) and run in order, each building on what the earlier ones created, as a person's day would.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, screenshot, type WatchedPage } from './support/browser.js';
import { branchesOf, createBareRepo, type RunningOmoi, startOmoi } from './support/omoi-server.js';

const RUN_TIMEOUT = 150_000;

let omoi: RunningOmoi;
let browser: Browser;
let bare: string;

beforeAll(async () => {
  omoi = await startOmoi();
  bare = createBareRepo(omoi.tmp);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await omoi?.stop();
});

async function withPage(
  width: number,
  journey: (watched: WatchedPage) => Promise<void>,
  allowErrors?: RegExp,
) {
  const watched = await openPage(browser, omoi.url, width);
  try {
    await journey(watched);
  } catch (error) {
    await screenshot(watched.page, `failed-${Date.now()}`).catch(() => undefined);
    throw new Error(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n--- omoi output ---\n${omoi.output().slice(-4000)}`,
    );
  } finally {
    await watched.context.close();
  }
  expect(watched.errors.filter((e) => !allowErrors?.test(e))).toEqual([]);
}

async function post<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(omoi.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

const timeline = (page: Page) => page.getByRole('region', { name: 'Timeline' });

/** A timeline entry's headline (not the folded sandbox log, which repeats some of the words). */
async function waitForEntry(page: Page, text: string | RegExp) {
  const entry = timeline(page)
    .locator('.event-title, .event-note, .event-head summary')
    .filter({ hasText: text });
  await entry.first().waitFor({ timeout: RUN_TIMEOUT });
}

async function noSideways(page: Page) {
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
  expect(overflow).toBeLessThanOrEqual(0);
}

describe('web journeys', () => {
  it('opens on the Command Center and adds a project inline', async () => {
    await withPage(1280, async ({ page }) => {
      await page.goto('/');
      await page.waitForURL('**/command');
      await page.getByRole('heading', { name: 'Command Center' }).waitFor();
      await page.getByText('No project yet: add a repository to start.').waitFor();
      await page.getByLabel('Repository', { exact: true }).fill(bare);
      await page.getByLabel('Name', { exact: true }).fill('demo');
      await page.getByRole('button', { name: 'Add project' }).click();
      const picker = page.getByLabel('Project', { exact: true });
      await picker.waitFor();
      expect(await picker.locator('option:checked').textContent()).toBe('demo');
      await screenshot(page, 'web-01-project-added');

      await page.getByRole('link', { name: 'Projects' }).click();
      await page.getByRole('cell', { name: 'demo', exact: true }).waitFor();
      await page.getByRole('cell', { name: bare }).waitFor();
    });
  });

  it('launches a Quick run with the keyboard alone', async () => {
    await withPage(1280, async ({ page }) => {
      await page.goto('/command');
      await page.getByPlaceholder('Describe what you want to build…').waitFor();
      // Tab from the top of the page to the prompt box
      for (let i = 0; i < 30; i++) {
        await page.keyboard.press('Tab');
        if (await page.evaluate<boolean>("document.activeElement?.tagName === 'TEXTAREA'")) break;
      }
      expect(
        await page.evaluate<string | null>("document.activeElement?.getAttribute('placeholder') ?? null"),
      ).toBe('Describe what you want to build…');
      await page.getByText('An agent starts implementing right away').waitFor();
      await page.keyboard.type('Add a health check endpoint');
      // the button enables once the project list has arrived and the picker has chosen one
      const launch = page.getByRole('button', { name: 'Launch' });
      await expect.poll(() => launch.isEnabled(), { timeout: 30_000, interval: 100 }).toBe(true);
      await page.keyboard.press('Control+Enter');
      await page.waitForURL(/\/tickets\/[^/]+$/);
      await page.getByText('Quick', { exact: true }).first().waitFor();
      // The offline runtime cannot write code (issue 13): the run ends "plan only", nothing pushed.
      await waitForEntry(page, /^Task failed: plan only \(no model\)/);
      // the runtime that ran it, in the header
      await page.locator('.ticket-head .badge.runtime', { hasText: 'offline (no model)' }).waitFor();
      expect(
        await timeline(page)
          .locator('.event-title', { hasText: /^Spec validation/ })
          .count(),
      ).toBe(0);
      await screenshot(page, 'web-02-quick-ticket');
    });
  });

  it('creates a spec, follows the run live, reads the spec tabs and finds it on the board', async () => {
    await withPage(1280, async ({ page }) => {
      await page.goto('/command');
      await page.getByRole('radio', { name: /^Spec-Driven/ }).check();
      const prompt = page.getByPlaceholder('Describe the feature to plan…');
      await prompt.waitFor();
      await page.getByText('Requirements, design and tasks are generated for your approval').waitFor();
      await prompt.fill(
        'Export reports as CSV.\nUsers can download any report as a CSV file; large reports stream; the export respects filters.',
      );
      const createSpec = page.getByRole('button', { name: 'Create Spec' });
      await expect.poll(() => createSpec.isEnabled(), { timeout: 30_000, interval: 100 }).toBe(true);
      await prompt.press('Control+Enter');
      await page.waitForURL(/\/tickets\/[^/]+$/);
      await page.getByText('Spec-Driven', { exact: true }).first().waitFor();

      await waitForEntry(page, 'Spec skill enforcement enabled');
      await waitForEntry(page, /^Skill injected/);
      await waitForEntry(page, /^Spec validation PASSED/);
      await waitForEntry(page, /^Pushed omoi\//);
      await waitForEntry(page, /^Specs synced: \d+ created/);
      await waitForEntry(page, 'Task completed');

      const ref = (await page.locator('.ticket-head code').first().textContent())?.trim() ?? '';
      expect(ref).toMatch(/^TKT-\d{3,}$/);
      expect(branchesOf(bare).some((b) => b.startsWith('omoi/'))).toBe(true);

      const tabs = page.getByRole('tablist', { name: 'Spec views' });
      await tabs.getByRole('tab', { name: 'Requirements' }).click();
      const requirement = page.locator('.requirement').first();
      await requirement.waitFor({ timeout: 30_000 });
      expect(await requirement.locator('h4 code').textContent()).toMatch(/^REQ-[A-Z0-9]+-[A-Z0-9]+-\d{3,}$/);
      expect(await requirement.locator('.ears').textContent()).toMatch(/SHALL/i);
      expect(await requirement.locator('.criteria li').count()).toBeGreaterThan(0);

      await tabs.getByRole('tab', { name: 'Tasks' }).click();
      const rows = page.locator('table.tasks tbody tr');
      await rows.first().waitFor();
      expect(await rows.count()).toBeGreaterThanOrEqual(3);
      expect(await rows.first().locator('code').textContent()).toMatch(/^TSK-/);
      const graph = page.getByRole('img', { name: /^Task dependency graph/ });
      await graph.waitFor();
      expect(await graph.locator('.graph-node').count()).toBe(await rows.count());
      expect(await graph.locator('.graph-edge').count()).toBeGreaterThan(0);

      await tabs.getByRole('tab', { name: 'Design' }).click();
      await page.locator('.markdown h2, .markdown h1').first().waitFor();
      await tabs.getByRole('tab', { name: 'Validation' }).click();
      await page
        .getByText(/Spec validation PASSED/)
        .last()
        .waitFor();
      await tabs.getByRole('tab', { name: 'Tasks' }).click();
      await screenshot(page, 'web-03-spec-driven-ticket');

      // a passed, synced spec waits for a person: its own status, a banner saying what approving starts
      const head = page.locator('.ticket-head');
      await head.locator('.badge.status', { hasText: 'awaiting approval' }).waitFor();
      await head.locator('.badge.runtime', { hasText: 'offline (no model)' }).waitFor();
      const banner = page.locator('.banner.awaiting');
      await banner.waitFor();
      const taskCount = await rows.count();
      expect(await banner.textContent()).toContain(
        `Approving starts ${taskCount} tasks on the offline (no model) runtime`,
      );
      await page.locator('.ticket-head').getByRole('button', { name: 'Approve', exact: true }).click();
      // nothing is posted until the dialog is confirmed; "Keep reviewing" closes it
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('heading', { name: `Approve and start ${taskCount} tasks?` }).waitFor();
      expect(await dialog.locator('li').count()).toBe(taskCount);
      await screenshot(page, 'web-03-spec-driven-confirm');
      await dialog.getByRole('button', { name: 'Keep reviewing' }).click();
      await dialog.waitFor({ state: 'detached' });
      await head.locator('.badge.status', { hasText: 'awaiting approval' }).waitFor();
      await page.locator('.ticket-head').getByRole('button', { name: 'Approve', exact: true }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Approve and start' }).click();
      await waitForEntry(page, /^Spec approved: \d+ tasks? queued/);
      await page.locator('.banner.awaiting').waitFor({ state: 'detached' });
      await page.getByRole('button', { name: 'Approved' }).waitFor();
      // one executable task per spec task, plus the spec run itself and the integration run
      const runs = page.getByRole('region', { name: 'Tasks' }).locator('tbody tr');
      await runs.nth(3).waitFor();
      expect(await runs.count()).toBe((await rows.count()) + 2);
      await screenshot(page, 'web-03-spec-driven-approved');

      await page.getByRole('link', { name: 'Board' }).click();
      // refs are numbered per project: the card is the one with this ref and this title
      const card = page
        .locator('.board-card', { hasText: ref })
        .filter({ hasText: 'Export reports as CSV.' });
      await card.waitFor();
      await card.locator('.badge.mode-spec_driven').waitFor();
      await card.locator('.badge.spec').waitFor();
      await card.locator('.badge.runtime', { hasText: 'offline (no model)' }).waitFor();
      await page
        .locator('.column[data-status="awaiting_approval"] h2', { hasText: 'awaiting approval' })
        .waitFor();
      await screenshot(page, 'web-04-board');
    });
  });

  it('keeps the timeline whole, without repeats, across a server restart', async () => {
    // its own project, so the tasks the approval above queued do not run ahead of this one
    const remote = createBareRepo(omoi.tmp, 'restart.git');
    const project = await post<{ id: string }>('/api/v1/projects', { name: 'restart', repo_url: remote });
    const { ticket } = await post<{ ticket: { id: string } }>('/api/v1/tickets', {
      project_id: project.id,
      description: 'Plan a changelog page listing every release',
      workflow_mode: 'spec_driven',
    });
    await withPage(
      1280,
      async ({ page }) => {
        await page.goto(`/tickets/${ticket.id}`);
        await waitForEntry(page, 'Task claimed');
        const connection = timeline(page).getByRole('status');
        await connection.filter({ hasText: 'live' }).waitFor();

        await omoi.halt();
        await connection.filter({ hasText: 'reconnecting' }).waitFor({ timeout: 60_000 });
        await omoi.resume();
        await connection.filter({ hasText: 'live' }).waitFor({ timeout: 60_000 });

        await waitForEntry(page, 'Task completed');
        // the page shows exactly the stored events: none lost, none twice
        const stored = async () => {
          const detail = (await (await fetch(`${omoi.url}/api/v1/tickets/${ticket.id}`)).json()) as {
            events: { id: number }[];
          };
          return detail.events.map((e) => e.id).sort((a, b) => a - b);
        };
        const shown = async () => {
          const lists = await page
            .locator('.timeline > ol.events > li')
            .evaluateAll((items) => items.map((item) => item.getAttribute('data-event-ids') ?? ''));
          return lists.flatMap((list) => list.split(' ').map(Number));
        };
        let want: number[] = [];
        let got: number[] = [];
        for (let i = 0; i < 120; i++) {
          [want, got] = [await stored(), await shown()];
          if (want.join() === got.join()) break;
          await page.waitForTimeout(500);
        }
        expect(new Set(got).size).toBe(got.length);
        expect(got).toEqual(want);
        await screenshot(page, 'web-05-after-restart');
      },
      // the dropped stream and the refused reconnects while the server is down
      /ERR_(INCOMPLETE_CHUNKED_ENCODING|CONNECTION_REFUSED|EMPTY_RESPONSE|CONNECTION_RESET)/,
    );
  });

  it('shows why a run failed and retries it', async () => {
    // Added while it existed (the API checks a path is a repository), gone by the time it runs.
    const gone = `${omoi.tmp}/no-such-repo.git`;
    execFileSync('git', ['init', '--quiet', '--bare', gone]);
    const project = await post<{ id: string }>('/api/v1/projects', { name: 'gone', repo_url: gone });
    rmSync(gone, { recursive: true, force: true });
    const { ticket } = await post<{ ticket: { id: string } }>('/api/v1/tickets', {
      project_id: project.id,
      description: 'Add a footer',
      workflow_mode: 'quick',
    });
    await withPage(1280, async ({ page }) => {
      await page.goto(`/tickets/${ticket.id}`);
      await waitForEntry(page, /^Task failed: \S/);
      await page.locator('.facts .phase-failed').waitFor();
      const retry = page.getByRole('button', { name: 'Retry' });
      await expect.poll(() => retry.isEnabled(), { timeout: RUN_TIMEOUT, interval: 250 }).toBe(true);
      await screenshot(page, 'web-06-failed-run');
      await retry.click();
      await waitForEntry(page, 'Task retrying');
      // the retried run fails the same way: a second failure entry, still with its reason
      await page
        .locator('.timeline .event-title', { hasText: /^Task failed: \S/ })
        .nth(1)
        .waitFor({ timeout: RUN_TIMEOUT });
    });
  });

  it('cancels a queued run', async () => {
    // one run at a time in this project: the second ticket waits while the first one runs
    const remote = createBareRepo(omoi.tmp, 'queue.git');
    const project = await post<{ id: string }>('/api/v1/projects', {
      name: 'queue',
      repo_url: remote,
      settings: { concurrency_limit: 1 },
    });
    const ticket = (description: string) =>
      post<{ ticket: { id: string } }>('/api/v1/tickets', {
        project_id: project.id,
        description,
        workflow_mode: 'spec_driven',
      });
    await ticket('Plan an audit log');
    const { ticket: waiting } = await ticket('Plan a data export');
    await withPage(1280, async ({ page }) => {
      await page.goto(`/tickets/${waiting.id}`);
      const cancel = page.getByRole('button', { name: 'Cancel' });
      await expect.poll(() => cancel.isEnabled(), { timeout: 60_000, interval: 100 }).toBe(true);
      await cancel.click();
      await waitForEntry(page, 'Task cancelled');
      await page.locator('.facts .phase-cancelled').waitFor();
      await expect.poll(() => page.getByRole('button', { name: 'Retry' }).isEnabled()).toBe(true);
      expect(await cancel.isEnabled()).toBe(false);
      await screenshot(page, 'web-07-cancelled-run');
    });
  });

  it('shows API errors with their message', async () => {
    await withPage(
      1280,
      async ({ page }) => {
        await page.goto('/tickets/00000000-0000-4000-8000-000000000000');
        const alert = page.getByRole('alert');
        await alert.waitFor();
        expect(await alert.textContent()).toMatch(/NOT_FOUND/);
        await screenshot(page, 'web-08-api-error');

        // a request the API refuses, from a form: its message appears beside the form
        await page.getByRole('link', { name: 'Projects' }).click();
        await page.getByLabel('Repository', { exact: true }).fill(bare);
        await page.getByLabel('Name', { exact: true }).fill('team/demo');
        await page.getByRole('button', { name: 'Add project' }).click();
        const formAlert = page.getByRole('form', { name: 'Add a repository' }).getByRole('alert');
        await formAlert.waitFor();
        expect(await formAlert.textContent()).toMatch(/VALIDATION_FAILED/);
        await screenshot(page, 'web-09-form-error');
      },
      /status of 4\d\d/,
    );
  });

  it('fits a 390 px wide screen', async () => {
    await withPage(390, async ({ page }) => {
      await page.goto('/command');
      await page.getByPlaceholder(/Describe/).waitFor();
      await noSideways(page);
      await screenshot(page, 'web-10-command-390');
      await page.goto('/board');
      await page.locator('.board-card').first().waitFor();
      await noSideways(page);
      // live: a ticket created elsewhere appears without a reload
      const projects = (await (await fetch(`${omoi.url}/api/v1/projects`)).json()) as {
        projects: { id: string }[];
      };
      await post('/api/v1/tickets', {
        project_id: projects.projects[0]!.id,
        title: 'Arrives while the board is open',
        description: 'Arrives while the board is open',
        workflow_mode: 'quick',
      });
      await page
        .locator('.board-card', { hasText: 'Arrives while the board is open' })
        .waitFor({ timeout: 60_000 });
      await page.locator('.board-card', { hasText: 'Export reports as CSV.' }).waitFor();
      // the project filter keeps only that project's tickets, and the address says which
      await page.getByLabel('Project', { exact: true }).selectOption({ label: 'restart' });
      await page.waitForURL(/\/board\?project=/);
      await page.locator('.board-card', { hasText: 'Plan a changelog page' }).waitFor();
      await page
        .locator('.board-card', { hasText: 'Arrives while the board is open' })
        .waitFor({ state: 'detached' });
      expect(await page.locator('.board-card').count()).toBe(1);
      await screenshot(page, 'web-11-board-390');
    });
  });
});
