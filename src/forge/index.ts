// Picks the forge a project's `settings.pull_request` names.
import type { PullRequestSettings } from '../contracts/delivery.js';
import type { Forge } from './forge.js';
import { createGitHubForge } from './github.js';
import { createGitLabForge } from './gitlab.js';

export { type Forge, forgeErrorMessage, type PullRequestText } from './forge.js';

const FORGES: Record<
  PullRequestSettings['provider'],
  (settings: PullRequestSettings, token: string) => Forge
> = {
  github: createGitHubForge,
  gitlab: createGitLabForge,
};

/** The forge client for a project's pull request settings, authenticated with `token`. */
export function createForge(settings: PullRequestSettings, token: string): Forge {
  return FORGES[settings.provider](settings, token);
}
