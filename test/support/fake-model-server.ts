/**
 * A scripted fake model server for tests: real HTTP on 127.0.0.1 (ephemeral port) speaking the
 * Anthropic Messages API (streamed SSE and plain JSON) and OpenAI chat completions (streamed and
 * plain, with tool calls). It plays a list of turns in order, one per model request, and records
 * every request so a test can assert what the agent was sent.
 *
 * Requests that are not part of the conversation (the Claude Code CLI's side calls such as title
 * generation, which carry no tools) get a short canned reply and do not consume a turn.
 *
 * @example
 * const server = await startFakeModelServer({
 *   turns: [
 *     { toolCalls: [{ name: 'write_file', input: { path: 'a.md', content: 'hi' } }] },
 *     { text: 'Done.' },
 *   ],
 * });
 * // OPENAI_BASE_URL=`${server.url}/v1` or ANTHROPIC_BASE_URL=server.url
 * server.modelRequests().at(-1)?.body;   // what the agent sent last
 * await server.close();
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptToolCall {
  name: string;
  /** Tool input as an object; serialised to JSON unless `rawArguments` is given. */
  input?: unknown;
  /** Sent verbatim as the arguments string (to script malformed tool arguments). */
  rawArguments?: string;
  id?: string;
}

export type ScriptFault =
  /** HTTP 429 with a tiny retry-after. */
  | 'rate_limit'
  /** HTTP 500. */
  | 'server_error'
  /** HTTP 200, a stream that starts well and then breaks off with invalid JSON. */
  | 'malformed_stream'
  /** HTTP 404 "model not found". */
  | 'unknown_model';

export interface ScriptTurn {
  /** Assistant text (sent before any tool calls). */
  text?: string;
  toolCalls?: ScriptToolCall[];
  /** Defaults to `tool_use`/`tool_calls` when there are tool calls, else `end_turn`/`stop`. */
  stopReason?: string;
  usage?: { inputTokens: number; outputTokens: number };
  /** Answer this turn with a failure instead. */
  fault?: ScriptFault;
  /**
   * Only for a conversation whose text contains this (for example `Spec task: TSK-X-002`), so tasks
   * running at once each get their own turns; turns without it go to whoever asks next.
   */
  match?: string;
}

/**
 * `{{spec_task_id}}` in a turn's text and tool input becomes the conversation's spec task id (its
 * `Spec task: …` line), so one script writes code per task.
 */
function fillTurn(turn: ScriptTurn, conversation: string): ScriptTurn {
  const specTask = /^Spec task: (\S+)/m.exec(conversation)?.[1];
  if (!specTask) return turn;
  return JSON.parse(JSON.stringify(turn).replaceAll('{{spec_task_id}}', specTask)) as ScriptTurn;
}

export interface RecordedRequest {
  api: 'anthropic' | 'openai' | 'other';
  method: string;
  path: string;
  /** Request headers without credentials. */
  headers: Record<string, string>;
  /** Parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
  /** Index of the scripted turn this request consumed; undefined for side calls. */
  turn?: number;
  /** The key it was sent with (Authorization or x-api-key), to assert who holds which key. */
  credential?: string;
}

export interface FakeModelServerOptions {
  turns: ScriptTurn[];
  /** Models that exist; any other model name gets a 404. Default: every model exists. */
  knownModels?: string[];
  /** Reply when the script has run out (default: text "Nothing more to do." and stop). */
  fallback?: ScriptTurn;
  /**
   * Whether an Anthropic request belongs to the scripted conversation. Default: it offers tools
   * (the CLI's side calls, such as naming the session, offer none).
   */
  isConversation?: (request: RecordedRequest) => boolean;
  /**
   * Stream each OpenAI tool call whole, in one chunk and without `index`, as some local servers
   * (older Ollama) do, instead of OpenAI's indexed argument fragments.
   */
  wholeToolCalls?: boolean;
}

export interface FakeModelServer {
  /** `http://127.0.0.1:<port>` (append `/v1` for OpenAI clients). */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Requests that consumed a scripted turn, in order. */
  modelRequests(): RecordedRequest[];
  /** How many scripted turns were played so far. */
  turnsPlayed(): number;
  /** Appends turns to the script (for a later run against the same server). */
  addTurns(turns: ScriptTurn[]): void;
  close(): Promise<void>;
}

const SECRET_HEADERS = new Set(['authorization', 'x-api-key', 'api-key', 'cookie', 'proxy-authorization']);

function defaultIsConversation(request: RecordedRequest): boolean {
  const body = request.body as { tools?: unknown[] } | undefined;
  return Array.isArray(body?.tools) && body.tools.length > 0;
}

export async function startFakeModelServer(options: FakeModelServerOptions): Promise<FakeModelServer> {
  const requests: RecordedRequest[] = [];
  const script = [...options.turns];
  const played = new Set<number>();
  let next = 0;
  const isConversation = options.isConversation ?? defaultIsConversation;
  const fallback = options.fallback ?? { text: 'Nothing more to do.' };

  const server = createServer((req, res) => {
    readBody(req)
      .then((raw) => {
        const recorded = record(req, raw);
        requests.push(recorded);
        route(recorded, res);
      })
      .catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: String(error) } }));
      });
  });

  function route(request: RecordedRequest, res: ServerResponse) {
    const body = (request.body ?? {}) as { model?: string; stream?: boolean };
    if (request.method === 'POST' && request.path.endsWith('/messages')) {
      const conversation = isConversation(request);
      const turn = conversation ? takeTurn(request) : { text: 'OK' };
      if (modelUnknown(body.model))
        return anthropicError(res, 404, 'not_found_error', `model: ${body.model}`);
      return playAnthropic(res, turn, body.model ?? 'claude-fake', body.stream === true);
    }
    if (request.method === 'POST' && request.path.endsWith('/messages/count_tokens')) {
      return json(res, 200, { input_tokens: 100 });
    }
    if (request.method === 'POST' && request.path.endsWith('/chat/completions')) {
      const turn = takeTurn(request);
      if (modelUnknown(body.model)) {
        return json(res, 404, {
          error: { message: `The model '${body.model}' does not exist`, type: 'invalid_request_error' },
        });
      }
      return playOpenAi(
        res,
        turn,
        body.model ?? 'gpt-fake',
        body.stream === true,
        options.wholeToolCalls === true,
      );
    }
    if (request.method === 'GET' && /\/models$/.test(request.path)) {
      const ids = options.knownModels ?? ['claude-fake', 'gpt-fake'];
      return json(res, 200, {
        object: 'list',
        data: ids.map((id) => ({ id, object: 'model', type: 'model' })),
      });
    }
    if (request.path === '/api/hello') return json(res, 200, { message: 'hello' });
    // Anything else the CLI probes at start-up (metrics, feature flags, …) is answered harmlessly.
    return json(res, 404, { type: 'error', error: { type: 'not_found_error', message: 'Not found' } });
  }

  function modelUnknown(model: string | undefined): boolean {
    return options.knownModels !== undefined && model !== undefined && !options.knownModels.includes(model);
  }

  /** The first turn not played yet that this conversation may take (see `ScriptTurn.match`). */
  function takeTurn(request: RecordedRequest): ScriptTurn {
    const conversation = conversationTextOf(request);
    const index = script.findIndex(
      (turn, i) => !played.has(i) && (!turn.match || conversation.includes(turn.match)),
    );
    next += 1;
    // Past the script: the fallback, still counted as a model request (numbered after the script).
    if (index < 0) {
      request.turn = script.length + next - 1;
      return fallback;
    }
    played.add(index);
    request.turn = index;
    return fillTurn(script[index]!, conversation);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    modelRequests: () => requests.filter((r) => r.turn !== undefined),
    turnsPlayed: () => played.size,
    addTurns: (turns) => {
      script.push(...turns);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function record(req: IncomingMessage, raw: string): RecordedRequest {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (SECRET_HEADERS.has(key) || value === undefined) continue;
    headers[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  let body: unknown = raw;
  try {
    body = raw === '' ? undefined : JSON.parse(raw);
  } catch {
    // Kept as text: a test may want to see a malformed body.
  }
  const api = url.pathname.endsWith('/chat/completions')
    ? 'openai'
    : url.pathname.includes('/messages')
      ? 'anthropic'
      : 'other';
  const credential = req.headers['x-api-key'] ?? req.headers.authorization;
  const recorded: RecordedRequest = { api, method: req.method ?? 'GET', path: url.pathname, headers, body };
  // Kept for assertions on which key reached the upstream, but never serialised with the rest.
  if (typeof credential === 'string')
    Object.defineProperty(recorded, 'credential', { value: credential, enumerable: false });
  return recorded;
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function anthropicError(res: ServerResponse, status: number, type: string, message: string): void {
  const headers: Record<string, string> =
    status === 429 ? { 'retry-after-ms': '20', 'retry-after': '0' } : {};
  json(res, status, { type: 'error', error: { type, message } }, headers);
}

function argumentsOf(call: ScriptToolCall): string {
  return call.rawArguments ?? JSON.stringify(call.input ?? {});
}

/** A non-streamed reply carries the input as an object; unparseable scripted arguments go as the raw string. */
function parsedInput(call: ScriptToolCall): unknown {
  try {
    return JSON.parse(argumentsOf(call));
  } catch {
    return argumentsOf(call);
  }
}

/** Splits a string into a few pieces so clients really have to reassemble deltas. */
function pieces(text: string): string[] {
  if (text.length < 8) return [text];
  const size = Math.ceil(text.length / 3);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function playAnthropic(res: ServerResponse, turn: ScriptTurn, model: string, stream: boolean) {
  switch (turn.fault) {
    case 'rate_limit':
      return anthropicError(res, 429, 'rate_limit_error', 'Rate limited (scripted)');
    case 'server_error':
      return anthropicError(res, 500, 'api_error', 'Internal server error (scripted)');
    case 'unknown_model':
      return anthropicError(res, 404, 'not_found_error', `model: ${model}`);
    default:
  }
  const id = `msg_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
  const calls = (turn.toolCalls ?? []).map((call) => ({
    ...call,
    id: call.id ?? `toolu_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
  }));
  const stopReason = turn.stopReason ?? (calls.length > 0 ? 'tool_use' : 'end_turn');
  const usage = {
    input_tokens: turn.usage?.inputTokens ?? 120,
    output_tokens: turn.usage?.outputTokens ?? 30,
  };

  if (!stream) {
    const content: unknown[] = [];
    if (turn.text !== undefined) content.push({ type: 'text', text: turn.text });
    for (const call of calls) {
      content.push({ type: 'tool_use', id: call.id, name: call.name, input: parsedInput(call) });
    }
    return json(res, 200, {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      usage,
    });
  }

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (event: string, data: unknown) =>
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  send('message_start', {
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: usage.input_tokens, output_tokens: 1 },
    },
  });
  if (turn.fault === 'malformed_stream') {
    res.write('event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_bl\n\n');
    res.end();
    return;
  }
  send('ping', { type: 'ping' });
  let index = 0;
  if (turn.text !== undefined) {
    send('content_block_start', {
      type: 'content_block_start',
      index,
      content_block: { type: 'text', text: '' },
    });
    for (const piece of pieces(turn.text)) {
      send('content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'text_delta', text: piece },
      });
    }
    send('content_block_stop', { type: 'content_block_stop', index });
    index++;
  }
  for (const call of calls) {
    send('content_block_start', {
      type: 'content_block_start',
      index,
      content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} },
    });
    for (const piece of pieces(argumentsOf(call))) {
      send('content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'input_json_delta', partial_json: piece },
      });
    }
    send('content_block_stop', { type: 'content_block_stop', index });
    index++;
  }
  send('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: usage.output_tokens },
  });
  send('message_stop', { type: 'message_stop' });
  res.end();
}

function openAiError(res: ServerResponse, status: number, type: string, message: string): void {
  const headers: Record<string, string> =
    status === 429 ? { 'retry-after-ms': '20', 'retry-after': '0' } : {};
  json(res, status, { error: { message, type, code: null } }, headers);
}

function playOpenAi(res: ServerResponse, turn: ScriptTurn, model: string, stream: boolean, whole: boolean) {
  switch (turn.fault) {
    case 'rate_limit':
      return openAiError(res, 429, 'rate_limit_exceeded', 'Rate limited (scripted)');
    case 'server_error':
      return openAiError(res, 500, 'server_error', 'Internal server error (scripted)');
    case 'unknown_model':
      return openAiError(res, 404, 'invalid_request_error', `The model '${model}' does not exist`);
    default:
  }
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const calls = (turn.toolCalls ?? []).map((call) => ({
    id: call.id ?? `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
    type: 'function' as const,
    function: { name: call.name, arguments: argumentsOf(call) },
  }));
  const finishReason = turn.stopReason ?? (calls.length > 0 ? 'tool_calls' : 'stop');
  const usage = {
    prompt_tokens: turn.usage?.inputTokens ?? 120,
    completion_tokens: turn.usage?.outputTokens ?? 30,
    total_tokens: (turn.usage?.inputTokens ?? 120) + (turn.usage?.outputTokens ?? 30),
  };

  if (!stream) {
    return json(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: turn.text ?? null,
            ...(calls.length > 0 ? { tool_calls: calls } : {}),
          },
          finish_reason: finishReason,
        },
      ],
      usage,
    });
  }

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const chunk = (delta: unknown, finish: string | null = null, extra: object = {}) =>
    res.write(
      `data: ${JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [{ index: 0, delta, finish_reason: finish }],
        ...extra,
      })}\n\n`,
    );
  chunk({ role: 'assistant', content: '' });
  if (turn.fault === 'malformed_stream') {
    res.write('data: {"id":"broken","choices":[{"delta":{"content":"ha\n\n');
    res.end();
    return;
  }
  if (turn.text !== undefined) for (const piece of pieces(turn.text)) chunk({ content: piece });
  calls.forEach((call, index) => {
    if (whole) {
      chunk({ tool_calls: [call] });
      return;
    }
    chunk({
      tool_calls: [
        { index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } },
      ],
    });
    for (const piece of pieces(call.function.arguments)) {
      chunk({ tool_calls: [{ index, function: { arguments: piece } }] });
    }
  });
  chunk({}, finishReason, { usage });
  res.write('data: [DONE]\n\n');
  res.end();
}

/** The system prompt of a recorded request as one string (Anthropic `system` or OpenAI system messages). */
export function systemTextOf(request: RecordedRequest): string {
  const body = request.body as { system?: unknown; messages?: { role: string; content: unknown }[] };
  if (request.api === 'anthropic') return textOf(body.system);
  return (body.messages ?? [])
    .filter((m) => m.role === 'system')
    .map((m) => textOf(m.content))
    .join('\n');
}

/** Everything the request sends as conversation (user turns and tool results), as one string. */
export function conversationTextOf(request: RecordedRequest): string {
  const body = request.body as { messages?: { role: string; content: unknown }[] };
  return (body.messages ?? [])
    .filter((m) => m.role !== 'system')
    .map((m) => textOf(m.content))
    .join('\n');
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(textOf).join('\n');
  if (value && typeof value === 'object') {
    const block = value as { text?: unknown; content?: unknown };
    if (typeof block.text === 'string') return block.text;
    if (block.content !== undefined) return textOf(block.content);
  }
  return '';
}
