// The question inbox in the browser, end to end (issue 15): `omoi start` with the `openai` runtime
// pointed at the scripted fake model server, and Chromium on the ticket page. The spec run's model
// asks before writing anything (`ask_user`); the card appears on the open page from the event stream,
// the person answers with one click, the run resumes with the answer as the result of its ask_user
// call, completes, and the clarification is in the spec committed on the ticket's branch and in the
// Requirements tab. Checked at 1280 px and at 390 px (nothing scrolls sideways).
import { execFileSync } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dagSpec } from '../exec/support/dag-spec.js';
import { type FakeModelServer, type ScriptTurn, startFakeModelServer } from '../support/fake-model-server.js';
import { eventually } from '../support/wait.js';
import { launchChromium, openPage, screenshot } from './support/browser.js';
import { callApi, createBareRepo, type RunningOmoi, startOmoi } from './support/omoi-server.js';

const QUESTION = 'Which database should sessions live in?';
const WHY = 'The request names no store, and the expiry code differs.';
const write = (path: string, content: string) => ({ name: 'write_file', input: { path, content } });

let model: FakeModelServer;
let omoi: RunningOmoi;
let browser: Browser;

beforeAll(async () => {
  const spec = dagSpec({ feature: 'ASK', tasks: { A: [] } });
  const turns: ScriptTurn[] = [
    // The spec run asks first, before any file exists.
    {
      match: 'Add sessions',
      toolCalls: [
        { name: 'ask_user', input: { question: QUESTION, options: ['PostgreSQL', 'Redis'], why: WHY } },
      ],
    },
    // After the answer: the spec, then the end of the turn.
    {
      match: 'Add sessions',
      text: 'Writing the spec with PostgreSQL.',
      toolCalls: spec.map((f) => write(f.path, String(f.content))),
    },
    { match: 'Add sessions', text: 'Planned.' },
  ];
  model = await startFakeModelServer({ turns });
  omoi = await startOmoi({
    AGENT_RUNTIME: 'openai',
    OPENAI_BASE_URL: `${model.url}/v1`,
    OPENAI_API_KEY: 'sk-test-openai',
    OMOI_MODEL: 'gpt-fake',
  });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await omoi?.stop();
  await model?.close();
});

const api = <T>(method: string, path: string, body?: unknown) =>
  callApi<T>(`${omoi.url}/api/v1`, method, path, body);

it('the model asks, the card appears, the answer in the browser resumes the run into the committed spec', async () => {
  const remote = createBareRepo(omoi.tmp);
  const project = await api<{ id: string }>('POST', '/projects', { name: 'journey', repo_url: remote });
  const wide = await openPage(browser, omoi.url, 1280);
  const { page } = wide;
  try {
    // The page is open before anything runs; it notes when a question card enters the document.
    await page.goto(`/board?project=${project.id}`);
    await page.locator('.inbox-toggle', { hasText: 'Inbox 0' }).waitFor();
    const { ticket, task } = await api<{ ticket: { id: string; ref: string }; task: { id: string } }>(
      'POST',
      '/tickets',
      { project_id: project.id, description: 'Add sessions to the login flow', workflow_mode: 'spec_driven' },
    );
    await page.goto(`/tickets/${ticket.id}`);
    await page.getByRole('heading', { name: 'Add sessions to the login flow' }).waitFor();
    await page.evaluate(`new MutationObserver((records, observer) => {
      if (!document.querySelector('[data-question]')) return;
      window.cardAt = Date.now();
      observer.disconnect();
    }).observe(document.body, { childList: true, subtree: true })`);

    const card = page.getByRole('region', { name: 'The agent asks' });
    await card.waitFor({ timeout: 150_000 });
    const cardAt = await page.evaluate<number>('window.cardAt ?? 0');
    const { events } = await api<{ events: { type: string; ts: string }[] }>('GET', `/tickets/${ticket.id}`);
    const askedAt = Date.parse(events.find((e) => e.type === 'agent.question')!.ts);
    // Printed, not asserted (no speed limits in tests on a shared 2-core machine); issue 15: < 1 s.
    console.log(`question card in the page ${cardAt - askedAt} ms after agent.question was recorded`);
    expect(await card.textContent()).toContain(QUESTION);
    expect(await card.textContent()).toContain(`Why it asks: ${WHY}`);
    expect(await page.locator('.phase-awaiting_input').textContent()).toBe('needs your answer');
    await page.locator('.inbox-toggle', { hasText: 'Inbox 1' }).waitFor();
    expect(await api<{ status: string }>('GET', `/tasks/${task.id}`)).toMatchObject({
      status: 'awaiting_input',
    });
    await screenshot(page, 'question-journey-asked-1280');

    // One click answers; the run resumes on its own and completes.
    await card.getByRole('button', { name: 'PostgreSQL' }).click();
    await page.getByRole('region', { name: 'The agent asked' }).getByText('Answered by local user').waitFor();
    const ended = await eventually(
      async () => {
        const t = await api<{ status: string; error: string | null }>('GET', `/tasks/${task.id}`);
        return (t.status === 'completed' || t.status === 'failed') && t;
      },
      'the resumed spec run to end',
      240_000,
    );
    if (ended.status !== 'completed') {
      const detail = await api<{ events: { type: string; data: unknown }[] }>('GET', `/tickets/${ticket.id}`);
      const last = detail.events.map((e) => `${e.type} ${JSON.stringify(e.data).slice(0, 200)}`);
      expect.fail(`the resumed run failed: ${ended.error}\nevents:\n${last.join('\n')}`);
    }
    await page
      .locator('.ticket-head .badge.status', { hasText: 'awaiting approval' })
      .waitFor({ timeout: 30_000 });

    // The conversation went on: the answer reached the model as the result of its ask_user call.
    const resumed = model
      .modelRequests()
      .map((r) => r.body as { messages: { role: string; content: unknown }[] })
      .find((body) =>
        body.messages.some((m) => m.role === 'tool' && String(m.content).includes('PostgreSQL')),
      );
    expect(resumed).toBeDefined();

    // The clarification is committed with the spec on the ticket's branch, and shown in the browser.
    const requirements = execFileSync(
      'git',
      ['--git-dir', remote, 'show', `omoi/${ticket.ref}:.omoi_os/requirements/ask.md`],
      { encoding: 'utf8' },
    );
    expect(requirements).toContain('## Clarifications');
    expect(requirements).toContain(`> ${QUESTION}`);
    expect(requirements).toContain('> PostgreSQL');
    const specs = page.locator('#spec-views');
    await specs.getByRole('tab', { name: 'Requirements' }).click();
    await specs.getByRole('heading', { name: 'Clarifications' }).waitFor({ timeout: 30_000 });
    expect(await specs.textContent()).toContain(QUESTION);
    await screenshot(page, 'question-journey-done-1280');
  } finally {
    await wide.context.close();
  }
  expect(wide.errors).toEqual([]);

  // At phone width the answered card and the spec read without sideways scrolling.
  const narrow = await openPage(browser, omoi.url, 390);
  try {
    const { questions } = await api<{ questions: { ticket_id: string }[] }>(
      'GET',
      '/questions?status=answered',
    );
    await narrow.page.goto(`/tickets/${questions[0]!.ticket_id}`);
    await narrow.page.getByRole('region', { name: 'The agent asked' }).waitFor();
    expect(
      await narrow.page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth'),
    ).toBe(0);
    await screenshot(narrow.page, 'question-journey-done-390');
  } finally {
    await narrow.context.close();
  }
  expect(narrow.errors).toEqual([]);
}, 600_000);
