import type { IncomingMessage, ServerResponse } from 'node:http';

/** One request a fake received: what the SDK really sent, for assertions. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A failure the next matching request gets instead of the normal answer. */
export interface PlannedFailure {
  method?: string;
  path: RegExp;
  status: number;
  body: unknown;
}

/**
 * The plumbing every fake service shares: body reading, JSON answers, a request log and planned
 * failures (a 401, a 429 quota, …) so the contract suite can check how each provider reports them.
 */
export class FakeHttp {
  readonly requests: RecordedRequest[] = [];
  private readonly failures: PlannedFailure[] = [];

  /** The next request matching `failure.path` (and method) answers with this status and body. */
  failNext(failure: PlannedFailure): void {
    this.failures.push(failure);
  }

  async record(req: IncomingMessage): Promise<RecordedRequest> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const request = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks),
    };
    this.requests.push(request);
    return request;
  }

  /** Answers with a planned failure when one matches; says whether it did. */
  injectFailure(request: RecordedRequest, res: ServerResponse): boolean {
    const index = this.failures.findIndex(
      (failure) => failure.path.test(request.path) && (!failure.method || failure.method === request.method),
    );
    if (index < 0) return false;
    const [failure] = this.failures.splice(index, 1);
    if (failure) json(res, failure.status, failure.body);
    return true;
  }
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function parseJson<T>(body: Buffer): T {
  return (body.length ? JSON.parse(body.toString('utf8')) : {}) as T;
}
