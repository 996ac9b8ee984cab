// A fake code forge on 127.0.0.1: the part of GitHub's REST API (pulls: list, create, update) and of
// GitLab's (merge_requests: list, create, update) that Octokit and gitbeaker call when Omoi opens a
// ticket's pull request. It keeps the pull requests it was given and every request it received, so
// suites assert on what the real clients sent (head, base, token, body).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeHttp, json, parseJson, type RecordedRequest } from './fakes/http-fake.js';

export interface FakePull {
  number: number;
  head: string;
  base: string;
  title: string;
  body: string;
  state: 'open' | 'closed' | 'merged';
  /** The repository (`owner/name`, GitLab's project path) it was opened in. */
  repository: string;
  updated_at: string;
}

export interface FakeForge {
  /** GitHub's API root (Octokit's baseUrl), e.g. http://127.0.0.1:1234/github. */
  githubUrl: string;
  /** GitLab's instance URL (gitbeaker's host; it adds /api/v4), e.g. http://127.0.0.1:1234/gitlab. */
  gitlabUrl: string;
  pulls: FakePull[];
  http: FakeHttp;
  /** The requests that carried `token` the way each forge expects it (Authorization / PRIVATE-TOKEN). */
  authorized(token: string): RecordedRequest[];
  close(): Promise<void>;
}

/** Answers with JSON; true, so a route can `return reply(…)`. */
function reply(res: ServerResponse, status: number, body: unknown): true {
  json(res, status, body);
  return true;
}

function tokenOf(request: RecordedRequest): string | null {
  const auth = request.headers.authorization;
  if (typeof auth === 'string') return auth.replace(/^(token|bearer)\s+/i, '');
  const gitlab = request.headers['private-token'];
  return typeof gitlab === 'string' ? gitlab : null;
}

/**
 * Starts the fake; only requests carrying `token` are answered (others get 401, as the forges do).
 *
 * @example
 * const forge = await startFakeForge({ token: 'ghp_test' });
 * // settings.pull_request = { provider: 'github', repository: 'acme/shop', api_url: forge.githubUrl }
 */
export async function startFakeForge(options: { token: string }): Promise<FakeForge> {
  const http = new FakeHttp();
  const pulls: FakePull[] = [];
  let port = 0;

  const github = (pull: FakePull) => ({
    number: pull.number,
    html_url: `http://127.0.0.1:${port}/${pull.repository}/pull/${pull.number}`,
    state: pull.state === 'open' ? 'open' : 'closed',
    merged_at: pull.state === 'merged' ? pull.updated_at : null,
    title: pull.title,
    body: pull.body,
    head: { ref: pull.head, label: `${pull.repository.split('/')[0]}:${pull.head}` },
    base: { ref: pull.base },
    updated_at: pull.updated_at,
  });
  const gitlab = (pull: FakePull) => ({
    id: 1000 + pull.number,
    iid: pull.number,
    web_url: `http://127.0.0.1:${port}/${pull.repository}/-/merge_requests/${pull.number}`,
    state: pull.state === 'open' ? 'opened' : pull.state,
    title: pull.title,
    description: pull.body,
    source_branch: pull.head,
    target_branch: pull.base,
    updated_at: pull.updated_at,
  });

  const open = (repository: string, head: string, base: string, title: string, body: string): FakePull => {
    const pull: FakePull = {
      number: pulls.length + 1,
      head,
      base,
      title,
      body,
      state: 'open',
      repository,
      updated_at: new Date().toISOString(),
    };
    pulls.push(pull);
    return pull;
  };
  const edit = (pull: FakePull, title: string | undefined, body: string | undefined) => {
    if (title !== undefined) pull.title = title;
    if (body !== undefined) pull.body = body;
    pull.updated_at = new Date().toISOString();
  };

  function githubRoute(request: RecordedRequest, res: ServerResponse, rest: string): true {
    const match = /^\/repos\/([^/]+)\/([^/]+)\/pulls(?:\/(\d+))?$/.exec(rest);
    if (!match) return reply(res, 404, { message: 'Not Found' });
    const repository = `${match[1]}/${match[2]}`;
    const mine = pulls.filter((p) => p.repository === repository);
    if (request.method === 'GET' && !match[3]) {
      const head = request.query.get('head');
      const base = request.query.get('base');
      const state = request.query.get('state') ?? 'open';
      const found = mine.filter(
        (p) =>
          (state === 'all' || (state === 'open' ? p.state === 'open' : p.state !== 'open')) &&
          (!head || `${match[1]}:${p.head}` === head) &&
          (!base || p.base === base),
      );
      return reply(res, 200, found.map(github));
    }
    const body = parseJson<{ title?: string; body?: string; head?: string; base?: string }>(request.body);
    if (request.method === 'POST' && !match[3]) {
      if (!body.head || !body.base || !body.title)
        return reply(res, 422, { message: 'Validation Failed', errors: [{ field: 'head' }] });
      if (mine.some((p) => p.state === 'open' && p.head === body.head && p.base === body.base))
        return reply(res, 422, { message: `A pull request already exists for ${match[1]}:${body.head}.` });
      return reply(res, 201, github(open(repository, body.head, body.base, body.title, body.body ?? '')));
    }
    const pull = mine.find((p) => p.number === Number(match[3]));
    if (!pull) return reply(res, 404, { message: 'Not Found' });
    if (request.method === 'PATCH') {
      edit(pull, body.title, body.body);
      return reply(res, 200, github(pull));
    }
    return reply(res, 405, { message: 'Method Not Allowed' });
  }

  function gitlabRoute(request: RecordedRequest, res: ServerResponse, rest: string): true {
    const match = /^\/api\/v4\/projects\/(.+?)\/merge_requests(?:\/(\d+))?$/.exec(rest);
    if (!match) return reply(res, 404, { message: '404 Not Found' });
    const repository = decodeURIComponent(match[1]!);
    const mine = pulls.filter((p) => p.repository === repository);
    if (request.method === 'GET' && !match[2]) {
      const source = request.query.get('source_branch');
      const target = request.query.get('target_branch');
      const state = request.query.get('state');
      const found = mine.filter(
        (p) =>
          (!state || state === 'all' || (state === 'opened' ? p.state === 'open' : p.state === state)) &&
          (!source || p.head === source) &&
          (!target || p.base === target),
      );
      return reply(res, 200, found.map(gitlab));
    }
    const body = parseJson<{
      title?: string;
      description?: string;
      source_branch?: string;
      target_branch?: string;
    }>(request.body);
    if (request.method === 'POST' && !match[2]) {
      if (!body.source_branch || !body.target_branch || !body.title)
        return reply(res, 400, { message: 'source_branch, target_branch and title are required' });
      if (
        mine.some((p) => p.state === 'open' && p.head === body.source_branch && p.base === body.target_branch)
      )
        return reply(res, 409, {
          message: ['Another open merge request already exists for this source branch'],
        });
      return reply(
        res,
        201,
        gitlab(open(repository, body.source_branch, body.target_branch, body.title, body.description ?? '')),
      );
    }
    const pull = mine.find((p) => p.number === Number(match[2]));
    if (!pull) return reply(res, 404, { message: '404 Not found' });
    if (request.method === 'PUT') {
      edit(pull, body.title, body.description);
      return reply(res, 200, gitlab(pull));
    }
    return reply(res, 405, { message: '405 Method Not Allowed' });
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const request = await http.record(req);
      if (http.injectFailure(request, res)) return;
      if (tokenOf(request) !== options.token) return reply(res, 401, { message: 'Bad credentials' });
      if (request.path.startsWith('/github/')) return githubRoute(request, res, request.path.slice(7));
      if (request.path.startsWith('/gitlab/')) return gitlabRoute(request, res, request.path.slice(7));
      return reply(res, 404, { message: 'Not Found' });
    })().catch((error) => json(res, 500, { message: String(error) }));
  });
  // The clients keep connections alive across a suite's slow steps; a short server timeout would
  // race them into resets that real forges do not cause.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as AddressInfo).port;
  return {
    githubUrl: `http://127.0.0.1:${port}/github`,
    gitlabUrl: `http://127.0.0.1:${port}/gitlab`,
    pulls,
    http,
    authorized: (token) => http.requests.filter((r) => tokenOf(r) === token),
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
