// The question card in the browser: Chromium against the real server (PGlite, the built web UI), a
// question asked the way a worker asks it (its token, POST /tasks/:id/question) while the ticket page
// is open. The card appears from the event stream without a reload, the inbox in the top bar counts
// it, the board card says "needs your answer"; an option answers in one click, a typed answer goes
// with Ctrl+Enter, and the task is queued again each time. At 390 px nothing scrolls sideways.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/api/main.js';
import { loadServerConfig } from '../../src/core/config.js';
import { createServices, type Services } from '../../src/core/services.js';
import { askAsWorker } from '../support/ask-as-worker.js';
import { openTestDatabase, type TestDatabase } from '../support/db.js';
import { launchChromium, openPage, screenshot } from './support/browser.js';
import { createBareRepo, ROOT } from './support/omoi-server.js';

let database: TestDatabase;
let services: Services;
let server: RunningServer;
let browser: Browser;
let projectId = '';

beforeAll(async () => {
  database = await openTestDatabase('pglite');
  services = await createServices(database.db, { eventPollMs: 200 });
  const tmp = mkdtempSync(join(tmpdir(), 'omoi-question-card-'));
  projectId = (await services.projects.create({ name: 'asks', repo_url: createBareRepo(tmp) })).id;
  // No orchestrator: the task runs only when the test claims it, as a worker would.
  server = await startServer(
    loadServerConfig({}, { port: 0, host: '127.0.0.1', webDir: join(ROOT, 'web', 'dist') }),
    { services },
  );
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await services?.stop();
  await database?.cleanup();
});

/** Whether the page scrolls sideways (wider than the viewport). */
const scrollsSideways = (page: Page) =>
  page.evaluate<boolean>('document.documentElement.scrollWidth > document.documentElement.clientWidth');

it('shows the question live, answers it in one click or typed, and keeps the inbox count live', async () => {
  const { ticket, task } = await services.tickets.create({
    project_id: projectId,
    description: 'Add sessions to the API',
    workflow_mode: 'quick',
  });
  const wide = await openPage(browser, server.url, 1280);
  const narrow = await openPage(browser, server.url, 390);
  const { page } = wide;
  try {
    await page.goto(`/tickets/${ticket.id}`);
    await page.getByRole('heading', { name: 'Add sessions to the API' }).waitFor();
    const inbox = page.locator('.inbox-toggle');
    await inbox.filter({ hasText: 'Inbox 0' }).waitFor();
    await narrow.page.goto(`/board?project=${projectId}`);
    await narrow.page.locator('.board-card').first().waitFor();

    // The worker asks while the page is open: the card comes over the event stream, no reload. The
    // page notes when the card enters the document (the browser's clock is this machine's).
    await page.evaluate(`new MutationObserver((records, observer) => {
      if (!document.querySelector('[data-question]')) return;
      window.cardAt = Date.now();
      observer.disconnect();
    }).observe(document.body, { childList: true, subtree: true })`);
    const askedAt = Date.now();
    const asked = await askAsWorker({ url: server.url, services }, task.id, {
      question: 'Which database should sessions use?',
      options: ['PostgreSQL', 'Redis'],
      why: 'The ticket names none, and the two need different expiry code.',
    });
    const postedAt = Date.now();
    const card = page.getByRole('region', { name: 'The agent asks' });
    await card.waitFor({ timeout: 10_000 });
    const cardAt = await page.evaluate<number>('window.cardAt ?? 0');
    // Printed, not asserted (a loaded 2-core machine is no place for speed limits): issue 15 wants < 1 s.
    console.log(
      `question card in the page ${cardAt - askedAt} ms after the worker began asking ` +
        `(claim, token and POST /question; the POST answered after ${postedAt - askedAt} ms)`,
    );
    expect(await card.getAttribute('data-question')).toBe(asked.id);
    expect(await card.textContent()).toContain(
      'Why it asks: The ticket names none, and the two need different expiry code.',
    );
    await inbox.filter({ hasText: 'Inbox 1' }).waitFor();
    await page.locator('table.runs, .facts').first().waitFor();
    expect(await page.locator('.phase-awaiting_input').textContent()).toBe('needs your answer');
    await narrow.page
      .locator('.board-card', { hasText: 'Add sessions to the API' })
      .locator('.badge.status', { hasText: 'needs your answer' })
      .waitFor({ timeout: 40_000 });
    await screenshot(page, 'question-card-1280');
    expect(await scrollsSideways(narrow.page)).toBe(false);
    await screenshot(narrow.page, 'question-board-390');

    // The inbox lists it and leads to the ticket.
    await narrow.page.locator('.inbox-toggle').click();
    const listed = narrow.page.getByRole('region', { name: 'Questions waiting for you' });
    await listed.getByText('Which database should sessions use?').waitFor();
    expect(await scrollsSideways(narrow.page)).toBe(false);
    await screenshot(narrow.page, 'question-inbox-390');
    await listed.getByRole('link').click();
    await narrow.page.getByRole('region', { name: 'The agent asks' }).waitFor();
    expect(new URL(narrow.page.url()).pathname).toBe(`/tickets/${ticket.id}`);
    expect(await scrollsSideways(narrow.page)).toBe(false);
    await screenshot(narrow.page, 'question-card-390');

    // One click answers; the card then says who answered, the task is queued again.
    await card
      .getByRole('group', { name: 'Answer with one click' })
      .getByRole('button', { name: 'Redis' })
      .click();
    const answered = page.getByRole('region', { name: 'The agent asked' });
    await answered.getByText('Answered by local user').waitFor();
    expect(await answered.textContent()).toContain('Answer: Redis');
    expect((await services.tasks.get(task.id)).status).toBe('pending');
    await inbox.filter({ hasText: 'Inbox 0' }).waitFor();
    // the other page learns it from the stream
    await narrow.page.getByRole('region', { name: 'The agent asked' }).waitFor();

    // A second question, answered from the keyboard: the answer box by its label, Ctrl+Enter sends.
    const second = await askAsWorker({ url: server.url, services }, task.id, {
      question: 'How long should a session last?',
    });
    const box = page.getByLabel('Your answer');
    await box.waitFor();
    await box.focus();
    await page.keyboard.type('Seven days, renewed on use.');
    await page.keyboard.press('Control+Enter');
    await page.locator(`[data-question="${second.id}"]`).getByText('Answered by local user').waitFor();
    const [latest] = (await services.questions.list({ ticket_id: ticket.id })).filter(
      (q) => q.id === second.id,
    );
    expect(latest).toMatchObject({ status: 'answered', answer: 'Seven days, renewed on use.' });
    expect((await services.tasks.get(task.id)).status).toBe('pending');
    await screenshot(page, 'question-answered-1280');
  } finally {
    await wide.context.close();
    await narrow.context.close();
  }
  expect(wide.errors).toEqual([]);
  expect(narrow.errors).toEqual([]);
}, 180_000);
