// Picks the forge a project's `settings.pull_request` names.
import type { PullRequestSettings } from '../contracts/delivery.js';
import type { Forge } from './forge.js';

export { type Forge, forgeErrorMessage, type PullRequestText } from './forge.js';

// Each client is loaded when a pull request is first opened with it: Octokit and gitbeaker (with
// its rate limiter and qs) cost `omoi start` ~100 ms of module loading that most servers never use.
const FORGES: Record<
  PullRequestSettings['provider'],
  () => Promise<(settings: PullRequestSettings, token: string) => Forge>
> = {
  github: async () => (await import('./github.js')).createGitHubForge,
  gitlab: async () => (await import('./gitlab.js')).createGitLabForge,
};

/** The forge client for a project's pull request settings, authenticated with `token`. */
export async function createForge(settings: PullRequestSettings, token: string): Promise<Forge> {
  return (await FORGES[settings.provider]())(settings, token);
}
