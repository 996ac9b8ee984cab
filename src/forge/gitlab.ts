// GitLab (and self-hosted GitLab through `api_url`, e.g. https://gitlab.example.com) with gitbeaker.
import { Gitlab } from '@gitbeaker/rest';
import type { PullRequest, PullRequestSettings } from '../contracts/delivery.js';
import type { Forge } from './forge.js';

const PUBLIC_HOST = 'https://gitlab.com';

interface GitLabMergeRequest {
  web_url: string;
  iid: number;
  state: string;
  source_branch: string;
  target_branch: string;
  updated_at: string;
}

function toPullRequest(mr: GitLabMergeRequest): PullRequest {
  return {
    provider: 'gitlab',
    url: mr.web_url,
    number: mr.iid,
    state: mr.state === 'merged' ? 'merged' : mr.state === 'opened' ? 'open' : 'closed',
    head: mr.source_branch,
    base: mr.target_branch,
    updated_at: mr.updated_at,
  };
}

export function createGitLabForge(settings: PullRequestSettings, token: string): Forge {
  // gitbeaker adds /api/v4 itself: accept the API's URL as well as the instance's.
  const host = (settings.api_url ?? PUBLIC_HOST).replace(/\/+$/, '').replace(/\/api\/v4$/, '');
  const api = new Gitlab({ host, token, camelize: false, rateLimitDuration: 60 });
  const projectId = settings.repository;
  return {
    async findOpen(head, base) {
      const found = (await api.MergeRequests.all({
        projectId,
        sourceBranch: head,
        targetBranch: base,
        state: 'opened',
        maxPages: 1,
        perPage: 10,
      })) as unknown as GitLabMergeRequest[];
      const open = found.find((mr) => mr.source_branch === head && mr.target_branch === base);
      return open ? toPullRequest(open) : null;
    },
    async create(head, base, text) {
      const mr = await api.MergeRequests.create(projectId, head, base, text.title, {
        description: text.body,
      });
      return toPullRequest(mr as unknown as GitLabMergeRequest);
    },
    async update(number, text) {
      const mr = await api.MergeRequests.edit(projectId, number, {
        title: text.title,
        description: text.body,
      });
      return toPullRequest(mr as unknown as GitLabMergeRequest);
    },
  };
}
