// The port to a code forge's pull/merge requests: one small interface, one file per forge beside it
// (github.ts, gitlab.ts), and `createForge` in index.ts picks one by the project's settings. Only the
// server calls it, with the project's token (src/core/pull-requests.ts); a sandbox never does.
import type { PullRequest } from '../contracts/delivery.js';

export interface PullRequestText {
  title: string;
  body: string;
}

/**
 * Pull requests of one repository on one forge, authenticated with one token.
 *
 * @example
 * const forge = await createForge({ provider: 'github', repository: 'acme/shop' }, token);
 * const open = await forge.findOpen('omoi/TKT-001-feature', 'main');
 * const pr = open ? await forge.update(open.number, text) : await forge.create('omoi/TKT-001-feature', 'main', text);
 */
export interface Forge {
  /** The open pull request from `head` into `base`, or null. */
  findOpen(head: string, base: string): Promise<PullRequest | null>;
  /** Opens a pull request from `head` into `base`. */
  create(head: string, base: string, text: PullRequestText): Promise<PullRequest>;
  /** Replaces the title and body of pull request `number`. */
  update(number: number, text: PullRequestText): Promise<PullRequest>;
}

/** The message of anything a forge client threw, without the token (callers scrub again). */
export function forgeErrorMessage(error: unknown, token: string): string {
  const status = (error as { status?: unknown; cause?: { response?: { status?: unknown } } } | null)?.status;
  const message = error instanceof Error ? error.message : String(error);
  const text = `${typeof status === 'number' ? `${status} ` : ''}${message}`.replace(/\s+/g, ' ').trim();
  return token.length >= 4 ? text.split(token).join('[redacted]') : text;
}
