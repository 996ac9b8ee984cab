// Findings 1 and 8 of issue 12, replayed against the real server over a real socket: a DNS-rebinding
// page (foreign Host), a cross-site form or fetch (foreign Origin, body-less POST, no JSON type), a
// reverse proxy on loopback (forwarded-for headers), OMOI_REQUIRE_KEY; and the slow-client
// timeouts of finding 9.
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/db.js';
import { type RealServer, startReal } from './security-support.js';
import { TEST_REPO, uniqueName } from './support.js';

describeEachDatabase('security: Host, Origin, proxies and OMOI_REQUIRE_KEY', (getDb) => {
  let real: RealServer;
  let ticket: string;
  let project: string;

  beforeAll(async () => {
    real = await startReal(getDb(), {
      OMOI_ALLOWED_HOSTS: 'omoi.internal, proxy.lan:8443',
      OMOI_PUBLIC_URL: 'https://omoi.example.com',
    });
    const p = await real.send('POST', '/api/v1/projects', {
      json: { name: uniqueName('sec'), repo_url: TEST_REPO },
    });
    expect(p.status).toBe(201);
    project = p.body.id;
    const t = await real.send('POST', '/api/v1/tickets', {
      json: { project_id: project, description: 'Spec this', workflow_mode: 'spec_driven' },
    });
    expect(t.status).toBe(201);
    ticket = t.body.ticket.id;
  });
  afterAll(async () => {
    await real?.close();
  });

  const approvals = async () =>
    (await real.services.events.list({ ticket_id: ticket }, 0, 1000)).filter(
      (e) => e.type === 'ticket.approved',
    ).length;

  it.each([
    ['a rebinding name with the server port', (p: number) => `evil.example:${p}`, 403],
    ['a rebinding name without a port', () => 'evil.example', 403],
    ['localhost on another port', () => 'localhost:1', 403],
    ['an empty Host', () => '', 403],
    ['garbage', () => 'a b:c:d', 400],
  ])('refuses %s in the Host header (4xx, nothing listed)', async (_name, host, status) => {
    const res = await real.send('GET', '/api/v1/projects', { headers: { host: host(real.port) } });
    // Node itself answers 400 to a Host it cannot parse; Omoi answers 403 to a name it does not own.
    expect(res.status).toBe(status);
    expect(res.text).not.toContain(project);
  });

  it.each([
    ['127.0.0.1 with its port', (p: number) => `127.0.0.1:${p}`],
    ['localhost with its port', (p: number) => `localhost:${p}`],
    ['[::1] with its port', (p: number) => `[::1]:${p}`],
    ['an OMOI_ALLOWED_HOSTS name (any port)', () => 'omoi.internal:1234'],
    ['an OMOI_ALLOWED_HOSTS name:port', () => 'proxy.lan:8443'],
    ["OMOI_PUBLIC_URL's host", () => 'omoi.example.com'],
  ])('answers %s', async (_name, host) => {
    const res = await real.send('GET', '/api/v1/projects', { headers: { host: host(real.port) } });
    expect(res.status).toBe(200);
  });

  it('refuses a name:port entry of OMOI_ALLOWED_HOSTS on another port', async () => {
    const res = await real.send('GET', '/api/v1/projects', { headers: { host: 'proxy.lan:9000' } });
    expect(res.status).toBe(403);
  });

  it('refuses a rebinding request that tries to approve (the attack of finding 8), and approves nothing', async () => {
    const res = await real.send('POST', `/api/v1/tickets/${ticket}/approve`, {
      headers: {
        host: `attacker.example:${real.port}`,
        origin: `http://attacker.example:${real.port}`,
        'content-type': 'application/json',
      },
    });
    expect(res.status).toBe(403);
    expect(await approvals()).toBe(0);
  });

  it('refuses a body-less cross-origin POST, with or without a JSON type, and approves nothing', async () => {
    const noType = await real.send('POST', `/api/v1/tickets/${ticket}/approve`, {
      headers: { origin: 'http://evil.example' },
    });
    expect(noType.status).toBe(415);
    const formType = await real.send('POST', `/api/v1/tickets/${ticket}/approve`, {
      headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=b',
    });
    expect(formType.status).toBe(415);
    const jsonType = await real.send('POST', `/api/v1/tickets/${ticket}/approve`, {
      headers: { origin: 'http://evil.example', 'content-type': 'application/json' },
    });
    expect(jsonType.status).toBe(403);
    expect(jsonType.body.error.message).toContain('origin');
    const nullOrigin = await real.send('POST', `/api/v1/tickets/${ticket}/approve`, {
      headers: { origin: 'null', 'content-type': 'application/json' },
    });
    expect(nullOrigin.status).toBe(403);
    const crossSite = await real.send('POST', `/api/v1/tickets/${ticket}/approve`, {
      headers: { 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
    });
    expect(crossSite.status).toBe(403);
    const sameSite = await real.send('POST', `/api/v1/tickets/${ticket}/approve`, {
      headers: { 'sec-fetch-site': 'same-site', 'content-type': 'application/json' },
    });
    expect(sameSite.status).toBe(403);
    expect(await approvals()).toBe(0);
  });

  it('needs a JSON type on every write, also a body-less DELETE', async () => {
    const del = await real.send('DELETE', '/api/v1/keys/00000000-0000-0000-0000-000000000000');
    expect(del.status).toBe(415);
    const delJson = await real.send('DELETE', '/api/v1/keys/00000000-0000-0000-0000-000000000000', {
      headers: { 'content-type': 'application/json' },
    });
    expect(delJson.status).toBe(404);
  });

  it("accepts the server's own origin (the web UI) and the public URL's origin", async () => {
    for (const origin of [`http://127.0.0.1:${real.port}`, 'https://omoi.example.com']) {
      const res = await real.send('POST', '/api/v1/tickets', {
        headers: { origin, 'sec-fetch-site': 'same-origin' },
        json: { project_id: project, description: 'From the web UI', workflow_mode: 'quick' },
      });
      expect(res.status).toBe(201);
    }
  });

  it.each([
    ['X-Forwarded-For', { 'x-forwarded-for': '203.0.113.9' }],
    ['Forwarded', { forwarded: 'for=203.0.113.9;proto=https' }],
    ['X-Real-IP', { 'x-real-ip': '203.0.113.9' }],
  ])('gives a request through a proxy (%s) no loopback exemption', async (_name, headers) => {
    const res = await real.send('GET', '/api/v1/projects', { headers });
    expect(res.status).toBe(401);
    const approve = await real.send('POST', `/api/v1/tickets/${ticket}/approve`, {
      headers: { ...headers, 'content-type': 'application/json' },
    });
    expect(approve.status).toBe(401);
    const key = await real.services.keys.create('proxy', { role: 'read' });
    const keyed = await real.send('GET', '/api/v1/projects', {
      headers: { ...headers, 'x-api-key': key.key },
    });
    expect(keyed.status).toBe(200);
  });
});

describeEachDatabase('security: OMOI_REQUIRE_KEY=1 on loopback', (getDb) => {
  it('refuses to start without a key, then wants one on every request', async () => {
    await expect(startReal(getDb(), { OMOI_REQUIRE_KEY: '1' })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    const real = await startReal(getDb(), {
      OMOI_REQUIRE_KEY: '1',
      OMOI_API_KEY: 'an-operator-key-of-32-characters',
    });
    try {
      const anonymous = await real.send('GET', '/api/v1/projects');
      expect(anonymous.status).toBe(401);
      const keyed = await real.send('GET', '/api/v1/projects', {
        headers: { authorization: 'Bearer an-operator-key-of-32-characters' },
      });
      expect(keyed.status).toBe(200);
      const health = await real.send('GET', '/health');
      expect(health.status).toBe(200);
    } finally {
      await real.close();
    }
  });
});

describeEachDatabase('security: slow clients are cut off', (getDb) => {
  let real: RealServer;
  beforeAll(async () => {
    real = await startReal(getDb(), { OMOI_HEADERS_TIMEOUT_MS: '500', OMOI_REQUEST_TIMEOUT_MS: '1000' });
  });
  afterAll(async () => {
    await real?.close();
  });

  /** Sends `text` and never finishes; resolves with what the server said and how long it held on. */
  const trickle = (text: string) =>
    new Promise<{ ms: number; answer: string }>((resolve, reject) => {
      const started = Date.now();
      const socket = connect(real.port, '127.0.0.1', () => socket.write(text));
      let answer = '';
      socket.on('data', (d) => {
        answer += d.toString();
      });
      socket.on('close', () => resolve({ ms: Date.now() - started, answer }));
      socket.on('error', reject);
      setTimeout(() => {
        socket.destroy();
        reject(new Error('the server kept a slow client for 8 s'));
      }, 8_000).unref();
    });

  it('closes a connection whose headers never end', async () => {
    const { ms, answer } = await trickle(
      `GET /api/v1/projects HTTP/1.1\r\nHost: 127.0.0.1:${real.port}\r\nX-Slow: `,
    );
    expect(ms).toBeLessThan(5_000);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
  });

  it('closes a connection whose body never arrives', async () => {
    const { ms, answer } = await trickle(
      `POST /api/v1/projects HTTP/1.1\r\nHost: 127.0.0.1:${real.port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":`,
    );
    expect(ms).toBeLessThan(6_000);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
  });
});
