// Finding 14 of issue 12, in a real browser: a server that needs a key on every request
// (OMOI_REQUIRE_KEY=1) shows the web login; a pasted member key becomes a session cookie with which
// the Command Center launches a run and follows it live over SSE; logging out asks again.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium, openPage, screenshot } from './support/browser.js';
import { createBareRepo, type RunningOmoi, startOmoi } from './support/omoi-server.js';

const ADMIN = 'e2e-operator-key-0123456789abcdef';
let omoi: RunningOmoi;
let browser: Browser;
let memberKey: string;

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${omoi.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN}`,
      ...(method === 'GET' ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

beforeAll(async () => {
  // The server inherits this process's environment.
  process.env.OMOI_REQUIRE_KEY = '1';
  process.env.OMOI_API_KEY = ADMIN;
  omoi = await startOmoi();
  await api('POST', '/projects', { name: 'guarded', repo_url: createBareRepo(omoi.tmp) });
  memberKey = (await api<{ key: string }>('POST', '/keys', { name: 'browser', role: 'member' })).key;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await omoi?.stop();
  delete process.env.OMOI_REQUIRE_KEY;
  delete process.env.OMOI_API_KEY;
});

async function logIn(page: Page, key: string) {
  await page.getByLabel('API key', { exact: true }).fill(key);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
}

it('logs in with a key, runs a ticket over the session cookie, and logs out', async () => {
  const { page, context, errors } = await openPage(browser, omoi.url);
  try {
    await page.goto('/command');
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await screenshot(page, 'web-login-01-asked');

    await logIn(page, 'omoi_sk_not-a-real-key');
    await page.getByRole('alert').filter({ hasText: 'unknown, revoked or expired' }).waitFor();

    await logIn(page, memberKey);
    await page.getByRole('heading', { name: 'Command Center' }).waitFor();
    await page.getByText('browser (member)').waitFor();
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'omoi_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(session?.value).not.toContain(memberKey);

    const prompt = page.getByPlaceholder('Describe what you want to build…');
    await prompt.fill('Add a health check endpoint');
    await page.getByRole('button', { name: 'Launch' }).click();
    await page.waitForURL(/\/tickets\/[^/]+$/);
    // The live timeline (EventSource, cookie only) shows the run to its end.
    await page
      .locator('.timeline')
      .locator('.event-title, .event-note, .event-head summary')
      // the offline runtime cannot write code: the run's end is "plan only" (issue 13)
      .filter({ hasText: /^Task failed: plan only \(no model\)/ })
      .first()
      .waitFor({ timeout: 120_000 });
    await screenshot(page, 'web-login-02-run-followed');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    expect((await context.cookies()).some((c) => c.name === 'omoi_session' && c.value !== '')).toBe(false);
    // The 401s that led to the login are the only console errors.
    expect(errors.filter((e) => !/401|Unauthorized/i.test(e))).toEqual([]);
  } finally {
    await context.close();
  }
});
