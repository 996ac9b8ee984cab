import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { ROOT } from './omoi-server.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Debian's Chromium, driven by playwright-core (never a downloaded browser). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export const RESULTS = join(ROOT, 'test-results');

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS, { recursive: true });
  const path = join(RESULTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
}

/** A fresh page at the given width that records console errors and page errors. */
export async function openPage(browser: Browser, baseURL: string, width = 1280): Promise<WatchedPage> {
  const context = await browser.newContext({ baseURL, viewport: { width, height: width > 600 ? 900 : 844 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  return { page, context, errors };
}

/**
 * Opens a ticket's page and waits until its spec awaits approval (the spec run can take a while):
 * the Approve button enabled and the status badge saying so. Returns the button.
 */
export async function openAwaitingApproval(page: Page, ticketRef: string, timeout: number) {
  await page.goto(`/tickets/${ticketRef}`);
  const approve = page.getByRole('button', { name: 'Approve', exact: true });
  await approve.waitFor({ timeout });
  for (const deadline = Date.now() + timeout; !(await approve.isEnabled()); ) {
    if (Date.now() > deadline) throw new Error(`the Approve button stayed disabled for ${timeout} ms`);
    await page.waitForTimeout(250);
  }
  await page.locator('.ticket-head .badge.status', { hasText: 'awaiting approval' }).waitFor();
  return approve;
}

/** Approves through the confirmation dialog and waits until the page says so. */
export async function approveInDialog(page: Page) {
  await page.getByRole('button', { name: 'Approve', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Approve and start' }).click();
  await page.getByRole('button', { name: 'Approved' }).waitFor({ timeout: 60_000 });
}
