import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allowedHosts, packageRootOf, parseSandboxSettings } from '../../src/sandbox/config.js';
import { createProvider, type ProviderContext } from '../../src/sandbox/registry.js';
import { classifyServiceFailure, serviceFailure } from '../../src/sandbox/service-failure.js';
import { workerUploads } from '../../src/sandbox/worker-files.js';
import { startFakeDockerEngine } from '../support/fakes/docker-engine.js';

const context = (settings: Record<string, unknown>): ProviderContext => ({
  dataDir: '/tmp/omoi-unused',
  omoiBin: '/opt/omoi/bin/omoi.js',
  path: process.env.PATH ?? '',
  keepOnFailure: false,
  isolation: 'auto',
  settings,
  log: () => undefined,
});

describe('sandbox settings', () => {
  it('has defaults, and names a bad value', () => {
    const settings = parseSandboxSettings({});
    expect(settings).toMatchObject({
      OMOI_SANDBOX: 'local',
      OMOI_SANDBOX_NETWORK: 'open',
      OMOI_DOCKER_IMAGE: 'omoi-worker:latest',
      OMOI_E2B_TEMPLATE: 'base',
    });
    expect(() => parseSandboxSettings({ OMOI_SANDBOX_NETWORK: 'closed' })).toThrow(
      /Invalid sandbox settings: OMOI_SANDBOX_NETWORK/,
    );
    expect(() => parseSandboxSettings({ OMOI_PUBLIC_URL: 'not a url' })).toThrow(/OMOI_PUBLIC_URL/);
    expect(parseSandboxSettings({ OMOI_SANDBOX_CPUS: '2', DAYTONA_API_KEY: '  ' })).toMatchObject({
      OMOI_SANDBOX_CPUS: 2,
      DAYTONA_API_KEY: undefined,
    });
  });

  it('allows the API host and the listed extras under api-only', () => {
    const settings = parseSandboxSettings({
      OMOI_PUBLIC_URL: 'https://omoi.example.com/',
      OMOI_SANDBOX_ALLOW_HOSTS: 'github.com, registry.npmjs.org',
    });
    expect(allowedHosts(settings)).toEqual(['omoi.example.com', 'github.com', 'registry.npmjs.org']);
    expect(packageRootOf('/opt/omoi/bin/omoi.js')).toBe('/opt/omoi');
  });

  it('refuses to upload a worker that was never built', () => {
    const empty = mkdtempSync(join(tmpdir(), 'omoi-nobundle-'));
    try {
      expect(() => workerUploads(empty)).toThrow(/worker\.bundle\.mjs is missing; run `npm run build`/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('the registry builds the remote providers from settings', () => {
  it('docker, talking to the engine named by DOCKER_HOST', async () => {
    const engine = await startFakeDockerEngine();
    try {
      const provider = await createProvider('docker', context({ DOCKER_HOST: engine.host }));
      expect(provider.name).toBe('docker');
      expect(await provider.availability()).toEqual({ available: true });
    } finally {
      await engine.close();
    }
  });

  it('daytona and e2b, unavailable with a reason when their key is missing', async () => {
    const daytona = await createProvider('daytona', context({}));
    expect(await daytona.availability()).toEqual({ available: false, reason: 'DAYTONA_API_KEY is not set' });
    const e2b = await createProvider('e2b', context({}));
    expect(await e2b.availability()).toEqual({ available: false, reason: 'E2B_API_KEY is not set' });
  });
});

describe('service failures', () => {
  it('sorts errors by status, code and words', () => {
    expect(classifyServiceFailure(Object.assign(new Error('nope'), { statusCode: 401 }))).toBe('auth');
    expect(
      classifyServiceFailure(Object.assign(new Error('Total CPU quota exceeded'), { statusCode: 403 })),
    ).toBe('quota');
    expect(classifyServiceFailure(Object.assign(new Error('slow down'), { status: 429 }))).toBe('quota');
    expect(classifyServiceFailure(new Error('Request timed out after 60000ms'))).toBe('timeout');
    expect(classifyServiceFailure(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe(
      'unreachable',
    );
    expect(classifyServiceFailure(Object.assign(new Error('gone'), { statusCode: 404 }))).toBe('not_found');
    expect(classifyServiceFailure(new Error('boom'))).toBe('service');
  });

  it('reads as one line naming the service, the step and the advice', () => {
    const error = serviceFailure(
      'E2B',
      'creating a sandbox',
      Object.assign(new Error('Invalid\n key'), { status: 401 }),
    );
    expect(error.code).toBe('SANDBOX_FAILED');
    expect(error.message).toBe(
      'E2B: creating a sandbox failed (auth: the credentials were refused; check the API key setting): Invalid key',
    );
  });
});
