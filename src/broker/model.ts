// The model broker: OpenAI- and Anthropic-compatible pass-through routes that add the server's real
// key, so a sandbox holds only its task token. Streams (SSE) go through chunk by chunk, unbuffered;
// the usage the upstream reports (JSON `usage`, or the final SSE usage frames) is recorded per call
// in `model_usage` for the task, priced by the price table when the upstream names no cost. A
// finished task's token is refused, and so is a call of a task whose spend reached a budget cap
// (402 BUDGET_REACHED): agent code is untrusted and may ignore the runtime's own count.
//
//   ANY /api/v1/model/openai/<path>     → OPENAI_BASE_URL/<path>   (Authorization: Bearer OPENAI_API_KEY)
//   ANY /api/v1/model/anthropic/<path>  → ANTHROPIC_BASE_URL/<path> (x-api-key: ANTHROPIC_API_KEY)
import { Hono } from 'hono';
import { MODEL_BROKER_PATH } from '../contracts/broker-urls.js';

export { MODEL_BROKER_PATH };

const DEFAULT_BASE: Record<ModelApi, string> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
};

import { AppError, coerceError } from '../base/errors.js';
import type { BudgetService } from '../core/budgets.js';
import type { ModelUpstreams } from '../core/config.js';
import type { KeysService } from '../core/keys.js';
import type { Queryable } from '../db/client.js';
import { scrub } from './redact.js';
import { taskGrant } from './task-grant.js';

export type ModelApi = 'openai' | 'anthropic';

export interface ModelBrokerDeps {
  keys: Pick<KeysService, 'verify'>;
  db: Queryable;
  upstreams: ModelUpstreams;
  /** Largest request body forwarded (default 32 MiB). */
  maxBodyBytes?: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /** Budget caps (src/core/budgets.ts): checked before each call, priced and counted after it. */
  budget?: Pick<BudgetService, 'reachedFor' | 'recorded' | 'priceCall'>;
}

/** Path prefixes of the two pass-throughs. */

/** Request headers never forwarded: credentials, hop-by-hop, and what fetch sets itself. */
const DROP_REQUEST = new Set([
  'host',
  'authorization',
  'x-api-key',
  'api-key',
  'cookie',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
  'accept-encoding',
  'upgrade',
  'proxy-authorization',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
]);
/** Response headers never passed back (the body is re-framed and already decoded). */
const DROP_RESPONSE = new Set([
  'content-encoding',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'set-cookie',
]);

export interface ModelUsage {
  model: string | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
}

/**
 * The routes to mount (`app.route('/', modelBrokerRoutes(deps))`) before the API's JSON and key
 * middleware.
 *
 * @example
 * app.route('/', modelBrokerRoutes({ keys: services.keys, db: services.db, upstreams: config.model ?? {} }));
 * // in the sandbox: OPENAI_BASE_URL=http://127.0.0.1:7878/api/v1/model/openai OPENAI_API_KEY=<task token>
 */
export function modelBrokerRoutes(deps: ModelBrokerDeps): Hono {
  const app = new Hono();
  const log = deps.log ?? (() => {});
  const realKeys = [deps.upstreams.openaiApiKey, deps.upstreams.anthropicApiKey];

  app.onError((error, c) => {
    const e = coerceError(error);
    const message = scrub(e.message, realKeys);
    if (e.status >= 500) log(`model broker: ${message}`);
    // Both clients read `error.message`; Anthropic's also `type`.
    return c.json(
      { type: 'error', error: { code: e.code, type: e.code.toLowerCase(), message } },
      e.status as 400,
    );
  });

  for (const api of ['openai', 'anthropic'] as const) {
    const prefix = MODEL_BROKER_PATH[api];
    app.all(`${prefix}/*`, async (c) => {
      const grant = await taskGrant(c.req.raw.headers, deps);
      const reached = await deps.budget?.reachedFor(grant.taskId);
      if (reached) throw new AppError('BUDGET_REACHED', reached);
      const upstream = upstreamOf(api, deps.upstreams);
      const url = new URL(c.req.url);
      const rest = url.pathname.slice(prefix.length);
      const target = `${upstream.base}${rest}${url.search}`;

      const headers = new Headers();
      c.req.raw.headers.forEach((value, name) => {
        if (!DROP_REQUEST.has(name.toLowerCase())) headers.set(name, value);
      });
      headers.set('accept-encoding', 'identity');
      if (upstream.key) {
        if (api === 'openai') headers.set('authorization', `Bearer ${upstream.key}`);
        else headers.set('x-api-key', upstream.key);
      }

      let body: Uint8Array | undefined;
      let requestModel: string | null = null;
      if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
        const buffer = new Uint8Array(await c.req.raw.arrayBuffer());
        if (buffer.length > (deps.maxBodyBytes ?? 32 << 20))
          throw new AppError('PAYLOAD_TOO_LARGE', 'the model request is too large');
        body = buffer;
        try {
          const parsed = JSON.parse(Buffer.from(buffer).toString('utf8')) as { model?: unknown };
          if (typeof parsed.model === 'string') requestModel = parsed.model;
        } catch {
          // not JSON: forwarded as it is
        }
      }

      let response: Response;
      try {
        response = await fetch(target, {
          method: c.req.method,
          headers,
          ...(body ? { body } : {}),
          redirect: 'manual',
          signal: c.req.raw.signal,
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
        const why = cause?.code ?? cause?.message ?? String(error);
        throw new AppError(
          'UPSTREAM_FAILED',
          `the ${api} model endpoint ${upstream.base} cannot be reached (${scrub(why, realKeys)})`,
        );
      }

      const outHeaders = new Headers();
      response.headers.forEach((value, name) => {
        if (!DROP_RESPONSE.has(name.toLowerCase())) outHeaders.set(name, value);
      });
      const meter = new UsageMeter(
        api,
        (response.headers.get('content-type') ?? '').includes('event-stream'),
      );
      const record = async () => {
        const usage = meter.result();
        const model = usage.model ?? requestModel;
        const cost =
          usage.costUsd ??
          (await deps.budget
            ?.priceCall(grant.taskId, model, usage.inputTokens, usage.outputTokens)
            .catch(() => null)) ??
          null;
        await deps.db
          .query(
            `INSERT INTO model_usage (task_id, api, model, input_tokens, output_tokens, cost_usd, status)
             VALUES ($1, $2, $3, $4, $5, $6, $7)`,
            [grant.taskId, api, model, usage.inputTokens, usage.outputTokens, cost, response.status],
          )
          .then(() => deps.budget?.recorded(grant.taskId))
          .catch((error) =>
            log(`model broker: could not record usage of task ${grant.taskId}: ${String(error)}`),
          );
      };
      if (!response.body) {
        await record();
        return new Response(null, { status: response.status, headers: outHeaders });
      }
      const decoder = new TextDecoder();
      const passThrough = new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          controller.enqueue(chunk);
          meter.push(decoder.decode(chunk, { stream: true }));
        },
        async flush() {
          await record();
        },
      });
      return new Response(response.body.pipeThrough(passThrough), {
        status: response.status,
        headers: outHeaders,
      });
    });
  }
  return app;
}

function upstreamOf(api: ModelApi, upstreams: ModelUpstreams): { base: string; key: string | undefined } {
  const base = (api === 'openai' ? upstreams.openaiBaseUrl : upstreams.anthropicBaseUrl) ?? DEFAULT_BASE[api];
  return {
    base: base.replace(/\/+$/, ''),
    key: api === 'openai' ? upstreams.openaiApiKey : upstreams.anthropicApiKey,
  };
}

/** Reads the usage out of a response as it passes: a JSON body, or SSE frames. */
export class UsageMeter {
  private text = '';
  private readonly usage: ModelUsage = { model: null, inputTokens: 0, outputTokens: 0, costUsd: null };

  constructor(
    private readonly api: ModelApi,
    private readonly sse: boolean,
  ) {}

  push(chunk: string): void {
    this.text += chunk;
    if (!this.sse) {
      if (this.text.length > 8 << 20) this.text = ''; // not a model answer worth reading
      return;
    }
    // Complete lines only; keep the partial rest.
    const end = this.text.lastIndexOf('\n');
    if (end < 0) return;
    const lines = this.text.slice(0, end).split('\n');
    this.text = this.text.slice(end + 1);
    for (const line of lines) {
      if (!line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (!data || data === '[DONE]') continue;
      try {
        this.read(JSON.parse(data));
      } catch {
        // a frame that is not JSON carries no usage
      }
    }
  }

  result(): ModelUsage {
    if (!this.sse && this.text) {
      try {
        this.read(JSON.parse(this.text));
      } catch {
        // not JSON (an error page): no usage
      }
      this.text = '';
    }
    return this.usage;
  }

  private read(frame: Record<string, unknown>): void {
    const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
    if (this.api === 'openai') {
      if (typeof frame.model === 'string') this.usage.model = frame.model;
      const usage = frame.usage as Record<string, unknown> | null | undefined;
      if (usage && typeof usage === 'object') {
        this.usage.inputTokens = num(usage.prompt_tokens);
        this.usage.outputTokens = num(usage.completion_tokens);
        if (typeof usage.cost === 'number') this.usage.costUsd = usage.cost;
      }
      return;
    }
    // Anthropic: a JSON message, or message_start (input) and message_delta (output so far) frames.
    const message = (frame.type === 'message_start' ? frame.message : frame) as
      | Record<string, unknown>
      | undefined;
    if (message && typeof message.model === 'string') this.usage.model = message.model;
    const usage = (message?.usage ?? frame.usage) as Record<string, unknown> | undefined;
    if (!usage || typeof usage !== 'object') return;
    const input =
      num(usage.input_tokens) + num(usage.cache_creation_input_tokens) + num(usage.cache_read_input_tokens);
    if (input > 0) this.usage.inputTokens = input;
    if (usage.output_tokens !== undefined) this.usage.outputTokens = num(usage.output_tokens);
  }
}

/** A task's recorded model usage, summed. */
export async function taskModelUsage(
  db: Queryable,
  taskId: string,
): Promise<{ calls: number; input_tokens: number; output_tokens: number; cost_usd: number | null }> {
  const rows = await db.query<{ calls: unknown; input: unknown; output: unknown; cost: unknown }>(
    `SELECT count(*) AS calls, coalesce(sum(input_tokens), 0) AS input, coalesce(sum(output_tokens), 0) AS output,
            sum(cost_usd) AS cost FROM model_usage WHERE task_id = $1`,
    [taskId],
  );
  const row = rows[0]!;
  return {
    calls: Number(row.calls),
    input_tokens: Number(row.input),
    output_tokens: Number(row.output),
    cost_usd: row.cost === null || row.cost === undefined ? null : Number(row.cost),
  };
}
