// Outgoing webhooks against the real server on a real socket and a real receiver on 127.0.0.1 that
// checks every signature: retries after the receiver fails, the Slack body, event filters, the
// delivery log, secrets never shown, private targets refused at settings time and at delivery, and
// pending deliveries surviving a restart of the server.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/api/main.js';
import { loadServerConfig } from '../../src/core/config.js';
import { createServices, type Services } from '../../src/core/services.js';
import { replaceWebhooks } from '../../src/notify/settings.js';
import { verifySignature } from '../../src/notify/signature.js';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/db.js';
import { eventually } from '../support/wait.js';

const SECRET = 'receiver-secret-0123456789';
const OTHER_SECRET = 'slack-secret-abcdefghijkl';

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  verified: boolean;
}

/** A webhook receiver: answers 500 to the first `failFirst` requests of a path, then 200. */
async function startReceiver() {
  const received = new Map<string, Received[]>();
  const failures = new Map<string, number>();
  const secrets = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const body = Buffer.concat(chunks).toString('utf8');
      const secret = secrets.get(path) ?? SECRET;
      const signature = req.headers['omoi-signature'];
      const entry = {
        headers: req.headers,
        body,
        verified: verifySignature(typeof signature === 'string' ? signature : undefined, secret, body),
      };
      received.set(path, [...(received.get(path) ?? []), entry]);
      const left = failures.get(path) ?? 0;
      if (left > 0) {
        failures.set(path, left - 1);
        res.writeHead(500).end('down');
      } else res.writeHead(entry.verified ? 200 : 401).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    at: (path: string) => received.get(path) ?? [],
    failNext: (path: string, n: number) => failures.set(path, n),
    secretFor: (path: string, secret: string) => secrets.set(path, secret),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const repo = (() => {
  const dir = join(mkdtempSync(join(tmpdir(), 'omoi-webhook-repo-')), 'repo.git');
  execFileSync('git', ['init', '--quiet', '--bare', dir]);
  return dir;
})();

for (const kind of databaseKinds())
  describe(`webhooks [${kind}]`, () => {
    let database: TestDatabase;
    let services: Services;
    let server: RunningServer;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    const env = {
      OMOI_WEBHOOK_ALLOW_PRIVATE: '1',
      OMOI_WEBHOOK_RETRY_BASE_MS: '100',
      OMOI_WEBHOOK_MAX_ATTEMPTS: '4',
    };
    const config = (retryBaseMs = '100') =>
      loadServerConfig(
        { ...env, OMOI_WEBHOOK_RETRY_BASE_MS: retryBaseMs },
        { port: 0, host: '127.0.0.1', webDir: null },
      );

    async function call(method: string, path: string, body?: unknown, base = server.url) {
      const res = await fetch(`${base}/api/v1${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      // biome-ignore lint/suspicious/noExplicitAny: asserted field by field
      return { status: res.status, body: (await res.json()) as any };
    }

    async function ticketIn(projectId: string) {
      const { ticket, task } = await services.tickets.create({
        project_id: projectId,
        description: 'Export reports as CSV',
        workflow_mode: 'quick',
      });
      return { ticket, task };
    }

    async function deliveries(projectId: string, base = server.url) {
      const { body } = await call('GET', `/projects/${projectId}/webhook-deliveries`, undefined, base);
      return body.deliveries as Array<Record<string, unknown>>;
    }

    beforeAll(async () => {
      database = await openTestDatabase(kind);
      services = await createServices(database.db, { eventPollMs: 200, secretKey: 'k'.repeat(40) });
      server = await startServer(config(), { services });
      receiver = await startReceiver();
    });

    afterAll(async () => {
      await server?.close();
      await receiver?.close();
      await services?.stop();
      await database?.cleanup();
    });

    it('signs, retries after the receiver fails twice, and logs the delivery without the secret', async () => {
      receiver.secretFor('/slack', OTHER_SECRET);
      const created = await call('POST', '/projects', {
        name: 'hooks-a',
        repo_url: repo,
        settings: {
          webhooks: [
            { url: receiver.url('/all'), secret: SECRET },
            { url: receiver.url('/slack'), secret: OTHER_SECRET, format: 'slack', events: ['task.failed'] },
          ],
        },
      });
      expect(created.status).toBe(201);
      const project = created.body;
      expect(project.settings.webhooks).toHaveLength(2);
      for (const hook of project.settings.webhooks) {
        expect(hook.has_secret).toBe(true);
        expect(hook.secret).toBeUndefined();
      }
      // The URL's last segment may be a token (Slack's is): it is sealed with the secret and masked.
      expect(project.settings.webhooks[0].url).toBe(receiver.url('/…'));
      expect(JSON.stringify(project)).not.toContain(receiver.url('/slack'));
      // Nowhere in the project's row, nor in the sealed table, is the secret in the clear.
      const rows = await database.db.query<{ settings: unknown; sealed: string }>(
        `SELECT p.settings, s.sealed FROM projects p JOIN webhook_secrets s ON s.project_id = p.id WHERE p.id = $1`,
        [project.id],
      );
      expect(rows).toHaveLength(2);
      for (const row of rows) expect(JSON.stringify(row)).not.toContain(SECRET.slice(0, 12));

      receiver.failNext('/all', 2);
      const { ticket } = await ticketIn(project.id);
      await services.events.append({
        type: 'ticket.status_changed',
        projectId: project.id,
        ticketId: ticket.id,
        data: { from: 'building', to: 'done' },
      });

      await eventually(async () => receiver.at('/all').length === 3, 'the webhook delivery');
      const got = receiver.at('/all');
      expect(got.every((r) => r.verified)).toBe(true);
      // One delivery, three attempts: the same id each time.
      expect(new Set(got.map((r) => r.headers['omoi-delivery'])).size).toBe(1);
      expect(got[2]!.headers['omoi-event']).toBe('ticket.done');
      const payload = JSON.parse(got[2]!.body);
      expect(payload).toMatchObject({
        event: 'ticket.done',
        project: { id: project.id, name: 'hooks-a' },
        ticket: { id: ticket.id, ref: ticket.ref },
        omoi_event: { type: 'ticket.status_changed' },
      });
      expect(payload.summary).toContain(`${ticket.ref}`);
      expect(got[2]!.body).not.toContain(SECRET);

      await eventually(
        async () => (await deliveries(project.id))[0]?.status === 'delivered',
        'the webhook delivery',
      );
      const [log] = await deliveries(project.id);
      expect(log).toMatchObject({
        event: 'ticket.done',
        status: 'delivered',
        attempts: 3,
        response_code: 200,
      });
      expect(JSON.stringify(log)).not.toContain(SECRET);
      expect(log!.url).toBe(receiver.url('/…'));
      // The slack webhook hears task.failed only.
      expect(receiver.at('/slack')).toHaveLength(0);

      // task.failed reaches both: Slack's body is {text}.
      const failed = await ticketIn(project.id);
      await services.events.append({
        type: 'task.failed',
        projectId: project.id,
        ticketId: failed.ticket.id,
        taskId: failed.task.id,
        data: { error: 'tests failed' },
      });
      await eventually(async () => receiver.at('/slack').length === 1, 'the webhook delivery');
      const slack = receiver.at('/slack')[0]!;
      expect(slack.verified).toBe(true);
      expect(slack.headers['omoi-event']).toBe('task.failed');
      const text = JSON.parse(slack.body);
      expect(Object.keys(text)).toEqual(['text']);
      expect(text.text).toContain('tests failed');
      expect(text.text).toContain(failed.ticket.ref);
    });

    it('gives up after the last attempt and says why', async () => {
      const project = await services.projects.create({ name: 'hooks-b', repo_url: repo });
      const put = await call('PUT', `/projects/${project.id}/webhooks`, {
        webhooks: [{ url: receiver.url('/down'), secret: SECRET, events: ['pr.opened'] }],
      });
      expect(put.status).toBe(200);
      receiver.failNext('/down', 100);
      const { ticket } = await ticketIn(project.id);
      await services.events.append({
        type: 'pr.opened',
        projectId: project.id,
        ticketId: ticket.id,
        data: {
          provider: 'github',
          url: 'https://example.com/pr/1',
          number: 1,
          head: 'h',
          base: 'main',
          updated: false,
        },
      });
      await eventually(
        async () => (await deliveries(project.id))[0]?.status === 'failed',
        'the webhook delivery',
      );
      const [log] = await deliveries(project.id);
      expect(log).toMatchObject({ event: 'pr.opened', status: 'failed', attempts: 4, response_code: 500 });
      expect(String(log!.error)).toContain('500');
      expect(receiver.at('/down')).toHaveLength(4);

      // Sending the list back as read (id, masked URL, no secret) keeps the URL and the secret.
      const id = put.body.webhooks[0].id;
      expect(put.body.webhooks).toEqual([
        { id, url: receiver.url('/…'), events: ['pr.opened'], format: 'json', has_secret: true },
      ]);
      const kept = await call('PUT', `/projects/${project.id}/webhooks`, { webhooks: put.body.webhooks });
      expect(kept.status).toBe(200);
      receiver.failNext('/down', 0);
      await services.events.append({
        type: 'pr.opened',
        projectId: project.id,
        ticketId: ticket.id,
        data: {
          provider: 'github',
          url: 'https://example.com/pr/1',
          number: 1,
          head: 'h',
          base: 'main',
          updated: true,
        },
      });
      await eventually(async () => receiver.at('/down').length === 5, 'the delivery to the kept URL');
      expect(receiver.at('/down')[4]!.verified).toBe(true);

      const missing = await call('PUT', `/projects/${project.id}/webhooks`, {
        webhooks: [{ url: receiver.url('/other') }],
      });
      expect(missing.status).toBe(400);
      expect(missing.body.error.message).toContain('secret');
      const listed = await call('GET', `/projects/${project.id}/webhooks`);
      expect(listed.body.webhooks).toEqual(kept.body.webhooks);
    });

    it('an agent’s question reaches a needs_input webhook, signed, with the question in the summary', async () => {
      const project = await services.projects.create({ name: 'hooks-q', repo_url: repo });
      await call('PUT', `/projects/${project.id}/webhooks`, {
        webhooks: [{ url: receiver.url('/ask'), secret: SECRET, events: ['ticket.needs_input'] }],
      });
      const { ticket, task } = await ticketIn(project.id);
      // The run is claimed (as the orchestrator does) and its worker asks: the task parks.
      await database.db.query(
        `UPDATE tasks SET status = 'running', claimed_by = 'hooks', lease_until = now() + interval '1 minute' WHERE id = $1`,
        [task.id],
      );
      await services.questions.ask(task.id, {
        question: 'Which CSV delimiter?',
        options: ['comma', 'semicolon'],
      });
      await eventually(async () => receiver.at('/ask').length === 1, 'the needs_input delivery');
      const got = receiver.at('/ask')[0]!;
      expect(got.verified).toBe(true);
      expect(got.headers['omoi-event']).toBe('ticket.needs_input');
      const payload = JSON.parse(got.body);
      expect(payload.omoi_event.type).toBe('agent.question');
      expect(payload.ticket.ref).toBe(ticket.ref);
      expect(payload.summary).toContain('an agent asks: Which CSV delimiter?');
      expect(payload.data.options).toEqual(['comma', 'semicolon']);
    });

    it('keeps pending deliveries across a restart of the server', async () => {
      const project = await services.projects.create({ name: 'hooks-c', repo_url: repo });
      await call('PUT', `/projects/${project.id}/webhooks`, {
        webhooks: [{ url: receiver.url('/restart'), secret: SECRET }],
      });
      await server.close();
      // A slow retry from here on, so the server is surely closed before the retry is due.
      // Appended while no server runs: the next one finds it through the cursor.
      const { ticket } = await ticketIn(project.id);
      await services.events.append({
        type: 'ticket.status_changed',
        projectId: project.id,
        ticketId: ticket.id,
        data: { from: 'analyzing', to: 'awaiting_approval' },
      });
      expect(receiver.at('/restart')).toHaveLength(0);
      server = await startServer(config('1500'), { services });
      await eventually(async () => receiver.at('/restart').length === 1, 'the webhook delivery');
      expect(receiver.at('/restart')[0]!.headers['omoi-event']).toBe('ticket.needs_input');
      expect(receiver.at('/restart')[0]!.verified).toBe(true);

      // A delivery whose first attempt failed is still owed after a restart.
      receiver.failNext('/restart', 1);
      await services.events.append({
        type: 'ticket.status_changed',
        projectId: project.id,
        ticketId: ticket.id,
        data: { from: 'testing', to: 'done' },
      });
      await eventually(async () => receiver.at('/restart').length === 2, 'the failing first attempt');
      await server.close();
      const owed = await database.db.query<{ status: string; attempts: number }>(
        `SELECT status, attempts FROM webhook_deliveries WHERE project_id = $1 AND event = 'ticket.done'`,
        [project.id],
      );
      expect(owed).toEqual([{ status: 'pending', attempts: 1 }]);
      server = await startServer(config(), { services });
      await eventually(async () => receiver.at('/restart').length === 3, 'the retry after the restart');
      expect(receiver.at('/restart')[2]!.headers['omoi-delivery']).toBe(
        receiver.at('/restart')[1]!.headers['omoi-delivery'],
      );
    });

    it('refuses loopback, private and link-local targets unless the operator allows them', async () => {
      const strict = await startServer(
        loadServerConfig({ OMOI_WEBHOOK_RETRY_BASE_MS: '100' }, { port: 0, host: '127.0.0.1', webDir: null }),
        {
          services,
        },
      );
      try {
        const project = await services.projects.create({ name: 'hooks-d', repo_url: repo });
        for (const url of [
          receiver.url('/x'),
          'http://localhost:9/x',
          'http://[::1]:9/x',
          'http://10.1.2.3/x',
          'http://169.254.169.254/latest/meta-data',
          'http://[::ffff:127.0.0.1]/x',
          'http://[fe80::1]/x',
          'ftp://example.com/x',
        ]) {
          const res = await call(
            'PUT',
            `/projects/${project.id}/webhooks`,
            { webhooks: [{ url, secret: SECRET }] },
            strict.url,
          );
          expect(res.status, url).toBe(400);
          expect(res.body.error.code).toBe('BAD_REQUEST');
        }
        const post = await call(
          'POST',
          '/projects',
          {
            name: 'hooks-e',
            repo_url: repo,
            settings: { webhooks: [{ url: receiver.url('/y'), secret: SECRET }] },
          },
          strict.url,
        );
        expect(post.status).toBe(400);
        expect(post.body.error.message).toContain('OMOI_WEBHOOK_ALLOW_PRIVATE');

        // A target that was public when written and private now (DNS rebinding) is refused at delivery.
        await replaceWebhooks(
          services.db,
          services.credentials,
          project.id,
          [{ url: receiver.url('/rebound'), secret: SECRET }],
          {
            allowPrivate: true,
          },
        );
        await server.close(); // only the strict server's dispatcher runs
        const { ticket } = await ticketIn(project.id);
        await services.events.append({
          type: 'ticket.status_changed',
          projectId: project.id,
          ticketId: ticket.id,
          data: { from: 'building', to: 'done' },
        });
        await eventually(
          async () => (await deliveries(project.id, strict.url))[0]?.status === 'failed',
          'the webhook delivery',
        );
        const [log] = await call(
          'GET',
          `/projects/${project.id}/webhook-deliveries`,
          undefined,
          strict.url,
        ).then((r) => r.body.deliveries);
        expect(log.error).toContain('OMOI_WEBHOOK_ALLOW_PRIVATE');
        expect(log.response_code).toBeNull();
        expect(receiver.at('/rebound')).toHaveLength(0);
      } finally {
        await strict.close();
        server = await startServer(config(), { services });
      }
    });
  });
