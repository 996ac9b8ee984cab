// GitHub (and GitHub Enterprise through `api_url`, e.g. https://ghe.example.com/api/v3) with Octokit.
import { Octokit } from '@octokit/rest';
import type { PullRequest, PullRequestSettings } from '../contracts/delivery.js';
import type { Forge, PullRequestText } from './forge.js';

const PUBLIC_API = 'https://api.github.com';

interface GitHubPull {
  html_url: string;
  number: number;
  state: string;
  merged_at?: string | null;
  head: { ref: string };
  base: { ref: string };
  updated_at: string;
}

function toPullRequest(pull: GitHubPull): PullRequest {
  return {
    provider: 'github',
    url: pull.html_url,
    number: pull.number,
    state: pull.merged_at ? 'merged' : pull.state === 'open' ? 'open' : 'closed',
    head: pull.head.ref,
    base: pull.base.ref,
    updated_at: pull.updated_at,
  };
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

export function createGitHubForge(settings: PullRequestSettings, token: string): Forge {
  const [owner, ...rest] = settings.repository.split('/');
  const repo = rest.join('/');
  const octokit = new Octokit({
    auth: token,
    baseUrl: (settings.api_url ?? PUBLIC_API).replace(/\/+$/, ''),
    userAgent: 'omoi',
    log: quiet,
  });
  return {
    async findOpen(head, base) {
      // GitHub filters by `owner:branch`; the integration branch lives in the repository itself.
      const { data } = await octokit.rest.pulls.list({
        owner: owner!,
        repo,
        state: 'open',
        head: `${owner}:${head}`,
        base,
        per_page: 10,
      });
      const found = data.find((p) => p.head.ref === head && p.base.ref === base);
      return found ? toPullRequest(found) : null;
    },
    async create(head, base, text: PullRequestText) {
      const { data } = await octokit.rest.pulls.create({ owner: owner!, repo, head, base, ...text });
      return toPullRequest(data);
    },
    async update(number, text: PullRequestText) {
      const { data } = await octokit.rest.pulls.update({ owner: owner!, repo, pull_number: number, ...text });
      return toPullRequest(data);
    },
  };
}
